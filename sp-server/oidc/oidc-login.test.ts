// Logins through OIDC profiles end to end on a real listening sp-server, with a real OpenID
// Provider (oidc-provider, Google- and Entra-shaped) as the upstream and openid-client playing the
// application.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RenderedOIDCProfile } from '../../crds/api/index.ts';
import { freePort } from '../../test/controlplane/controlplane.ts';
import { browserGet, buildAuthorize, CookieJar, discoverClient, redeem, type AppClient } from '../../test/support/login-driver.ts';
import { acmeOIDCConfig, renderedDiscovery, testOIDCProfile, UPSTREAM_CLIENT_ID, UPSTREAM_CLIENT_SECRET, upstreamRedirectURI } from '../../test/support/oidc-fixtures.ts';
import { ENTRA_TEST_TENANT, loginAtUpstream, startOIDCUpstream, type OIDCUpstream } from '../../test/support/oidc-upstream.ts';
import { testProfile } from '../../test/support/saml-fixtures.ts';
import { APP_CLIENT, startTestApp, user, type TestApp } from '../../test/support/sp-app.ts';
import { MemoryActivityStore } from '../activity/store.ts';
import { sha256b64url } from '../http-util.ts';
import { clientKeyOf } from './client-key.ts';

const REDIRECT = APP_CLIENT.redirect_uris[0] as string;
const ROLE_MAPPING = { attribute: 'groups', rules: [{ value: 'sso-admins', roles: ['admin'] }] };

interface Attempt {
  jar: CookieJar;
  upstreamURL: URL;
  callbackURL: string;
  started: Awaited<ReturnType<typeof buildAuthorize>>;
}

/** Starts a login for `email` at the application's /authorize and signs in at the upstream as `loginAs`. */
async function attempt(app: AppClient, email: string, loginAs = email, jar = new CookieJar()): Promise<Attempt> {
  const started = await buildAuthorize(app, email);
  const res = await browserGet(started.authorizeURL, jar);
  expect(res.status, await res.clone().text()).toBe(302);
  const upstreamURL = new URL(res.headers.get('location') as string);
  const callbackURL = await loginAtUpstream(upstreamURL.toString(), loginAs, new CookieJar());
  return { jar, upstreamURL, callbackURL, started };
}

async function expectRefusal(res: Response, code: string, status: number): Promise<void> {
  const body = await res.text();
  expect(res.status, body).toBe(status);
  expect(body).toContain(code);
}

function apply(t: TestApp, profiles: RenderedOIDCProfile[]): void {
  // Through the schema, as the rendered Secret arrives: the fixtures must be valid contract.
  expect(t.config.applyText(JSON.stringify(acmeOIDCConfig(profiles)), 'test'), t.config.lastError).toBe(true);
}

