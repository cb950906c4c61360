// The login path end to end on a real listening server: openid-client plays the application,
// the SAML fixtures play the IdP (responses signed with the test IdP key).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildResponse, tamperNameID, toBase64, untrustedKeys, withDoctype, wrap, type ResponseOptions } from '../test/support/saml-fixtures.ts';
import { APP_CLIENT, startTestApp, user, type TestApp } from '../test/support/sp-app.ts';
import { browserGet, browserPostForm, buildAuthorize, CookieJar, discoverClient, fetchLoginMethods, loginMethodsOf, readAuthnRequest, redeem, oidc, type AppClient, type StartedLogin } from '../test/support/login-driver.ts';

const REDIRECT = APP_CLIENT.redirect_uris[0] as string;

async function idpRedirect(t: TestApp, app: AppClient, jar: CookieJar, email = 'alice@acme.test'): Promise<{ started: StartedLogin; requestID: string }> {
  const started = await buildAuthorize(app, email);
  const res = await browserGet(started.authorizeURL, jar);
  expect(res.status, await res.clone().text()).toBe(302);
  const location = res.headers.get('location') as string;
  expect(location.startsWith('https://idp.acme.test/saml/sso?')).toBe(true);
  return { started, requestID: readAuthnRequest(location).id };
}

function responseFor(t: TestApp, requestID: string | null, o: ResponseOptions = {}) {
  return buildResponse({
    inResponseTo: requestID,
    destination: `${t.base}/saml/acme/okta/acs`,
    recipient: `${t.base}/saml/acme/okta/acs`,
    audience: `${t.base}/saml/acme/okta`,
    ...o,
  });
}

const acs = (t: TestApp) => `${t.base}/saml/acme/okta/acs`;

async function metric(t: TestApp, name: string): Promise<string> {
  return (await t.metrics.registry.metrics()).split('\n').filter((l) => l.startsWith(name)).join('\n');
}

