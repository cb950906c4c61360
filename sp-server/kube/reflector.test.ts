import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { KubeClient, KubeResponse, WatchEvent } from './client.ts';
import { Reflector, type KubeObject } from './reflector.ts';

const obj = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });

/** A scripted API server: each list and each watch call takes the next step. */
function fakeClient(lists: Array<{ items: KubeObject[]; rv: string }>, watches: Array<(emit: (e: WatchEvent) => void, signal: AbortSignal) => Promise<void>>) {
  const calls: string[] = [];
  const client = {
    async request(method: string, path: string): Promise<KubeResponse> {
      calls.push(`${method} ${path}`);
      const l = lists.shift();
      if (!l) return { status: 500, body: undefined, text: 'no more lists' };
      return { status: 200, body: { items: l.items, metadata: { resourceVersion: l.rv } }, text: '' };
    },
    async watch(path: string, onEvent: (e: WatchEvent) => void, signal: AbortSignal): Promise<void> {
      calls.push(`WATCH ${path}`);
      const w = watches.shift();
      if (!w) return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      return w(onEvent, signal);
    },
  };
  return { client: client as unknown as KubeClient, calls };
}

async function until(fn: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('Reflector', () => {
  it('resumes the watch from the last resourceVersion after any failure, without a relist', async () => {
    const { client, calls } = fakeClient(
      [{ items: [obj('a', '1')], rv: '1' }],
      [
        async (emit) => {
          emit({ type: 'ADDED', object: obj('b', '2') as WatchEvent['object'] });
          throw new Error('connection reset by peer');
        },
        async (emit, signal) => {
          emit({ type: 'ADDED', object: obj('c', '5') as WatchEvent['object'] });
          await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
        },
      ],
    );
    const r = new Reflector<KubeObject>({ client, path: '/apis/x/v1/things', logger: pino({ level: 'silent' }) });
    r.start();
    await until(() => r.size === 3);
    expect([...r.values()].map((o) => o.metadata.name).sort()).toEqual(['a', 'b', 'c']);
    expect(r.restarts).toBe(1);
    expect(r.healthy).toBe(true);
    expect(calls.filter((c) => c.startsWith('GET'))).toHaveLength(1);
    expect(calls.filter((c) => c.startsWith('WATCH'))[1]).toContain('resourceVersion=2');
    await r.close();
  });

  it('relists on 410 Gone and applies deletions', async () => {
    const { client } = fakeClient(
      [
        { items: [obj('a', '1'), obj('b', '1')], rv: '1' },
        { items: [obj('b', '9')], rv: '9' },
      ],
      [
        async (emit) => {
          emit({ type: 'ERROR', object: { code: 410 } });
        },
      ],
    );
    const deleted: string[] = [];
    const r = new Reflector<KubeObject>({ client, path: '/apis/x/v1/things', logger: pino({ level: 'silent' }), onReset: () => deleted.push('*') });
    r.start();
    await until(() => r.size === 1);
    expect([...r.values()][0]?.metadata.resourceVersion).toBe('9');
    expect(deleted).toEqual(['*', '*']);
    await r.close();
  });

  it('is unhealthy while it cannot list', async () => {
    const { client } = fakeClient([], []);
    const r = new Reflector<KubeObject>({ client, path: '/apis/x/v1/things', logger: pino({ level: 'silent' }) });
    r.start();
    expect(await r.waitForSync(300)).toBe(false);
    expect(r.healthy).toBe(false);
    expect(r.error).toContain('500');
    await r.close();
  });
});
