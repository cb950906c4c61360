// The client's calls with `http2: true` against a TLS server that speaks it (as the API server does):
// one session carries every call, retries keep their rules (a refused stream is re-sent even for
// a POST, a reset one only when safe), GOAWAY and a lost connection open a new session, and a
// server without h2 gets the same calls over HTTP/1.1.
import { execFileSync } from 'node:child_process';
import { createServer as createHttpsServer } from 'node:https';
import http2, { type Http2SecureServer, type ServerHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { applyStatus, type Context } from '../operator/context.ts';
import { expectAliceStatusWrite } from '../test/support/status-write.ts';
import { KubeApiError, KubeClient } from './client.ts';

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Handler = (req: Seen, stream: ServerHttp2Stream) => void;

let tls: { key: string; cert: string };
beforeAll(() => {
  const pem = execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '-', '-out', '-', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '2'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const key = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(pem)?.[0];
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!key || !cert) throw new Error('openssl gave no key and certificate');
  tls = { key, cert };
});

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function clientFor(port: number): Promise<KubeClient> {
  const client = await KubeClient.create({ server: `https://127.0.0.1:${port}`, ca: Buffer.from(tls.cert), insecureSkipTLSVerify: false, headers: async () => ({ authorization: 'Bearer secret-token' }) }, { http2: true });
  closers.push(() => client.close());
  return client;
}

/** An HTTP/2-only TLS server; `sessions` counts the connections it accepted. */
async function h2Api(handler: Handler): Promise<{ client: KubeClient; seen: Seen[]; server: Http2SecureServer; readonly sessions: number }> {
  const seen: Seen[] = [];
  let sessions = 0;
  const server = http2.createSecureServer({ key: tls.key, cert: tls.cert });
  server.on('session', () => sessions++);
  server.on('stream', (stream, headers) => {
    // A stream the test resets errors on this side too.
    stream.on('error', () => undefined);
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => (body += d));
    stream.on('end', () => {
      const req = { method: String(headers[':method']), path: String(headers[':path']), headers, body };
      seen.push(req);
      handler(req, stream);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  const client = await clientFor((server.address() as AddressInfo).port);
  return {
    client,
    seen,
    server,
    get sessions() {
      return sessions;
    },
  };
}

const json = (stream: ServerHttp2Stream, code: number, body: unknown, headers: Record<string, string> = {}) => {
  stream.respond({ ':status': code, 'content-type': 'application/json', ...headers });
  stream.end(JSON.stringify(body));
};

describe('calls over HTTP/2', () => {
  it('send the status write as a server-side apply on /status, every call on one session', async () => {
    const api = await h2Api((_req, stream) => json(stream, 200, { ok: true }));
    await applyStatus({ client: api.client } as Context, 'ManagedUser', 'acme', 'alice', { sso: { enforced: true } });
    const write = api.seen[0] as Seen;
    expectAliceStatusWrite({ method: write.method, url: write.path, headers: write.headers, body: write.body });

    const answers = await Promise.all(Array.from({ length: 40 }, () => api.client.call('GET', '/api/v1/namespaces')));
    expect(answers).toEqual(Array.from({ length: 40 }, () => ({ ok: true })));
    expect(api.sessions).toBe(1);
  });

  it('carry list pages larger than HTTP/2\'s default flow-control window', async () => {
    const big = { items: Array.from({ length: 3000 }, (_, i) => ({ metadata: { name: `user-${i}`, annotations: { note: 'x'.repeat(200) } } })) };
    const api = await h2Api((_req, stream) => json(stream, 200, big));
    expect(await api.client.call('GET', '/apis/sso.gatehouse.dev/v1alpha1/managedusers')).toEqual(big);
  });

  it('retry 429 after the Retry-After the server gave, and answer other errors with the Status reason', async () => {
    const api = await h2Api((req, stream) => {
      if (req.method === 'POST') return json(stream, 409, { kind: 'Status', reason: 'AlreadyExists', message: 'exists' });
      if (api.seen.length === 1) return json(stream, 429, { kind: 'Status', reason: 'TooManyRequests' }, { 'retry-after': '1' });
      json(stream, 200, { ok: true });
    });
    const started = Date.now();
    expect(await api.client.call('GET', '/api/v1/namespaces')).toEqual({ ok: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(850);
    const err = await api.client.call('POST', '/api/v1/namespaces', { body: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ code: 409, reason: 'AlreadyExists' });
    expect(api.seen).toHaveLength(3);
  });

  it('re-send a GET whose stream was reset, but never a POST', async () => {
    let calls = 0;
    const api = await h2Api((req, stream) => {
      if (calls++ % 2 === 0) return stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      json(stream, 200, { method: req.method });
    });
    expect(await api.client.call('GET', '/api/v1/namespaces')).toEqual({ method: 'GET' });
    expect(api.seen).toHaveLength(2);
    await expect(api.client.call('POST', '/api/v1/namespaces', { body: {} })).rejects.toThrow();
    expect(api.seen).toHaveLength(3);
  });

  it('re-send even a POST that the server refused unprocessed', async () => {
    let calls = 0;
    const api = await h2Api((req, stream) => {
      if (calls++ === 0) return stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      json(stream, 201, { method: req.method });
    });
    expect(await api.client.call('POST', '/api/v1/namespaces', { body: {} })).toEqual({ method: 'POST' });
    expect(api.seen).toHaveLength(2);
  });

  it('open a new session after GOAWAY and after the connection died (re-sending the GET it cut)', async () => {
    const api = await h2Api((_req, stream) => {
      if (api.seen.length === 2) return stream.session?.destroy();
      json(stream, 200, { ok: true });
      if (api.seen.length === 1) stream.session?.goaway(http2.constants.NGHTTP2_NO_ERROR);
    });
    for (let i = 0; i < 3; i++) {
      expect(await api.client.call('GET', '/api/v1/namespaces')).toEqual({ ok: true });
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(api.seen).toHaveLength(4);
    expect(api.sessions).toBe(3);
  });

  it('give up on a call the server does not answer within its timeout', async () => {
    const api = await h2Api(() => undefined);
    const err = await api.client.call('GET', '/api/v1/namespaces', { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_KUBE_REQUEST_TIMEOUT' });
    expect(api.seen).toHaveLength(1);
  });

  it('stop a call when its signal aborts', async () => {
    const api = await h2Api(() => undefined);
    const abort = new AbortController();
    const call = api.client.call('GET', '/api/v1/namespaces', { signal: abort.signal });
    setTimeout(() => abort.abort(), 50);
    await expect(call).rejects.toThrow();
    expect(api.seen).toHaveLength(1);
  });
});

describe('a TLS server without HTTP/2', () => {
  it('gets the same calls over HTTP/1.1', async () => {
    const paths: string[] = [];
    const server = createHttpsServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ version: req.httpVersion }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
    const client = await clientFor((server.address() as AddressInfo).port);
    expect(await client.call('GET', '/api/v1/namespaces')).toEqual({ version: '1.1' });
    expect(await client.call('GET', '/api/v1/namespaces', { query: { limit: 1 } })).toEqual({ version: '1.1' });
    expect(paths).toEqual(['/api/v1/namespaces', '/api/v1/namespaces?limit=1']);
  });
});