describe('a Google-shaped OIDC profile', () => {
  let up: OIDCUpstream;
  let t: TestApp;
  let app: AppClient;
  let profile: RenderedOIDCProfile;
  const activity = new MemoryActivityStore();

  beforeAll(async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    up = await startOIDCUpstream({
      shape: 'google',
      clients: [{ client_id: UPSTREAM_CLIENT_ID, client_secret: UPSTREAM_CLIENT_SECRET, redirect_uris: [upstreamRedirectURI(base, 'google')], token_endpoint_auth_method: 'client_secret_basic' }],
    });
    up.accounts.set('alice@acme.test', { email: 'alice@acme.test', name: 'Alice Example', groups: ['sso-admins'] });
    up.accounts.set('bob@acme.test', { email: 'bob@acme.test', hd: 'elsewhere.test' });
    up.accounts.set('carol@acme.test', { email: 'carol@acme.test', hd: null });
    up.accounts.set('dan@acme.test', { email: 'dan@acme.test', email_verified: false });
    t = await startTestApp({
      port,
      users: ['alice', 'bob', 'carol', 'dan', 'erin'].map((n) => user('acme', `${n}@acme.test`)),
      app: { allowPrivateIdPAddresses: true, activity },
    });
    profile = await testOIDCProfile({ name: 'google', provider: 'Google', base, upstream: up, profile: { roleMapping: ROLE_MAPPING } });
    apply(t, [profile]);
    app = await discoverClient(t.base, 'console', REDIRECT);
  });
  afterAll(async () => {
    await t?.close();
    await up?.close();
  });

  it('sends the browser to the provider with PKCE, state, nonce and the Workspace domain, and signs the user in with roles from the groups claim', async () => {
    const a = await attempt(app, 'alice@acme.test');
    const p = a.upstreamURL.searchParams;
    expect(`${a.upstreamURL.origin}${a.upstreamURL.pathname}`).toBe(profile.oidc.authorizationEndpoint);
    expect(Object.fromEntries(p)).toMatchObject({
      client_id: UPSTREAM_CLIENT_ID,
      redirect_uri: profile.oidc.redirectURI,
      response_type: 'code',
      scope: 'openid email profile',
      code_challenge_method: 'S256',
      login_hint: 'alice@acme.test',
      hd: 'acme.test',
    });
    for (const k of ['state', 'nonce', 'code_challenge']) expect(p.get(k)?.length).toBeGreaterThanOrEqual(43);
    expect(p.has('prompt')).toBe(false);

    const res = await browserGet(a.callbackURL, a.jar);
    expect(res.status, await res.clone().text()).toBe(303);
    const back = res.headers.get('location') as string;
    expect(back.startsWith(`${REDIRECT}?`)).toBe(true);
    const { claims } = await redeem(app, back, a.started);
    expect(claims).toMatchObject({ email: 'alice@acme.test', org: 'acme', roles: ['admin', 'member'], nonce: a.started.nonce, sub: 'uid-acme-alice' });

    // The same callback again: its state was consumed.
    await expectRefusal(await browserGet(a.callbackURL, a.jar), 'OIDC_STATE_INVALID', 400);
    expect(t.status.failures.at(-1)).toMatchObject({ namespace: 'acme', profile: 'google', code: 'OIDC_STATE_INVALID' });
    // The sign-in activity: the refusal (nobody established), then the sign-in the provider asserted.
    const [refused, signedIn] = await activity.latest('acme', 2);
    expect(refused).toMatchObject({ outcome: 'refused', protocol: 'oidc', profile: 'google', code: 'OIDC_STATE_INVALID' });
    expect(refused).not.toHaveProperty('email');
    expect(signedIn).toEqual({ time: expect.any(String), outcome: 'signed-in', email: 'alice@acme.test', profile: 'google', protocol: 'oidc' });
  });

  it('refuses a Workspace account of another domain, and a personal account (no hd)', async () => {
    const bob = await attempt(app, 'bob@acme.test');
    await expectRefusal(await browserGet(bob.callbackURL, bob.jar), 'HOSTED_DOMAIN_MISMATCH', 403);
    expect(t.status.failures.at(-1)).toMatchObject({ code: 'HOSTED_DOMAIN_MISMATCH', hint: expect.stringContaining('elsewhere.test') });
    const carol = await attempt(app, 'carol@acme.test');
    await expectRefusal(await browserGet(carol.callbackURL, carol.jar), 'HOSTED_DOMAIN_MISMATCH', 403);
    expect(t.status.failures.at(-1)).toMatchObject({ code: 'HOSTED_DOMAIN_MISMATCH', hint: expect.stringContaining('personal Google account') });
  });

  it('refuses an address the provider does not vouch for (email_verified false)', async () => {
    const dan = await attempt(app, 'dan@acme.test');
    await expectRefusal(await browserGet(dan.callbackURL, dan.jar), 'EMAIL_NOT_VERIFIED', 403);
    expect(t.status.failures.at(-1)).toMatchObject({ code: 'EMAIL_NOT_VERIFIED' });
  });

  it('refuses a code delivered with the state of another login in the same browser', async () => {
    const jar = new CookieJar();
    const first = await attempt(app, 'alice@acme.test', 'alice@acme.test', jar);
    const second = await attempt(app, 'alice@acme.test', 'alice@acme.test', jar);
    const mixed = new URL(first.callbackURL);
    mixed.searchParams.set('state', new URL(second.callbackURL).searchParams.get('state') as string);
    // The second login's verifier does not match the first code's challenge: the provider refuses.
    await expectRefusal(await browserGet(mixed, jar), 'OIDC_TOKEN_EXCHANGE_FAILED', 400);
    expect(t.status.failures.at(-1)?.hint).toContain('invalid_grant');
    // And the second login's state is spent with it.
    await expectRefusal(await browserGet(second.callbackURL, jar), 'OIDC_STATE_INVALID', 400);
  });

  it('refuses an ID token whose nonce is not the one the sign-in sent', async () => {
    const a = await attempt(app, 'alice@acme.test');
    const key = `oidc:${sha256b64url(new URL(a.callbackURL).searchParams.get('state') as string)}`;
    const pending = JSON.parse((await t.store.get(key)) as string) as { upstreamOIDC: { nonce: string } };
    pending.upstreamOIDC.nonce = 'another-sign-in-nonce';
    await t.store.put(key, JSON.stringify(pending), 60_000);
    await expectRefusal(await browserGet(a.callbackURL, a.jar), 'ID_TOKEN_NONCE_MISMATCH', 400);
  });

  it('refuses a callback from another browser', async () => {
    const a = await attempt(app, 'alice@acme.test');
    await expectRefusal(await browserGet(a.callbackURL, new CookieJar()), 'BROWSER_MISMATCH', 400);
  });

  it('passes the provider\'s error on (access_denied) and ends the login it answers', async () => {
    const jar = new CookieJar();
    const started = await buildAuthorize(app, 'alice@acme.test');
    const upstreamURL = new URL((await browserGet(started.authorizeURL, jar)).headers.get('location') as string);
    const denied = new URL(profile.oidc.redirectURI);
    denied.searchParams.set('error', 'access_denied');
    denied.searchParams.set('error_description', 'the user declined');
    denied.searchParams.set('state', upstreamURL.searchParams.get('state') as string);
    await expectRefusal(await browserGet(denied, jar), 'OIDC_UPSTREAM_ERROR', 400);
    expect(t.status.failures.at(-1)).toMatchObject({ code: 'OIDC_UPSTREAM_ERROR', hint: expect.stringContaining('access_denied') });
  });

  it('refuses the sign-in when the client secret is wrong (invalid_client)', async () => {
    apply(t, [{ ...profile, oidc: { ...profile.oidc, clientSecret: 'not-the-secret' } }]);
    try {
      const a = await attempt(app, 'alice@acme.test');
      await expectRefusal(await browserGet(a.callbackURL, a.jar), 'OIDC_TOKEN_EXCHANGE_FAILED', 400);
      expect(t.status.failures.at(-1)?.hint).toContain('invalid_client');
    } finally {
      apply(t, [profile]);
    }
  });

  it('records a test link\'s login in status.test: Succeeded, then Failed with the refusal', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    apply(t, [{ ...profile, test: { token: 'google-test-link-token-0123456789', email: 'alice@acme.test', expiresAt } }]);
    try {
      const jar = new CookieJar();
      const res = await browserGet(`${t.base}/test/google-test-link-token-0123456789`, jar);
      expect(res.status).toBe(302);
      const upstreamURL = new URL(res.headers.get('location') as string);
      expect(upstreamURL.searchParams.get('prompt')).toBe('login');
      const page = await browserGet(await loginAtUpstream(upstreamURL.toString(), 'alice@acme.test', new CookieJar()), jar);
      expect(page.status, await page.clone().text()).toBe(200);
      expect(t.status.tests.at(-1)?.test).toMatchObject({ result: 'Succeeded', email: 'alice@acme.test', message: expect.stringContaining(up.issuer) });

      apply(t, [{ ...profile, test: { token: 'google-test-link-token-0123456789', email: 'dan@acme.test', expiresAt } }]);
      const again = await browserGet(`${t.base}/test/google-test-link-token-0123456789`, jar);
      const failed = await browserGet(await loginAtUpstream(again.headers.get('location') as string, 'dan@acme.test', new CookieJar()), jar);
      expect(failed.status).toBe(400);
      expect(t.status.tests.at(-1)?.test).toMatchObject({ result: 'Failed', email: 'dan@acme.test', errorCode: 'EMAIL_NOT_VERIFIED' });
    } finally {
      apply(t, [profile]);
    }
  });

  it('verifies the ID token: its signature against the rendered JWKS, its algorithm against the allow-list, its issuer', async () => {
    const other = await startOIDCUpstream({ shape: 'google', clients: [] });
    try {
      // Another provider's keys: the token's kid is not there even after fetching that JWKS again.
      const foreign = await renderedDiscovery(other);
      const cases: Array<[Partial<RenderedOIDCProfile['oidc']>, string]> = [
        [{ jwks: foreign.jwks, jwksURI: foreign.jwksURI }, 'ID_TOKEN_SIGNATURE_INVALID'],
        [{ idTokenSigningAlgorithms: ['ES256', 'PS256'] }, 'ID_TOKEN_ALGORITHM_NOT_ALLOWED'],
        [{ issuer: other.issuer }, 'ID_TOKEN_ISSUER_MISMATCH'],
      ];
      for (const [oidc, code] of cases) {
        apply(t, [{ ...profile, oidc: { ...profile.oidc, ...oidc } }]);
        const a = await attempt(app, 'alice@acme.test');
        await expectRefusal(await browserGet(a.callbackURL, a.jar), code, 400);
        expect(t.status.failures.at(-1)?.code).toBe(code);
      }
    } finally {
      apply(t, [profile]);
      await other.close();
    }
  });

  it('still signs in after the provider rotated its key: the JWKS is fetched again for the unknown kid', async () => {
    await up.rotateKey();
    const a = await attempt(app, 'alice@acme.test');
    const res = await browserGet(a.callbackURL, a.jar);
    expect(res.status, await res.clone().text()).toBe(303);
  });
});

