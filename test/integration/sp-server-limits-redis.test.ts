// The limits on a real Redis: two sp-server instances count against one shared counter and one
// pending-login cap; every key the sp-server writes in a login carries a TTL; and a Redis outage
// neither lifts the limits nor takes login-methods down.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { freePort } from '../controlplane/controlplane.ts';
import { browserGet, browserPostForm, buildAuthorize, CookieJar, discoverClient, readAuthnRequest, redeem } from '../support/login-driver.ts';
import { RedisServer } from '../support/redis-server.ts';
import { buildResponse } from '../support/saml-fixtures.ts';
import { APP_CLIENT, startTestApp, type TestApp, type TestAppOptions } from '../support/sp-app.ts';
import { REDIS_KEY_PREFIX, redisConnection, RedisStore } from '../../sp-server/state/store.ts';

const REDIRECT = APP_CLIENT.redirect_uris[0] as string;

describe('limits in Redis', () => {
  let redis: RedisServer;
  const apps: TestApp[] = [];
  const connections: Redis[] = [];

  beforeEach(async () => {
    redis = await RedisServer.start();
  });
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close();
    for (const c of connections.splice(0)) c.disconnect();
    await redis.stop();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  /** An sp-server instance on the shared Redis, as main.ts wires one. */
  async function instance(o: TestAppOptions): Promise<TestApp> {
    const limitsRedis = redisConnection(redis.url, undefined, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 250 });
    await new Promise<void>((resolve) => limitsRedis.once('ready', () => resolve()));
    const store = new RedisStore(redis.url);
    connections.push(limitsRedis);
    const app = await startTestApp({ ...o, store, limitsRedis });
    apps.push(app);
    return app;
  }

  const loginMethods = (a: TestApp, email = 'someone@acme.test') => fetch(`${a.base}/api/v1/login-methods?client_id=${APP_CLIENT.client_id}&email=${encodeURIComponent(email)}`);

  it('two instances share one counter, and one pending-login cap', async () => {
    const limits = { loginMethods: { perIP: 3 }, pendingLogins: { perIP: 2 } };
    const [a, b] = [await instance({ rateLimits: limits }), await instance({ rateLimits: limits })];
    const seen = [];
    for (const app of [a, b, a, b]) seen.push((await loginMethods(app)).status);
    expect(seen).toEqual([200, 200, 200, 429]);

    const client = await discoverClient(a.base, 'console', REDIRECT);
    const starts = [];
    for (const app of [a, b, a]) {
      const started = await buildAuthorize(client, 'alice@acme.test');
      starts.push((await browserGet(started.authorizeURL.toString().replace(a.base, app.base), new CookieJar())).status);
    }
    expect(starts).toEqual([302, 302, 429]);
  });

  it('every key a login writes has a TTL', async () => {
    const port = await freePort();
    const a = await instance({ port });
    const client = await discoverClient(a.base, 'console', REDIRECT);
    const jar = new CookieJar();
    expect((await loginMethods(a, 'alice@acme.test')).status).toBe(200);
    const started = await buildAuthorize(client, 'alice@acme.test');
    const res = await browserGet(started.authorizeURL, jar);
    expect(res.status).toBe(302);
    const { id } = readAuthnRequest(res.headers.get('location') as string);
    const acs = `${a.base}/saml/acme/okta/acs`;
    const saml = await buildResponse({ inResponseTo: id, destination: acs, recipient: acs, audience: `${a.base}/saml/acme/okta` });
    const posted = await browserPostForm(acs, { SAMLResponse: saml.base64 }, jar);
    expect(posted.status).toBe(303);
    // A second login left pending, so an AuthnRequest is among the keys too.
    expect((await browserGet((await buildAuthorize(client, 'alice@acme.test')).authorizeURL, new CookieJar())).status).toBe(302);
    // The code is in Redis until redeemed: look before and after.
    const inspect = new Redis(redis.url);
    try {
      const before = await inspect.keys('*');
      expect(before.some((k) => k.startsWith(`${REDIS_KEY_PREFIX}code:`))).toBe(true);
      await redeem(client, posted.headers.get('location') as string, started);
      const keys = await inspect.keys('*');
      const kinds = new Set(keys.map((k) => k.slice(REDIS_KEY_PREFIX.length).split(':')[0]));
      expect([...kinds].sort()).toEqual(['authn', 'pending', 'replay', 'rl']);
      for (const key of [...new Set([...before, ...keys])]) {
        expect(key.startsWith(REDIS_KEY_PREFIX), key).toBe(true);
        const ttl = await inspect.pttl(key);
        // -2: gone meanwhile (the redeemed code); anything else must be a positive TTL.
        if (ttl !== -2) expect(ttl, key).toBeGreaterThan(0);
      }
    } finally {
      inspect.disconnect();
    }
  });

  it('while Redis is down, each instance still limits on its own and login-methods keeps answering', async () => {
    const a = await instance({ rateLimits: { loginMethods: { perIP: 2 } } });
    expect((await loginMethods(a)).status).toBe(200);
    await redis.stop();
    const seen = [];
    for (let i = 0; i < 3; i++) seen.push((await loginMethods(a)).status);
    // The request counted in Redis before the outage is not known to the replica's own counter.
    expect(seen).toEqual([200, 200, 429]);
  });
});
