import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchMetadata, isPrivateAddress } from './fetcher.ts';

describe('isPrivateAddress', () => {
  it.each(['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '0.0.0.0'])('refuses %s', (a) => {
    expect(isPrivateAddress(a)).toBe(true);
  });
  it.each(['8.8.8.8', '140.82.112.3', '2606:4700::1111'])('allows %s', (a) => {
    expect(isPrivateAddress(a)).toBe(false);
  });
});

describe('fetchMetadata', () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/big') {
        res.writeHead(200);
        res.end('x'.repeat(5000));
      } else if (req.url === '/slow') {
        setTimeout(() => res.end('late'), 2000).unref();
      } else if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304).end();
      } else {
        res.writeHead(200, { etag: '"v1"' }).end('<xml/>');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    if (addr && typeof addr === 'object') base = `http://127.0.0.1:${addr.port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('refuses loopback unless allowed', async () => {
    await expect(fetchMetadata(`${base}/`, { timeoutMs: 1000, maxBytes: 1024, allowPrivate: false, allowInsecure: true })).rejects.toMatchObject({ code: 'Refused' });
    await expect(fetchMetadata(`http://localhost:${new URL(base).port}/`, { timeoutMs: 1000, maxBytes: 1024, allowPrivate: false, allowInsecure: true })).rejects.toMatchObject({ code: 'Refused' });
  });

  it('uses conditional requests, and limits size and time', async () => {
    const o = { timeoutMs: 500, maxBytes: 1024, allowPrivate: true, allowInsecure: true };
    const first = await fetchMetadata(`${base}/`, o);
    expect(first).toMatchObject({ notModified: false, body: '<xml/>', etag: '"v1"' });
    expect(await fetchMetadata(`${base}/`, { ...o, etag: '"v1"' })).toEqual({ notModified: true });
    await expect(fetchMetadata(`${base}/big`, o)).rejects.toMatchObject({ code: 'TooLarge' });
    await expect(fetchMetadata(`${base}/slow`, o)).rejects.toMatchObject({ code: 'Timeout' });
  });
});
