// What goes over the wire: the status write is a server-side apply on /status with our field
// manager and force, and the informer survives errors and 410 Gone by relisting.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { applyStatus, FIELD_MANAGER, type Context } from '../operator/context.ts';
import { KubeClient } from './client.ts';
import { Informer, type KubeObject } from './informer.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

async function fakeApi(handler: (req: Seen, res: ServerResponse) => void): Promise<{ client: KubeClient; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(s);
      handler(s, res);
    });
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const client = await KubeClient.create({
    server: `http://127.0.0.1:${port}`,
    insecureSkipTLSVerify: false,
    headers: async () => ({ authorization: 'Bearer secret-token' }),
  });
  return { client, seen };
}

describe('status writes', () => {
  it('are server-side apply patches on /status with field manager gatehouse-operator and force', async () => {
    const { client, seen } = await fakeApi((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    await applyStatus({ client } as Context, 'ManagedUser', 'acme', 'alice', { sso: { enforced: true } });
    const req = seen[0] as Seen;
    expect(req.method).toBe('PATCH');
    const url = new URL(req.url, 'http://x');
    expect(url.pathname).toBe('/apis/sso.gatehouse.dev/v1alpha1/namespaces/acme/managedusers/alice/status');
    expect(url.searchParams.get('fieldManager')).toBe(FIELD_MANAGER);
    expect(url.searchParams.get('force')).toBe('true');
    expect(req.headers['content-type']).toBe('application/apply-patch+yaml');
    expect(req.headers.authorization).toBe('Bearer secret-token');
    expect(JSON.parse(req.body)).toEqual({
      apiVersion: 'sso.gatehouse.dev/v1alpha1',
      kind: 'ManagedUser',
      metadata: { name: 'alice', namespace: 'acme' },
      status: { sso: { enforced: true } },
    });
    await client.close();
  });
});

describe('Informer supervision', () => {
  it('relists after a failed list and after 410 Gone, and reports deletions found by the relist', async () => {
    let lists = 0;
    const obj = (name: string, rv: string) => ({ metadata: { name, namespace: 'n', resourceVersion: rv } });
    const { client } = await fakeApi((req, res) => {
      const url = new URL(req.url, 'http://x');
      if (url.searchParams.get('watch')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        if (lists === 2) {
          res.write(JSON.stringify({ type: 'ADDED', object: obj('c', '11') }) + '\n');
          res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' } }) + '\n');
        } else {
          setTimeout(() => res.end(), 5000).unref();
        }
        return;
      }
      lists++;
      if (lists === 1) return res.writeHead(500).end('{"kind":"Status","reason":"InternalError","message":"boom"}');
      const items = lists === 2 ? [obj('a', '1'), obj('b', '2')] : [obj('a', '1'), obj('c', '12')];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ metadata: { resourceVersion: String(10 + lists) }, items }));
    });
    const events: string[] = [];
    const inf = new Informer<KubeObject>(client, { group: 'g', version: 'v1', plural: 'things' }, {}, pino({ level: 'silent' }));
    inf.on((e, o) => events.push(`${e}:${o.metadata.name}`));
    inf.start();
    const deadline = Date.now() + 10_000;
    while (lists < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 50));
    expect(lists).toBe(3);
    expect(inf.hasSynced).toBe(true);
    expect([...inf.list()].map((o) => o.metadata.name).sort()).toEqual(['a', 'c']);
    expect(events).toEqual(['add:a', 'add:b', 'add:c', 'delete:b', 'resync:a', 'update:c']);
    await inf.stop();
    await client.close();
  });
});
