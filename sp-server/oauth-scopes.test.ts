// The OIDC facade grants the least that works, on a real listening server with openid-client as
// the application: claims by scope, the granted scope reported, RS256 and ES256 ID tokens per
// client verified against the JWKS, and login-methods only for the application's clients.
import { createHash } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { buildApp } from './app.ts';
import { ConfigStore } from './config/store.ts';
import { createMetrics } from './metrics.ts';
import { oauthClient } from './oauth/clients.ts';
import { generateSigningKeys, signingKeys } from './oauth/keys.ts';
import { MemoryStore } from './state/store.ts';
import { StaticUserDirectory } from './users/directory.ts';
import { buildResponse } from '../test/support/saml-fixtures.ts';
import { acmeConfig, APP_CLIENT, startTestApp, user, type TestApp } from '../test/support/sp-app.ts';
import { browserGet, browserPostForm, buildAuthorize, CookieJar, discoverClient, fetchLoginMethods, readAuthnRequest, redeem, type AppClient } from '../test/support/login-driver.ts';

const ES_REDIRECT = 'http://127.0.0.1:2/callback';
const NARROW_REDIRECT = 'http://127.0.0.1:3/callback';
const BACKEND_SECRET = 'backend-secret-0123456789';

describe('the OIDC facade', () => {
  let t: TestApp;
  let console_: AppClient;
  beforeAll(async () => {
    t = await startTestApp({
      users: [user('acme', 'alice@acme.test', { roles: ['admin'], displayName: 'Alice Example' })],
      clients: [
        { client_id: 'es-app', redirect_uris: [ES_REDIRECT], id_token_signed_response_alg: 'ES256' },
        { client_id: 'narrow', redirect_uris: [NARROW_REDIRECT], allowed_scopes: ['openid', 'email'] },
        { client_id: 'backend', redirect_uris: ['http://127.0.0.1:4/callback'], client_secret_sha256: createHash('sha256').update(BACKEND_SECRET).digest('hex') },
      ],
    });
    console_ = await discoverClient(t.base, 'console', APP_CLIENT.redirect_uris[0] as string);
  });
  afterAll(() => t.close());

  async function login(app: AppClient, scope: string) {
    const jar = new CookieJar();
    const started = await buildAuthorize(app, 'alice@acme.test', scope);
    const res = await browserGet(started.authorizeURL, jar);
    expect(res.status, await res.clone().text()).toBe(302);
    const acs = `${t.base}/saml/acme/okta/acs`;
    const saml = await buildResponse({ inResponseTo: readAuthnRequest(res.headers.get('location') as string).id, destination: acs, recipient: acs, audience: `${t.base}/saml/acme/okta`, nameID: 'alice@acme.test' });
    const callback = await browserPostForm(acs, { SAMLResponse: saml.base64 }, jar);
    expect(callback.status).toBe(303);
    return redeem(app, callback.headers.get('location') as string, started);
  }

  const userinfo = async (accessToken: string) => (await fetch(`${t.base}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } })).json() as Promise<Record<string, unknown>>;
  const USER_CLAIMS = ['email', 'email_verified', 'name', 'org', 'roles'];
  const userClaimsOf = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k]) => USER_CLAIMS.includes(k)));

  it.each([
    ['openid', {}],
    ['openid email', { email: 'alice@acme.test', email_verified: true }],
    ['openid profile', { name: 'Alice Example' }],
    ['openid organization', { org: 'acme', roles: ['admin'] }],
    ['openid email profile organization', { email: 'alice@acme.test', email_verified: true, name: 'Alice Example', org: 'acme', roles: ['admin'] }],
  ])('releases for scope "%s" exactly its claims, in the ID token and at userinfo, and reports the scope', async (scope, claims) => {
    const { tokens, claims: idToken } = await login(console_, scope);
    expect(tokens.scope).toBe(scope);
    expect(idToken.sub).toBe('uid-acme-alice');
    expect(userClaimsOf(idToken)).toEqual(claims);
    const info = await userinfo(tokens.access_token);
    expect(info).toEqual({ sub: 'uid-acme-alice', ...claims });
  });

  it('ignores unknown scope values and reports what it granted', async () => {
    const { tokens, claims } = await login(console_, 'email offline_access openid https://example.com/x');
    expect(tokens.scope).toBe('openid email');
    expect(userClaimsOf(claims)).toEqual({ email: 'alice@acme.test', email_verified: true });
  });

  it('refuses a request without openid, and a scope the client is not allowed, back to the client', async () => {
    const errorOf = async (app: AppClient, scope: string) => {
      const res = await browserGet((await buildAuthorize(app, 'alice@acme.test', scope)).authorizeURL, new CookieJar());
      expect(res.status).toBe(302);
      const back = new URL(res.headers.get('location') as string);
      return [back.searchParams.get('error'), back.searchParams.get('error_description')];
    };
    expect(await errorOf(console_, 'email profile')).toEqual(['invalid_scope', 'scope must include openid']);
    const narrow = await discoverClient(t.base, 'narrow', NARROW_REDIRECT);
    expect(await errorOf(narrow, 'openid email organization')).toEqual(['invalid_scope', 'this client may not request organization']);
    expect((await login(narrow, 'openid email')).tokens.scope).toBe('openid email');
  });

  it('still refuses at userinfo a token of a user deactivated since, whatever its scope', async () => {
    const { tokens } = await login(console_, 'openid');
    expect(await userinfo(tokens.access_token)).toEqual({ sub: 'uid-acme-alice' });
    const alice = t.users.users[0]!;
    alice.active = false;
    try {
      expect((await fetch(`${t.base}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(401);
    } finally {
      alice.active = true;
    }
  });

  it('signs each client\'s ID tokens with its algorithm, and both verify against the JWKS', async () => {
    const discovery = (await (await fetch(`${t.base}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(discovery.id_token_signing_alg_values_supported).toEqual(['RS256', 'ES256']);
    expect(discovery.scopes_supported).toEqual(['openid', 'email', 'profile', 'organization']);
    const jwks = (await (await fetch(`${t.base}/jwks`)).json()) as JSONWebKeySet;
    expect(jwks.keys.map((k) => [k.kty, k.alg])).toEqual([['RSA', 'RS256'], ['EC', 'ES256']]);
    expect(new Set(jwks.keys.map((k) => k.kid)).size).toBe(2);
    expect(jwks.keys.some((k) => 'd' in k || 'p' in k)).toBe(false);

    // openid-client verifies each signature against the JWKS and insists on the registered algorithm.
    const rs = await discoverClient(t.base, 'console', APP_CLIENT.redirect_uris[0] as string, undefined, { idTokenAlg: 'RS256', verifySignatures: true });
    const es = await discoverClient(t.base, 'es-app', ES_REDIRECT, undefined, { idTokenAlg: 'ES256', verifySignatures: true });
    for (const [app, alg] of [[rs, 'RS256'], [es, 'ES256']] as const) {
      const { tokens } = await login(app, 'openid email');
      const idToken = tokens.id_token as string;
      const header = decodeProtectedHeader(idToken);
      expect(header.alg).toBe(alg);
      expect(header.kid).toBe(jwks.keys.find((k) => k.alg === alg)?.kid);
      await expect(jwtVerify(idToken, createLocalJWKSet(jwks), { issuer: t.base, algorithms: [alg] })).resolves.toBeTruthy();
    }
    // A client that expects RS256 refuses the ES256 client's tokens: the algorithm is checked.
    const confused = await discoverClient(t.base, 'es-app', ES_REDIRECT, undefined, { idTokenAlg: 'RS256' });
    const refused = await login(confused, 'openid').then(() => undefined, (err: unknown) => err as Error & { cause?: unknown });
    expect(String((refused?.cause as Error | undefined)?.message)).toMatch(/"alg"/);
  });
});

describe('the signing keys a deployment has', () => {
  it('refuse to start with a client whose algorithm has no key', async () => {
    const metrics = createMetrics();
    const logger = pino({ level: 'silent' });
    const config = new ConfigStore(logger, metrics);
    config.apply(acmeConfig('http://127.0.0.1:1'));
    const onlyEC = signingKeys([(await generateSigningKeys()).forAlg('ES256')!]);
    const options = { publicURL: 'http://127.0.0.1:1', config, users: new StaticUserDirectory([]), signingKeys: onlyEC, store: new MemoryStore(), metrics, logger };
    await expect(buildApp({ ...options, clients: [APP_CLIENT] })).rejects.toThrow(/client console signs ID tokens with RS256, but only ES256 keys are loaded/);
    const app = await buildApp({ ...options, clients: [oauthClient.parse({ client_id: 'es', redirect_uris: ['https://app.example/cb'], id_token_signed_response_alg: 'ES256' })] });
    const discovery = (await app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json() as Record<string, unknown>;
    expect(discovery.id_token_signing_alg_values_supported).toEqual(['ES256']);
    await app.close();
  });
});

describe('login-methods', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      clients: [{ client_id: 'backend', redirect_uris: ['http://127.0.0.1:4/callback'], client_secret_sha256: createHash('sha256').update(BACKEND_SECRET).digest('hex') }],
    });
  });
  afterAll(() => t.close());

  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
  const ask = (query: string, headers: Record<string, string> = {}) => fetch(`${t.base}/api/v1/login-methods?${query}`, { headers });

  it('answers only the application: a public client by its client_id, a confidential one with its secret', async () => {
    expect(await (await fetchLoginMethods(t.base, 'alice@acme.test')).json()).toMatchObject({ methods: ['sso', 'password'] });
    const backend = await fetchLoginMethods(t.base, 'alice@acme.test', { id: 'backend', secret: BACKEND_SECRET });
    expect(backend.status).toBe(200);
    expect(((await backend.json()) as { ssoURL: string }).ssoURL).toBe(`${t.base}/authorize?client_id=backend&login_hint=alice%40acme.test`);
    expect((await ask('email=alice%40acme.test&client_id=backend', { authorization: basic('backend', BACKEND_SECRET) })).status).toBe(200);
  });

  it.each([
    ['no client at all', 'email=alice%40acme.test', {}],
    ['an unknown client', 'email=alice%40acme.test&client_id=nobody', {}],
    ['a confidential client without its secret', 'email=alice%40acme.test&client_id=backend', {}],
    ['a wrong secret', 'email=alice%40acme.test', { authorization: basic('backend', 'wrong') }],
    ['a public client presenting a secret', 'email=alice%40acme.test', { authorization: basic('console', 'anything') }],
    ['Basic credentials for another client_id', 'email=alice%40acme.test&client_id=console', { authorization: basic('backend', BACKEND_SECRET) }],
    ['no client and an invalid address', 'email=nope', {}],
  ])('refuses %s with 401 invalid_client and says nothing about the address', async (_what, query, headers) => {
    const res = await ask(query, headers);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="gatehouse"');
    expect(await res.json()).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
  });

  it('refuses a client secret in the URL', async () => {
    const res = await ask(`email=alice%40acme.test&client_id=backend&client_secret=${BACKEND_SECRET}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
  });
});

