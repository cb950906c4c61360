// The rate limits through buildApp and app.inject: 429 with Retry-After in each surface's shape,
// keys kept apart (one address or organization does not use up another's), the client address
// taken from the socket unless the peer is a trusted proxy, and limits that hold while Redis fails.
import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeApiServer, type FakeApiServer } from '../../test/support/fake-api-server.ts';
import { testProfile } from '../../test/support/saml-fixtures.ts';
import { acmeConfig, APP_CLIENT, user } from '../../test/support/sp-app.ts';
import { buildApp, type AppOptions } from '../app.ts';
import { ConfigStore } from '../config/store.ts';
import type { AppContext } from '../context.ts';
import { sha256b64url } from '../http-util.ts';
import { createMetrics } from '../metrics.ts';
import { generateSigningKeys } from '../oauth/keys.ts';
import { MemoryStore } from '../state/store.ts';
import { StaticUserDirectory } from '../users/directory.ts';
import { MemoryCounters } from './counters.ts';
import { installRateLimits } from './rate-limits.ts';
import { resolveRateLimits, type RateLimitsInput } from './settings.ts';

const BASE = 'http://sp.test';
const X = '203.0.113.10';
const Y = '203.0.113.20';
const PKCE = 'c'.repeat(43);
const SCIM_ACME = 'scim-token-of-acme-0123456789';
const SCIM_GLOBEX = 'scim-token-of-globex-0123456789';
const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex');
const globex = {
  namespace: 'globex',
  verifiedDomains: ['globex.test'],
  scim: { tokenSHA256: [sha256hex(SCIM_GLOBEX)] },
  profiles: [testProfile({ domains: ['globex.test'], sp: { ...testProfile().sp, entityID: `${BASE}/saml/globex/okta`, acsURL: `${BASE}/saml/globex/okta/acs`, metadataURL: `${BASE}/saml/globex/okta/metadata` } })],
};

