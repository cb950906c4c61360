import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EgressRefusedError } from './address-guard.ts';
import { guardedFetch, ResponseTooLargeError } from './guarded-fetch.ts';

let server: Server;
let port = 0;
const base = { timeoutMs: 2000, maxBytes: 1024, userAgent: 'gatehouse-test' };

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/big') return res.end('x'.repeat(4096));
    if (req.url === '/redirect') return res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
    if (req.url === '/slow') return setTimeout(() => res.end('late'), 1500);
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => res.setHeader('content-type', 'application/json').end(JSON.stringify({ method: req.method, ua: req.headers['user-agent'], body })));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('guardedFetch', () => {
  it('refuses a loopback address, by literal and by a name that resolves to one', async () => {
    const f = guardedFetch({ ...base, allowPrivate: false, allowInsecure: true });
    await expect(f(`http://127.0.0.1:${port}/`)).rejects.toBeInstanceOf(EgressRefusedError);
    await expect(f(`http://localhost:${port}/`)).rejects.toThrow(/loopback, link-local or private/);
  });

  it('refuses plain http unless the installation allows it', async () => {
    const f = guardedFetch({ ...base, allowPrivate: true, allowInsecure: false });
    await expect(f(`http://127.0.0.1:${port}/`)).rejects.toThrow(/is not https/);
  });

  it('sends the request and returns the answer when allowed', async () => {
    const f = guardedFetch({ ...base, allowPrivate: true, allowInsecure: true });
    const res = await f(`http://127.0.0.1:${port}/echo`, { method: 'POST', body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(await res.json()).toEqual({ method: 'POST', ua: 'gatehouse-test', body: 'a=1' });
  });

  it('caps the body, does not follow redirects and keeps to its deadline', async () => {
    const f = guardedFetch({ ...base, timeoutMs: 500, allowPrivate: true, allowInsecure: true });
    await expect(f(`http://127.0.0.1:${port}/big`)).rejects.toBeInstanceOf(ResponseTooLargeError);
    const redirected = await f(`http://127.0.0.1:${port}/redirect`);
    expect(redirected.status).toBe(302);
    await expect(f(`http://127.0.0.1:${port}/slow`)).rejects.toThrow();
  });
});
