// What goes over the wire: the status write is a server-side apply on /status with our field
// manager and force; 429 and 503 are retried honouring Retry-After, other errors are not; a
// POST is not re-sent once it may have reached the server.
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { applyStatus, type Context } from '../operator/context.ts';
import { fakeApiServer, type FakeApiServer, type SeenRequest } from '../test/support/fake-api-server.ts';
import { expectAliceStatusWrite } from '../test/support/status-write.ts';
import { KubeApiError, KubeClient } from './client.ts';

let api: FakeApiServer | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function fakeApi(handler: (req: SeenRequest, res: ServerResponse) => void): Promise<FakeApiServer> {
  api = await fakeApiServer(handler);
  return api;
}

const json = (res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(code, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

describe('status writes', () => {
  it('are server-side apply patches on /status with field manager gatehouse-operator and force', async () => {
    const { client, seen } = await fakeApi((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    await applyStatus({ client } as Context, 'ManagedUser', 'acme', 'alice', { sso: { enforced: true } });
    expectAliceStatusWrite(seen[0] as SeenRequest);
  });
});

describe('requests', () => {
  it('keep the server URL\'s path prefix, encode the query, and send Content-Type only with a body', async () => {
    const server = await fakeApi((_req, res) => json(res, 200, { ok: true }));
    const client = await KubeClient.create({ server: `${server.client.server}/k8s/clusters/c-1/`, insecureSkipTLSVerify: false, headers: async () => ({ authorization: 'Bearer t' }) }, { userAgent: 'gatehouse-test' });
    try {
      await client.call('GET', '/api/v1/namespaces', { query: { labelSelector: 'sso.gatehouse.dev/scim=enabled,tier in (a b)', continue: 'eyJ+/=', limit: 5, fieldSelector: undefined } });
      await client.call('POST', '/api/v1/namespaces', { body: { metadata: { name: 'x' } } });
      await client.call('GET', '/api/v1/namespaces');
    } finally {
      await client.close();
    }
    const [list, post, plain] = server.seen as [SeenRequest, SeenRequest, SeenRequest];
    const url = new URL(list.url, 'http://x');
    expect(url.pathname).toBe('/k8s/clusters/c-1/api/v1/namespaces');
    expect([...url.searchParams]).toEqual([['labelSelector', 'sso.gatehouse.dev/scim=enabled,tier in (a b)'], ['continue', 'eyJ+/='], ['limit', '5']]);
    expect(plain.url).toBe('/k8s/clusters/c-1/api/v1/namespaces');
    for (const r of [list, post, plain]) expect(r.headers).toMatchObject({ authorization: 'Bearer t', accept: 'application/json', 'user-agent': 'gatehouse-test' });
    expect(list.headers['content-type']).toBeUndefined();
    expect(post.headers['content-type']).toBe('application/json');
    expect(plain.headers['content-type']).toBeUndefined();
  });
});

describe('connections', () => {
  it('reuses pooled connections for sequential calls (a TLS handshake per call is what the client avoids)', async () => {
    const server = await fakeApi((_req, res) => json(res, 200, { ok: true }));
    for (let i = 0; i < 10; i++) await server.client.call('GET', '/api/v1/namespaces');
    expect(server.seen).toHaveLength(10);
    // undici may open a second socket while the first is being returned to the pool; never one per call.
    expect(server.connections).toBeLessThanOrEqual(2);
  });
});

describe('retries', () => {
  it('retries 429 after the Retry-After the server gave, then succeeds', async () => {
    const { client, seen } = await fakeApi((_req, res) =>
      seen.length === 1 ? json(res, 429, { kind: 'Status', reason: 'TooManyRequests' }, { 'retry-after': '1' }) : json(res, 200, { ok: true }),
    );
    const started = Date.now();
    expect(await client.call('GET', '/api/v1/namespaces')).toEqual({ ok: true });
    expect(seen).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(850);
  });

  it('retries 503 with backoff and gives up after the retry budget with the API error', async () => {
    const { client, seen } = await fakeApi((_req, res) => json(res, 503, { kind: 'Status', reason: 'ServiceUnavailable', message: 'etcd' }));
    const err = await client.call('GET', '/api/v1/namespaces', { retries: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).code).toBe(503);
    expect((err as KubeApiError).reason).toBe('ServiceUnavailable');
    expect(seen).toHaveLength(3);
  });

  it('does not retry other errors', async () => {
    const { client, seen } = await fakeApi((_req, res) => json(res, 409, { kind: 'Status', reason: 'AlreadyExists' }));
    await expect(client.call('POST', '/api/v1/namespaces', { body: {} })).rejects.toMatchObject({ code: 409, reason: 'AlreadyExists' });
    expect(seen).toHaveLength(1);
  });

  it('re-sends a GET whose connection was cut, but never a POST', async () => {
    let cut = 0;
    const { client, seen } = await fakeApi((req, res) => {
      if (cut++ % 2 === 0) return res.socket?.destroy();
      json(res, 200, { method: req.method });
    });
    expect(await client.call('GET', '/api/v1/namespaces')).toEqual({ method: 'GET' });
    expect(seen).toHaveLength(2);
    await expect(client.call('POST', '/api/v1/namespaces', { body: {} })).rejects.toThrow();
    expect(seen).toHaveLength(3);
  });
});

