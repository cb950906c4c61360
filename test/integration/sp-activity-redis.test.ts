// The sign-in activity in a real Redis (Debian's redis-server): capped lists per organization
// with a 30-day expiry, read newest first, and a Redis that is down never reaching the login.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { Redis } from 'ioredis';
import { ACTIVITY_TTL_SECONDS, activityKey, RedisActivityStore } from '../../sp-server/activity/redis-store.ts';
import { ACTIVITY_ENTRIES_PER_ORGANIZATION, type ActivityEntry } from '../../sp-server/activity/store.ts';
import { redisConnection } from '../../sp-server/state/store.ts';
import { freePort } from '../controlplane/controlplane.ts';
import { RedisServer } from '../support/redis-server.ts';
import { waitFor } from '../support/wait.ts';

const FAIL_FAST = { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 250 } as const;
const entry = (n: number): ActivityEntry => ({ time: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(), outcome: 'signed-in', email: `u${n}@acme.test`, profile: 'okta', protocol: 'saml' });

describe('the Redis activity store', () => {
  let server: RedisServer;
  let redis: Redis;
  let store: RedisActivityStore;

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = redisConnection(server.url, undefined, FAIL_FAST);
    await waitFor('redis ready', async () => (redis.status === 'ready' ? true : undefined), 10_000);
    store = new RedisActivityStore(redis, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it(`keeps the newest ${ACTIVITY_ENTRIES_PER_ORGANIZATION} entries per organization, newest first, expiring 30 days after the last`, async () => {
    for (let i = 0; i < ACTIVITY_ENTRIES_PER_ORGANIZATION + 30; i++) store.record('acme', entry(i));
    store.record('globex', entry(999));
    await waitFor('entries written', async () => ((await redis.llen(activityKey('globex'))) === 1 ? true : undefined), 10_000);
    expect(await redis.llen(activityKey('acme'))).toBe(ACTIVITY_ENTRIES_PER_ORGANIZATION);
    const latest = await store.latest('acme', 3);
    expect(latest.map((e) => e.email)).toEqual([`u${ACTIVITY_ENTRIES_PER_ORGANIZATION + 29}@acme.test`, `u${ACTIVITY_ENTRIES_PER_ORGANIZATION + 28}@acme.test`, `u${ACTIVITY_ENTRIES_PER_ORGANIZATION + 27}@acme.test`]);
    expect((await store.latest('acme', 1000)).at(-1)?.email).toBe('u30@acme.test');
    const ttl = await redis.ttl(activityKey('acme'));
    expect(ttl).toBeGreaterThan(ACTIVITY_TTL_SECONDS - 60);
    expect(ttl).toBeLessThanOrEqual(ACTIVITY_TTL_SECONDS);
    expect(activityKey('acme')).toBe('gatehouse:sp:activity:acme');
    expect(await store.latest('globex', 50)).toEqual([entry(999)]);
    expect(await store.latest('initech', 50)).toEqual([]);
  });

  it('leaves out what another writer put there that is not an entry', async () => {
    await redis.lpush(activityKey('hooli'), JSON.stringify(entry(1)), 'not json', JSON.stringify({ outcome: 'owned' }));
    expect(await store.latest('hooli', 50)).toEqual([entry(1)]);
  });

  it('records without waiting and without throwing when Redis is down, logging the failure', async () => {
    const port = await freePort();
    const dead = redisConnection(`redis://127.0.0.1:${port}`, undefined, FAIL_FAST);
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    try {
      const down = new RedisActivityStore(dead, logger);
      // record() returns nothing to wait for; the failure surfaces only in the log.
      expect(down.record('acme', entry(1))).toBeUndefined();
      await waitFor('failure logged', async () => (warnings.some((w) => w.includes('sign-in activity not recorded')) ? true : undefined), 10_000);
    } finally {
      dead.disconnect();
    }
  });
});