describe('SP-initiated login with PKCE', () => {
  let t: TestApp;
  let app: AppClient;
  beforeAll(async () => {
    t = await startTestApp({
      users: [
        user('acme', 'alice@acme.test', { roles: ['admin'] }),
        user('acme', 'bob@acme.test', { active: false }),
        user('acme', 'carol@acme.test', { sso: { available: true, enforced: true, profile: 'okta', reason: 'DomainEnforced' } }),
        user('globex', 'dave@globex.test'),
        user('acme', 'frank@acme.test', { sso: { available: true, enforced: false, profile: 'okta', reason: 'OverrideDisabled' } }),
      ],
      extraOrgs: [{ namespace: 'globex', verifiedDomains: ['globex.test'], profiles: [] }],
    });
    app = await discoverClient(t.base, 'console', REDIRECT);
  });
  afterAll(() => t.close());

  it('issues a verified ID token with the user\'s email, org, roles and nonce, and serves userinfo', async () => {
    const jar = new CookieJar();
    const { started, requestID } = await idpRedirect(t, app, jar);
    const saml = await responseFor(t, requestID);
    const res = await browserPostForm(acs(t), { SAMLResponse: saml.base64 }, jar);
    expect(res.status, await res.text()).toBe(303);
    const callback = res.headers.get('location') as string;
    expect(callback.startsWith(`${REDIRECT}?`)).toBe(true);
    const { tokens, claims } = await redeem(app, callback, started);
    expect(claims).toMatchObject({ iss: t.base, aud: 'console', email: 'alice@acme.test', email_verified: true, org: 'acme', roles: ['admin'], nonce: started.nonce, sub: 'uid-acme-alice' });
    expect(typeof claims.auth_time).toBe('number');
    expect(claims.amr).toEqual(['ext']);
    const info = await oidc.fetchUserInfo(app.config, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ email: 'alice@acme.test', org: 'acme', roles: ['admin'] });
    // Deprovisioned after the login: userinfo refuses the still-unexpired access token.
    const alice = t.users.users.find((u) => u.email === 'alice@acme.test')!;
    alice.active = false;
    try {
      const res = await fetch(`${t.base}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect(res.status).toBe(401);
    } finally {
      alice.active = true;
    }

    // The same assertion again: refused as a replay.
    const again = await browserPostForm(acs(t), { SAMLResponse: saml.base64 }, jar);
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('ASSERTION_REPLAYED');
    // The same code again: refused.
    await expect(redeem(app, callback, started)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  async function codeFor(jar = new CookieJar()): Promise<{ code: string; started: StartedLogin }> {
    const { started, requestID } = await idpRedirect(t, app, jar);
    const res = await browserPostForm(acs(t), { SAMLResponse: (await responseFor(t, requestID)).base64 }, jar);
    expect(res.status).toBe(303);
    return { code: new URL(res.headers.get('location') as string).searchParams.get('code') as string, started };
  }

  const token = (form: Record<string, string>) =>
    fetch(`${t.base}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });

  it('refuses a code without the PKCE verifier, with a wrong verifier, a wrong redirect_uri or another client, and burns it', async () => {
    for (const variant of [
      (c: string) => ({ grant_type: 'authorization_code', code: c, client_id: 'console', redirect_uri: REDIRECT }),
      (c: string) => ({ grant_type: 'authorization_code', code: c, client_id: 'console', redirect_uri: REDIRECT, code_verifier: oidc.randomPKCECodeVerifier() }),
      (c: string) => ({ grant_type: 'authorization_code', code: c, client_id: 'console', redirect_uri: `${REDIRECT}/x`, code_verifier: 'x'.repeat(43) }),
    ]) {
      const { code, started } = await codeFor();
      const res = await token(variant(code));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_grant');
      // Burned: the right verifier no longer works either.
      const retry = await token({ grant_type: 'authorization_code', code, client_id: 'console', redirect_uri: REDIRECT, code_verifier: started.verifier });
      expect(retry.status).toBe(400);
    }
    const { code, started } = await codeFor();
    const res = await token({ grant_type: 'authorization_code', code, client_id: 'other', redirect_uri: REDIRECT, code_verifier: started.verifier });
    expect(res.status).toBe(401);
  });

  it('never redirects to an unregistered redirect_uri, and refuses missing or plain PKCE', async () => {
    const started = await buildAuthorize(app, 'alice@acme.test');
    const bad = new URL(started.authorizeURL);
    bad.searchParams.set('redirect_uri', `${REDIRECT}/evil`);
    const res = await browserGet(bad, new CookieJar());
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    const plain = new URL(started.authorizeURL);
    plain.searchParams.set('code_challenge_method', 'plain');
    const res2 = await browserGet(plain, new CookieJar());
    expect(res2.status).toBe(302);
    const loc = new URL(res2.headers.get('location') as string);
    expect(loc.origin + loc.pathname).toBe(REDIRECT);
    expect(loc.searchParams.get('error')).toBe('invalid_request');
    expect(loc.searchParams.get('state')).toBe(started.state);
    const none = new URL(started.authorizeURL);
    none.searchParams.delete('code_challenge');
    expect(new URL((await browserGet(none, new CookieJar())).headers.get('location') as string).searchParams.get('error')).toBe('invalid_request');
  });

  it('asks the IdP to authenticate again for prompt=login', async () => {
    const started = await buildAuthorize(app, 'alice@acme.test');
    const url = new URL(started.authorizeURL);
    url.searchParams.set('prompt', 'login');
    const forced = readAuthnRequest((await browserGet(url, new CookieJar())).headers.get('location') as string).xml;
    expect(forced).toContain('ForceAuthn="true"');
    const normal = readAuthnRequest((await browserGet(started.authorizeURL, new CookieJar())).headers.get('location') as string).xml;
    expect(normal).not.toContain('ForceAuthn');
  });

  it('shows an email-first page without login_hint', async () => {
    const started = await buildAuthorize(app);
    const res = await browserGet(started.authorizeURL, new CookieJar());
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain('name="login_hint"');
    expect(body).toContain(`value="${started.state}"`);
  });

  it('answers login-methods from the operator\'s decision', async () => {
    const get = (email: string) => loginMethodsOf(t.base, email);
    expect(await get('Alice@ACME.test')).toEqual({ email: 'alice@acme.test', methods: ['sso', 'password'], ssoURL: `${t.base}/authorize?client_id=console&login_hint=alice%40acme.test` });
    expect(await get('carol@acme.test')).toMatchObject({ methods: ['sso'] });
    // Deactivated: no way in, and not a word about why.
    expect(await get('bob@acme.test')).toEqual({ email: 'bob@acme.test', methods: [] });
    // SSO Disabled for a user: password stays, SSO stays available.
    expect(await get('frank@acme.test')).toMatchObject({ methods: ['sso', 'password'] });
    expect(await get('eve@acme.test')).toEqual({ email: 'eve@acme.test', methods: ['password'] });
    expect(await get('zed@unknown.test')).toEqual({ email: 'zed@unknown.test', methods: ['password'] });
    expect((await fetchLoginMethods(t.base, 'nope')).status).toBe(400);
  });

  it('refuses an untrusted signature with a code, a metric label, a page without internals and a status failure', async () => {
    const jar = new CookieJar();
    const { requestID } = await idpRedirect(t, app, jar);
    const res = await browserPostForm(acs(t), { SAMLResponse: (await responseFor(t, requestID, { signer: untrustedKeys() })).base64 }, jar);
    expect(res.status).toBe(400);
    const page = await res.text();
    expect(page).toContain('UNTRUSTED_CERTIFICATE');
    expect(page).not.toMatch(/BEGIN CERTIFICATE|<samlp|stack|at [A-Za-z]+ \(/);
    expect(await metric(t, 'gatehouse_saml_rejections_total')).toMatch(/code="UNTRUSTED_CERTIFICATE"} 1/);
    expect(t.status.failures.at(-1)).toMatchObject({ namespace: 'acme', profile: 'okta', code: 'UNTRUSTED_CERTIFICATE' });
  });

  it.each([
    ['a tampered NameID', (xml: string) => tamperNameID(xml), ['SIGNATURE_INVALID']],
    ['a DTD with an external entity', (xml: string) => withDoctype(xml), ['DTD_FORBIDDEN']],
    ['signature wrapping (XSW3)', (xml: string) => wrap(xml, 'XSW3-evil-assertion-before-signed'), ['SIGNATURE_WRAPPING', 'MULTIPLE_ASSERTIONS']],
    ['signature wrapping (XSW1)', (xml: string) => wrap(xml, 'XSW1-response-clone-wraps-original'), ['SIGNATURE_WRAPPING', 'SIGNATURE_INVALID']],
  ] as const)('refuses %s at the ACS, never logging mallory in', async (_name, mutate, codes) => {
    const jar = new CookieJar();
    const { requestID } = await idpRedirect(t, app, jar);
    const xsw1 = _name.includes('XSW1');
    const saml = await responseFor(t, requestID, { signAssertion: !xsw1, signResponse: xsw1 });
    const res = await browserPostForm(acs(t), { SAMLResponse: toBase64(mutate(saml.xml)) }, jar);
    expect(res.status).toBe(400);
    const code = /Error code: <code>([A-Z_]+)<\/code>/.exec(await res.text())?.[1];
    expect(codes).toContain(code);
    expect(res.headers.get('location')).toBeNull();
  });

  it('refuses a response posted by another browser', async () => {
    const { requestID } = await idpRedirect(t, app, new CookieJar());
    const res = await browserPostForm(acs(t), { SAMLResponse: (await responseFor(t, requestID)).base64 }, new CookieJar());
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('BROWSER_MISMATCH');
  });

  it.each([
    ['dave@globex.test', 'USER_OTHER_ORGANIZATION', 403],
    ['eve@acme.test', 'USER_NOT_MANAGED', 403],
    ['bob@acme.test', 'USER_INACTIVE', 403],
    ['mallory@elsewhere.test', 'DOMAIN_NOT_VERIFIED', 403],
  ])('refuses the NameID %s with %s', async (nameID, code, status) => {
    const jar = new CookieJar();
    const { requestID } = await idpRedirect(t, app, jar);
    const res = await browserPostForm(acs(t), { SAMLResponse: (await responseFor(t, requestID, { nameID })).base64 }, jar);
    expect(res.status).toBe(status);
    expect(await res.text()).toContain(code);
  });

  it('lets a user whose SSO is Disabled still sign in through SSO', async () => {
    const jar = new CookieJar();
    const { started, requestID } = await idpRedirect(t, app, jar, 'frank@acme.test');
    const res = await browserPostForm(acs(t), { SAMLResponse: (await responseFor(t, requestID, { nameID: 'frank@acme.test' })).base64 }, jar);
    expect(res.status).toBe(303);
    expect((await redeem(app, res.headers.get('location') as string, started)).claims.email).toBe('frank@acme.test');
  });

  it('refuses an inactive user before sending them to the IdP', async () => {
    const started = await buildAuthorize(app, 'bob@acme.test');
    const res = await browserGet(started.authorizeURL, new CookieJar());
    expect(res.status).toBe(403);
  });

  it('refuses an unsigned or untrusted IdP-initiated response instead of restarting a login', async () => {
    const res = await browserPostForm(acs(t), { SAMLResponse: (await responseFor(t, null, { signer: untrustedKeys() })).base64 }, new CookieJar());
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('UNTRUSTED_CERTIFICATE');
  });

  it('turns an IdP-initiated response into a fresh SP-initiated login through the application', async () => {
    const jar = new CookieJar();
    const saml = await responseFor(t, null);
    const res = await browserPostForm(acs(t), { SAMLResponse: saml.base64 }, jar);
    expect(res.status).toBe(303);
    const loc = new URL(res.headers.get('location') as string);
    expect(loc.origin + loc.pathname).toBe(APP_CLIENT.initiate_login_uri);
    expect(loc.searchParams.get('iss')).toBe(t.base);
    expect(loc.searchParams.get('code')).toBeNull();
    // The application starts a normal login without a hint: it goes straight to the same IdP.
    const started = await buildAuthorize(app);
    const again = await browserGet(started.authorizeURL, jar);
    expect(again.status).toBe(302);
    const { id } = readAuthnRequest(again.headers.get('location') as string);
    const ok = await browserPostForm(acs(t), { SAMLResponse: (await responseFor(t, id)).base64 }, jar);
    expect(ok.status).toBe(303);
    const { claims } = await redeem(app, ok.headers.get('location') as string, started);
    expect(claims.email).toBe('alice@acme.test');
    // The unsolicited assertion itself is still not usable.
    expect(await metric(t, 'gatehouse_saml_unsolicited_total')).toMatch(/ 1$/);
  });

  it('serves SP metadata, discovery, JWKS and probes', async () => {
    const md = await fetch(`${t.base}/saml/acme/okta/metadata`);
    expect(md.status).toBe(200);
    expect(await md.text()).toContain(`Location="${t.base}/saml/acme/okta/acs"`);
    expect((await fetch(`${t.base}/saml/acme/nope/metadata`)).status).toBe(404);
    const disco = (await (await fetch(`${t.base}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(disco.code_challenge_methods_supported).toEqual(['S256']);
    const jwks = (await (await fetch(`${t.base}/jwks`)).json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys[0]).not.toHaveProperty('d');
    expect((await fetch(`${t.base}/readyz`)).status).toBe(200);
    // Metrics are not public: they have their own listener (metrics-listener.ts).
    expect((await fetch(`${t.base}/metrics`)).status).toBe(404);
    expect(await t.metrics.registry.metrics()).toContain('gatehouse_saml_rejections_total');
  });
});

describe('JIT provisioning', () => {
  it.each([
    [true, 303],
    [false, 403],
  ])('with the installation switch %s, an unknown user of a JIT profile gets %i', async (jitProvisioning, status) => {
    const t = await startTestApp({ users: [], profile: { jit: { enabled: true, defaultRoles: ['viewer'] } }, jitProvisioning });
    try {
      const app = await discoverClient(t.base, 'console', REDIRECT);
      const jar = new CookieJar();
      const { requestID } = await idpRedirect(t, app, jar, 'newbie@acme.test');
      const res = await browserPostForm(acs(t), { SAMLResponse: (await responseFor(t, requestID, { nameID: 'newbie@acme.test' })).base64 }, jar);
      expect(res.status).toBe(status);
      expect(t.users.users.map((u) => u.email)).toEqual(jitProvisioning ? ['newbie@acme.test'] : []);
    } finally {
      await t.close();
    }
  });
});

describe('a profile with spec.forceAuthn', () => {
  it('asks the IdP to authenticate again at every sign-in, without prompt=login', async () => {
    const t = await startTestApp({ users: [user('acme', 'alice@acme.test')], profile: { forceAuthn: true } });
    try {
      const app = await discoverClient(t.base, 'console', REDIRECT);
      const started = await buildAuthorize(app, 'alice@acme.test');
      const location = (await browserGet(started.authorizeURL, new CookieJar())).headers.get('location') as string;
      expect(readAuthnRequest(location).xml).toContain('ForceAuthn="true"');
    } finally {
      await t.close();
    }
  });
});

describe('the ACS bounds the work one request can cause', () => {
  it('refuses a body over the ACS limit with 413, before reading it into a SAML parse', async () => {
    const t = await startTestApp({ users: [user('acme', 'alice@acme.test')] });
    try {
      const big = 'A'.repeat(300 * 1024);
      const res = await browserPostForm(acs(t), { SAMLResponse: big }, new CookieJar());
      expect(res.status).toBe(413);
      expect(await metric(t, 'gatehouse_saml_rejections_total')).not.toContain('MALFORMED_RESPONSE');
      // A body under the limit still reaches the validator (and is refused by it, as not base64 XML).
      const small = await browserPostForm(acs(t), { SAMLResponse: 'A'.repeat(100 * 1024) }, new CookieJar());
      expect(small.status).not.toBe(413);
    } finally {
      await t.close();
    }
  });
});
