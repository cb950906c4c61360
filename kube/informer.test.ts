// The informer's supervision: a failed list and a 410 Gone relist, a broken watch resumes from
// the last resourceVersion without a relist, a collection that cannot be listed is not healthy.
import type { ServerResponse } from 'node:http';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeApiServer, type FakeApiServer, type SeenRequest } from '../test/support/fake-api-server.ts';
import { Informer, type KubeObject } from './informer.ts';

let api: FakeApiServer | undefined;
const informers: Informer<KubeObject>[] = [];
afterEach(async () => {
  for (const i of informers.splice(0)) await i.stop();
  await api?.close();
  api = undefined;
});

async function fakeApi(handler: (req: SeenRequest, res: ServerResponse) => void): Promise<FakeApiServer> {
  api = await fakeApiServer(handler);
  return api;
}

const silent = pino({ level: 'silent' });
const ref = { group: 'g', version: 'v1', plural: 'things' };

function informer(client: FakeApiServer['client']): Informer<KubeObject> {
  const inf = new Informer<KubeObject>(client, ref, {}, silent);
  informers.push(inf);
  return inf;
}

async function until(what: string, fn: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

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
    const inf = informer(client);
    inf.on((e, o) => events.push(`${e}:${o.metadata.name}`));
    inf.start();
    const deadline = Date.now() + 10_000;
    while (lists < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 50));
    expect(lists).toBe(3);
    expect(inf.hasSynced).toBe(true);
    expect([...inf.list()].map((o) => o.metadata.name).sort()).toEqual(['a', 'c']);
    expect(events).toEqual(['add:a', 'add:b', 'add:c', 'delete:b', 'resync:a', 'update:c']);
  });
});

describe('Informer watch resumption', () => {
  const obj = (name: string, rv: string) => ({ metadata: { name, namespace: 'n', resourceVersion: rv } });

  it('resumes a broken watch from the last resourceVersion, without a relist', async () => {
    let watches = 0;
    const { client, seen } = await fakeApi((req, res) => {
      const url = new URL(req.url, 'http://x');
      if (!url.searchParams.get('watch')) {
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ metadata: { resourceVersion: '1' }, items: [obj('a', '1')] }));
      }
      watches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      if (watches === 1) {
        // One event, then the connection dies mid-stream.
        res.write(JSON.stringify({ type: 'ADDED', object: obj('b', '2') }) + '\n');
        setTimeout(() => res.socket?.destroy(), 20);
      } else if (watches === 2) {
        res.write(JSON.stringify({ type: 'ADDED', object: obj('c', '5') }) + '\n');
      }
    });
    const inf = informer(client);
    inf.start();
    await until('three objects', () => inf.size === 3);
    expect([...inf.list()].map((o) => o.metadata.name).sort()).toEqual(['a', 'b', 'c']);
    expect(inf.restarts).toBe(1);
    expect(inf.healthy).toBe(true);
    const lists = seen.filter((r) => !new URL(r.url, 'http://x').searchParams.get('watch'));
    expect(lists).toHaveLength(1);
    const secondWatch = seen.filter((r) => new URL(r.url, 'http://x').searchParams.get('watch'))[1];
    expect(new URL(secondWatch?.url ?? '', 'http://x').searchParams.get('resourceVersion')).toBe('2');
  });

  it('is not synced while the collection cannot be listed, and says why', async () => {
    const { client } = await fakeApi((_req, res) => res.writeHead(403, { 'content-type': 'application/json' }).end('{"kind":"Status","reason":"Forbidden","message":"no"}'));
    const inf = informer(client);
    inf.start();
    expect(await inf.waitForSync(300)).toBe(false);
    expect(inf.healthy).toBe(false);
    expect(inf.lastError).toContain('403');
  });

  it('serves an object this process just wrote before its watch event arrives', async () => {
    const { client } = await fakeApi((req, res) => {
      if (new URL(req.url, 'http://x').searchParams.get('watch')) return res.writeHead(200, { 'content-type': 'application/json' });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ metadata: { resourceVersion: '1' }, items: [] }));
    });
    const inf = informer(client);
    const events: string[] = [];
    inf.on((e, o) => events.push(`${e}:${o.metadata.name}`));
    inf.start();
    expect(await inf.waitForSync(5000)).toBe(true);
    inf.upsert(obj('jit', '7'));
    expect(inf.get('n', 'jit')?.metadata.resourceVersion).toBe('7');
    expect(events).toEqual(['add:jit']);
  });
});

describe('Informer transform', () => {
  it('caches only what the transform keeps, for listed and watched objects, and a relist keeps the copy of an unchanged object', async () => {
    const obj = (name: string, rv: string) => ({ metadata: { name, namespace: 'n', resourceVersion: rv, labels: { big: 'x'.repeat(100) } } });
    let lists = 0;
    let sentB = false;
    const { client } = await fakeApi((req, res) => {
      if (new URL(req.url, 'http://x').searchParams.get('watch')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        if (!sentB) {
          sentB = true;
          res.end(JSON.stringify({ type: 'ADDED', object: obj('b', '2') }) + '\n');
        } else if (lists === 1) res.end();
        else setTimeout(() => res.end(), 5000).unref();
        return;
      }
      lists++;
      // Watches end at once; the informer relists once resyncMs has passed.
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ metadata: { resourceVersion: String(lists) }, items: lists === 1 ? [obj('a', '1')] : [obj('a', '1'), obj('b', '3')] }));
    });
    const transformed: string[] = [];
    const inf = new Informer<KubeObject>(client, ref, {
      transform: (o) => {
        transformed.push(`${o.metadata.name}@${o.metadata.resourceVersion}`);
        return { metadata: { name: o.metadata.name, namespace: o.metadata.namespace, resourceVersion: o.metadata.resourceVersion } };
      },
      resyncMs: 300,
    }, silent);
    informers.push(inf);
    const seen: KubeObject[] = [];
    inf.on((_e, o) => seen.push(o));
    inf.start();
    await until('the relist with b at 3', () => inf.get('n', 'b')?.metadata.resourceVersion === '3');
    const firstA = seen.find((o) => o.metadata.name === 'a');
    expect(inf.get('n', 'a')).toBe(firstA);
    expect(seen.every((o) => o.metadata.labels === undefined)).toBe(true);
    expect(transformed).toEqual(['a@1', 'b@2', 'b@3']);
  });
});