let api: FakeApiServer;
beforeAll(async () => {
  api = await fakeApiServer((_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{"kind":"Status","code":404}'));
});
afterAll(() => api?.close());

async function appWith(rateLimits: RateLimitsInput, extra: Partial<AppOptions> = {}): Promise<{ app: FastifyInstance; store: MemoryStore }> {
  const metrics = createMetrics();
  const config = new ConfigStore(pino({ level: 'silent' }), metrics);
  const rendered = acmeConfig(BASE, {}, [globex]);
  rendered.organizations.find((o) => o.namespace === 'acme')!.scim = { tokenSHA256: [sha256hex(SCIM_ACME)] };
  config.apply(rendered);
  const store = new MemoryStore();
  const app = await buildApp({
    publicURL: BASE,
    config,
    users: new StaticUserDirectory([user('acme', 'alice@acme.test'), user('globex', 'dave@globex.test')]),
    clients: [APP_CLIENT],
    signingKeys: await generateSigningKeys(),
    store,
    metrics,
    kube: api.client,
    scim: true,
    rateLimits,
    ...extra,
  });
  return { app, store };
}

const authorize = (email: string, remoteAddress = X, headers: Record<string, string> = {}): InjectOptions => ({
  method: 'GET',
  url: `/authorize?${new URLSearchParams({ client_id: APP_CLIENT.client_id, redirect_uri: APP_CLIENT.redirect_uris[0] as string, response_type: 'code', scope: 'openid email', code_challenge: PKCE, code_challenge_method: 'S256', login_hint: email })}`,
  remoteAddress,
  headers,
});
const acs = (org: string, remoteAddress = X): InjectOptions => ({ method: 'POST', url: `/saml/${org}/okta/acs`, remoteAddress, payload: 'SAMLResponse=', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
const loginMethods = (email: string, remoteAddress = X): InjectOptions => ({ method: 'GET', url: `/api/v1/login-methods?client_id=${APP_CLIENT.client_id}&email=${encodeURIComponent(email)}`, remoteAddress });
const token = (code: string, remoteAddress = X): InjectOptions => ({
  method: 'POST',
  url: '/token',
  remoteAddress,
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  payload: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: APP_CLIENT.client_id, redirect_uri: APP_CLIENT.redirect_uris[0] as string, code_verifier: PKCE }).toString(),
});
const scim = (org: string, bearer: string, remoteAddress = X): InjectOptions => ({ method: 'GET', url: `/scim/v2/${org}/ServiceProviderConfig`, remoteAddress, headers: { authorization: `Bearer ${bearer}` } });

async function statuses(app: FastifyInstance, requests: InjectOptions[]): Promise<number[]> {
  const out: number[] = [];
  for (const r of requests) out.push((await app.inject(r)).statusCode);
  return out;
}

function expectRetryAfter(res: { headers: Record<string, unknown> }, windowSeconds: number): void {
  const seconds = Number(res.headers['retry-after']);
  expect(seconds).toBeGreaterThanOrEqual(1);
  expect(seconds).toBeLessThanOrEqual(windowSeconds);
}

describe('rate limits per client address', () => {
  it('answers /authorize over the limit with the RATE_LIMITED page and Retry-After, for that address only', async () => {
    const { app } = await appWith({ windowSeconds: 30, authorize: { perIP: 3 } });
    expect(await statuses(app, [1, 2, 3].map(() => authorize('nobody@unknown.test')))).toEqual([400, 400, 400]);
    const over = await app.inject(authorize('nobody@unknown.test'));
    expect(over.statusCode).toBe(429);
    expect(over.headers['content-type']).toMatch(/^text\/html/);
    expect(over.body).toContain('RATE_LIMITED');
    expectRetryAfter(over, 30);
    expect((await app.inject(authorize('nobody@unknown.test', Y))).statusCode).toBe(400);
    await app.close();
  });

  it('answers the ACS over the limit with a page, login-methods and /token in OAuth JSON, SCIM in its error schema', async () => {
    const { app } = await appWith({ acs: { perIP: 2 }, loginMethods: { perIP: 2 }, token: { perIP: 2 }, scim: { perToken: 2 } });
    await statuses(app, [acs('acme'), acs('acme')]);
    const acsOver = await app.inject(acs('acme'));
    expect(acsOver.statusCode).toBe(429);
    expect(acsOver.body).toContain('RATE_LIMITED');
    expectRetryAfter(acsOver, 60);

    await statuses(app, [loginMethods('a@acme.test'), loginMethods('a@acme.test')]);
    const methodsOver = await app.inject(loginMethods('a@acme.test'));
    expect(methodsOver.statusCode).toBe(429);
    expect(methodsOver.json()).toMatchObject({ error: 'temporarily_unavailable', error_description: expect.stringContaining('retry') });
    expectRetryAfter(methodsOver, 60);

    await statuses(app, [token('a'), token('b')]);
    const tokenOver = await app.inject(token('c'));
    expect(tokenOver.statusCode).toBe(429);
    expect(tokenOver.json()).toMatchObject({ error: 'temporarily_unavailable' });
    expectRetryAfter(tokenOver, 60);

    // Requests without the token are refused by SCIM before they are counted.
    expect(await statuses(app, [1, 2, 3].map(() => scim('acme', 'not-the-token-0123456789')))).toEqual([401, 401, 401]);
    expect(await statuses(app, [scim('acme', SCIM_ACME), scim('acme', SCIM_ACME)])).toEqual([200, 200]);
    const scimOver = await app.inject(scim('acme', SCIM_ACME));
    expect(scimOver.statusCode).toBe(429);
    expect(scimOver.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(scimOver.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '429' });
    expectRetryAfter(scimOver, 60);
    // Another organization's token is counted on its own.
    expect((await app.inject(scim('globex', SCIM_GLOBEX))).statusCode).toBe(200);
    await app.close();
  });

  it('keys on the socket address: X-Forwarded-For from a peer that is not a trusted proxy changes nothing', async () => {
    const { app } = await appWith({ authorize: { perIP: 2 } });
    const forged = await statuses(app, ['198.51.100.1', '198.51.100.2', '198.51.100.3'].map((xff) => authorize('nobody@unknown.test', X, { 'x-forwarded-for': xff })));
    expect(forged).toEqual([400, 400, 429]);
    await app.close();
  });

  it('keys on the forwarded client when the peer is a trusted proxy', async () => {
    const { app } = await appWith({ authorize: { perIP: 2 } }, { trustedProxies: [X] });
    const viaProxy = await statuses(app, ['198.51.100.1', '198.51.100.2', '198.51.100.3'].map((xff) => authorize('nobody@unknown.test', X, { 'x-forwarded-for': xff })));
    expect(viaProxy).toEqual([400, 400, 400]);
    await app.close();
  });
});

describe('rate limits per organization', () => {
  it('/authorize: acme\'s addresses hammering do not limit globex', async () => {
    const { app } = await appWith({ authorize: { perOrganization: 3 }, pendingLogins: { perIP: 1000 } });
    const acme = await statuses(app, ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map((ip) => authorize('alice@acme.test', ip)));
    expect(acme).toEqual([302, 302, 302, 429]);
    expect((await app.inject(authorize('dave@globex.test', '10.0.0.5'))).statusCode).toBe(302);
    await app.close();
  });

  it('the ACS: keyed by the route\'s organization', async () => {
    const { app } = await appWith({ acs: { perOrganization: 2 } });
    expect(await statuses(app, [acs('acme', '10.0.0.1'), acs('acme', '10.0.0.2'), acs('acme', '10.0.0.3')])).toEqual([400, 400, 429]);
    expect((await app.inject(acs('globex', '10.0.0.4'))).statusCode).toBe(400);
    await app.close();
  });

  it('login-methods: keyed by the organization of the email\'s domain', async () => {
    const { app } = await appWith({ loginMethods: { perOrganization: 2 } });
    expect(await statuses(app, ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((ip) => loginMethods('someone@acme.test', ip)))).toEqual([200, 200, 429]);
    expect((await app.inject(loginMethods('someone@globex.test', '10.0.0.4'))).statusCode).toBe(200);
    await app.close();
  });

  it('/token: keyed by the organization the code was issued for', async () => {
    const { app, store } = await appWith({ token: { perOrganization: 2 } });
    const issue = async (code: string, org: string) => store.put(`code:${sha256b64url(code)}`, JSON.stringify({ org, clientId: 'console' }), 60_000);
    for (const c of ['a1', 'a2', 'a3']) await issue(c, 'acme');
    await issue('g1', 'globex');
    const acme = await statuses(app, [token('a1', '10.0.0.1'), token('a2', '10.0.0.2'), token('a3', '10.0.0.3')]);
    expect(acme.slice(0, 2)).not.toContain(429);
    expect(acme[2]).toBe(429);
    expect((await app.inject(token('g1', '10.0.0.4'))).statusCode).not.toBe(429);
    await app.close();
  });
});

describe('rate limits while Redis fails', () => {
  it('neither lift the limits nor refuse everyone: each replica counts on its own', async () => {
    // Nothing listens on port 1: every command fails at once.
    const redis = new Redis('redis://127.0.0.1:1', { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true });
    redis.on('error', () => {});
    const { app } = await appWith({ loginMethods: { perIP: 2 } }, { limitsRedis: redis });
    expect(await statuses(app, [loginMethods('a@acme.test'), loginMethods('a@acme.test'), loginMethods('a@acme.test')])).toEqual([200, 200, 429]);
    expect((await app.inject(loginMethods('a@acme.test', Y))).statusCode).toBe(200);
    await app.close();
    redis.disconnect();
  });
});

describe('the pending-login caps', () => {
  it('refuse a client\'s login starts over its cap with TOO_MANY_PENDING_LOGINS and Retry-After, not another client\'s', async () => {
    const { app, store } = await appWith({ pendingLogins: { perIP: 2 } });
    expect(await statuses(app, [authorize('alice@acme.test'), authorize('alice@acme.test')])).toEqual([302, 302]);
    const entries = store.size;
    const over = await app.inject(authorize('alice@acme.test'));
    expect(over.statusCode).toBe(429);
    expect(over.body).toContain('TOO_MANY_PENDING_LOGINS');
    expectRetryAfter(over, 600);
    expect(store.size).toBe(entries);
    expect((await app.inject(authorize('alice@acme.test', Y))).statusCode).toBe(302);
    await app.close();
  });

  it('refuse any client\'s login start over the global cap', async () => {
    const { app } = await appWith({ pendingLogins: { global: 3 } });
    expect(await statuses(app, ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map((ip) => authorize('alice@acme.test', ip)))).toEqual([302, 302, 302, 429]);
    await app.close();
  });
});

describe('SCIM counters', () => {
  it('are named by a hash of the bearer token, never the token', async () => {
    const seen: string[] = [];
    const counters = new MemoryCounters();
    const spy = { incr: (key: string, windowMs: number) => (seen.push(key), counters.incr(key, windowMs)) };
    const bare = Fastify();
    await installRateLimits(bare, { metrics: createMetrics() } as AppContext, resolveRateLimits({}), spy);
    bare.get('/scim/v2/acme/Users', async () => ({}));
    await bare.inject({ method: 'GET', url: '/scim/v2/acme/Users', headers: { authorization: `Bearer ${SCIM_ACME}` } });
    expect(seen).toEqual([`scim-token:${sha256b64url(SCIM_ACME)}`]);
    await bare.close();
  });
});