describe('an OIDC profile whose provider is on a private address', () => {
  let up: OIDCUpstream;
  let t: TestApp;

  beforeAll(async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    up = await startOIDCUpstream({ shape: 'google', clients: [{ client_id: UPSTREAM_CLIENT_ID, client_secret: UPSTREAM_CLIENT_SECRET, redirect_uris: [upstreamRedirectURI(base, 'google')] }] });
    // Without allowPrivateIdPAddresses: the production default.
    t = await startTestApp({ port, users: [user('acme', 'alice@acme.test')] });
    apply(t, [await testOIDCProfile({ name: 'google', provider: 'Google', base, upstream: up })]);
  });
  afterAll(async () => {
    await t?.close();
    await up?.close();
  });

  it('refuses to send the code to a token endpoint on a loopback address', async () => {
    const app = await discoverClient(t.base, 'console', REDIRECT);
    const a = await attempt(app, 'alice@acme.test');
    await expectRefusal(await browserGet(a.callbackURL, a.jar), 'OIDC_UPSTREAM_ADDRESS_REFUSED', 503);
    expect(t.status.failures.at(-1)).toMatchObject({ code: 'OIDC_UPSTREAM_ADDRESS_REFUSED' });
  });
});

describe('an Entra-shaped OIDC profile', () => {
  let up: OIDCUpstream;
  let t: TestApp;
  let app: AppClient;
  let profile: RenderedOIDCProfile;
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const key = await clientKeyOf(testProfile().sp.key.privateKeyPem);
    up = await startOIDCUpstream({
      shape: 'entra',
      clients: [
        { client_id: UPSTREAM_CLIENT_ID, client_secret: UPSTREAM_CLIENT_SECRET, redirect_uris: [upstreamRedirectURI(base, 'entra')], token_endpoint_auth_method: 'client_secret_post' },
        { client_id: 'gatehouse-acme-key', redirect_uris: [upstreamRedirectURI(base, 'entra-key')], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk as never] } },
      ],
    });
    up.accounts.set('alice@acme.test', { email: 'alice@acme.test', name: 'Alice Example', groups: ['sso-admins'] });
    up.accounts.set('guest@acme.test', { email: 'guest@acme.test', tid: '00000000-0000-0000-0000-000000000001' });
    t = await startTestApp({ port, users: [user('acme', 'alice@acme.test'), user('acme', 'guest@acme.test')], app: { allowPrivateIdPAddresses: true } });
    profile = await testOIDCProfile({
      name: 'entra',
      provider: 'Microsoft',
      base,
      upstream: up,
      oidc: { tenantID: ENTRA_TEST_TENANT, clientAuthentication: 'client_secret_post', claims: { email: 'preferred_username', displayName: 'name' } },
      profile: { roleMapping: ROLE_MAPPING },
    });
    apply(t, [profile]);
    app = await discoverClient(t.base, 'console', REDIRECT);
  });
  afterAll(async () => {
    await t?.close();
    await up?.close();
  });

  it('signs a user of the tenant in, reading the address from preferred_username', async () => {
    const a = await attempt(app, 'alice@acme.test');
    expect(a.upstreamURL.searchParams.get('domain_hint')).toBe('acme.test');
    const res = await browserGet(a.callbackURL, a.jar);
    expect(res.status, await res.clone().text()).toBe(303);
    const { claims } = await redeem(app, res.headers.get('location') as string, a.started);
    expect(claims).toMatchObject({ email: 'alice@acme.test', org: 'acme', roles: ['admin', 'member'] });
  });

  it('refuses an account of another tenant', async () => {
    const a = await attempt(app, 'guest@acme.test');
    await expectRefusal(await browserGet(a.callbackURL, a.jar), 'TENANT_MISMATCH', 403);
    expect(t.status.failures.at(-1)).toMatchObject({ profile: 'entra', code: 'TENANT_MISMATCH' });
  });

  it('authenticates with private_key_jwt signed by the profile key, whose JWKS it serves', async () => {
    const keyed: RenderedOIDCProfile = {
      ...profile,
      name: 'entra-key',
      oidc: { ...profile.oidc, clientID: 'gatehouse-acme-key', clientAuthentication: 'private_key_jwt', clientSecret: undefined, redirectURI: upstreamRedirectURI(base, 'entra-key') },
      test: { token: 'entra-key-test-link-0123456789', email: 'alice@acme.test', expiresAt: new Date(Date.now() + 3_600_000).toISOString() },
    };
    delete (keyed.oidc as { clientSecret?: string }).clientSecret;
    apply(t, [profile, keyed]);
    try {
      const served = (await (await fetch(`${t.base}/oidc/acme/entra-key/jwks`)).json()) as { keys: Array<Record<string, unknown>> };
      const key = await clientKeyOf(keyed.sp.key.privateKeyPem);
      expect(served.keys).toEqual([key.publicJwk]);
      expect(served.keys[0]).not.toHaveProperty('d');

      const jar = new CookieJar();
      const res = await browserGet(`${t.base}/test/entra-key-test-link-0123456789`, jar);
      const page = await browserGet(await loginAtUpstream(res.headers.get('location') as string, 'alice@acme.test', new CookieJar()), jar);
      expect(page.status, await page.clone().text()).toBe(200);
      expect(t.status.tests.at(-1)).toMatchObject({ profile: 'entra-key', test: { result: 'Succeeded' } });
    } finally {
      apply(t, [profile]);
    }
  });
});
