// The ACS's IdP-initiated path and the AuthnInstant checks of the login path, on a real listening
// server: the restart cookie is planted only for a response that passed every check but
// InResponseTo, and /authorize honours only a cookie the ACS planted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildResponse, type ResponseOptions } from '../test/support/saml-fixtures.ts';
import { APP_CLIENT, startTestApp, user, type TestApp } from '../test/support/sp-app.ts';
import { browserGet, browserPostForm, buildAuthorize, CookieJar, discoverClient, readAuthnRequest, redeem, type AppClient } from '../test/support/login-driver.ts';
import { RESTART_COOKIE } from './http-util.ts';

const REDIRECT = APP_CLIENT.redirect_uris[0] as string;

describe('IdP-initiated responses at the ACS', () => {
  let t: TestApp;
  let app: AppClient;
  const acs = () => `${t.base}/saml/acme/okta/acs`;
  const response = (o: ResponseOptions = {}) =>
    buildResponse({ inResponseTo: null, destination: acs(), recipient: acs(), audience: `${t.base}/saml/acme/okta`, ...o });
  /** The restart cookie's value as the ACS set it, if it set one. */
  const plantedRestart = (res: Response): string | undefined =>
    res.headers
      .getSetCookie()
      .map((line) => line.split(';')[0] as string)
      .find((pair) => pair.startsWith(`${RESTART_COOKIE}=`) && pair.length > RESTART_COOKIE.length + 1)
      ?.slice(RESTART_COOKIE.length + 1);
  /** /authorize without a hint: straight to the IdP (302) after a restart, the email page (200) otherwise. */
  const authorizeWith = async (cookie: string | undefined) => {
    const started = await buildAuthorize(app);
    return fetch(started.authorizeURL, { redirect: 'manual', headers: cookie === undefined ? {} : { cookie } });
  };

  beforeAll(async () => {
    t = await startTestApp({ users: [user('acme', 'alice@acme.test')] });
    app = await discoverClient(t.base, 'console', REDIRECT);
  });
  afterAll(() => t.close());

  it.each([
    ['expired', { notOnOrAfterSeconds: -600, subjectNotOnOrAfterSeconds: -600 }, 'EXPIRED'],
    ['for another audience', { audience: 'https://other-sp.test/saml' }, 'AUDIENCE_MISMATCH'],
    ['for another destination', { destination: 'https://gatehouse.test/saml/other/okta/acs' }, 'DESTINATION_MISMATCH'],
    ['issued an hour ago', { issueInstantSeconds: -3600 }, 'ISSUE_INSTANT_OUT_OF_RANGE'],
  ] as const)('a signed response %s is refused with its own code and plants no restart cookie', async (_what, opts, code) => {
    const res = await browserPostForm(acs(), { SAMLResponse: (await response(opts)).base64 }, new CookieJar());
    expect(res.status).toBe(400);
    expect(await res.text()).toContain(code);
    expect(plantedRestart(res)).toBeUndefined();
  });

  it('a valid one plants the cookie once; the same response again is a replay and plants none', async () => {
    const saml = await response();
    const first = await browserPostForm(acs(), { SAMLResponse: saml.base64 }, new CookieJar());
    expect(first.status).toBe(303);
    const handle = plantedRestart(first);
    expect(handle).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The browser holds a random handle, never the profile's name.
    expect(handle).not.toContain('okta');
    const again = await browserPostForm(acs(), { SAMLResponse: saml.base64 }, new CookieJar());
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('ASSERTION_REPLAYED');
    expect(plantedRestart(again)).toBeUndefined();
  });

  it('/authorize follows a planted cookie once, and ignores a forged, altered or reused one', async () => {
    const planted = await browserPostForm(acs(), { SAMLResponse: (await response()).base64 }, new CookieJar());
    const handle = plantedRestart(planted) as string;
    // What the cookie used to hold, the profile's name, and handles the ACS never issued.
    for (const forged of ['acme/okta', 'acme%2Fokta', `${handle.slice(0, -1)}${handle.endsWith('A') ? 'B' : 'A'}`, 'A'.repeat(43), `${handle}x`]) {
      const res = await authorizeWith(`${RESTART_COOKIE}=${forged}`);
      expect(res.status, forged).toBe(200);
      expect(await res.text()).toContain('name="login_hint"');
    }
    const restarted = await authorizeWith(`${RESTART_COOKIE}=${handle}`);
    expect(restarted.status).toBe(302);
    expect(restarted.headers.get('location')).toMatch(/^https:\/\/idp\.acme\.test\/saml\/sso\?/);
    // Used once: the same handle again (a copied cookie) leads to the email page.
    expect((await authorizeWith(`${RESTART_COOKIE}=${handle}`)).status).toBe(200);
  });
});

describe('the AuthnInstant at the ACS', () => {
  let t: TestApp;
  let app: AppClient;
  const acs = () => `${t.base}/saml/acme/okta/acs`;

  beforeAll(async () => {
    t = await startTestApp({ users: [user('acme', 'alice@acme.test')] });
    app = await discoverClient(t.base, 'console', REDIRECT);
  });
  afterAll(() => t.close());

  /** Starts a login with extra /authorize parameters and answers it with `o`. */
  async function login(params: Record<string, string>, o: ResponseOptions) {
    const jar = new CookieJar();
    const started = await buildAuthorize(app, 'alice@acme.test');
    for (const [k, v] of Object.entries(params)) started.authorizeURL.searchParams.set(k, v);
    const redirect = await browserGet(started.authorizeURL, jar);
    expect(redirect.status).toBe(302);
    const request = readAuthnRequest(redirect.headers.get('location') as string);
    const saml = await buildResponse({ inResponseTo: request.id, destination: acs(), recipient: acs(), audience: `${t.base}/saml/acme/okta`, ...o });
    return { request, started, res: await browserPostForm(acs(), { SAMLResponse: saml.base64 }, jar) };
  }

  it('after prompt=login, refuses a sign-in older than the request: AUTHN_INSTANT_TOO_OLD', async () => {
    const stale = await login({ prompt: 'login' }, { authnInstantSeconds: -3600 });
    expect(stale.request.xml).toContain('ForceAuthn="true"');
    expect(stale.res.status).toBe(400);
    expect(await stale.res.text()).toContain('AUTHN_INSTANT_TOO_OLD');
    const fresh = await login({ prompt: 'login' }, { authnInstantSeconds: 0 });
    expect(fresh.res.status).toBe(303);
    // Without ForceAuthn the IdP's session may be of any age.
    expect((await login({}, { authnInstantSeconds: -3600 })).res.status).toBe(303);
  });

  it('with max_age, asks for ForceAuthn, refuses an older sign-in and reports auth_time', async () => {
    const stale = await login({ max_age: '600' }, { authnInstantSeconds: -3600 });
    expect(stale.request.xml).toContain('ForceAuthn="true"');
    expect(stale.res.status).toBe(400);
    expect(await stale.res.text()).toContain('AUTHN_INSTANT_TOO_OLD');
    const fresh = await login({ max_age: '600' }, { authnInstantSeconds: -5 });
    expect(fresh.res.status).toBe(303);
    const { claims } = await redeem(app, fresh.res.headers.get('location') as string, fresh.started);
    expect(Math.abs((claims.auth_time as number) - (Date.now() / 1000 - 5))).toBeLessThan(30);
  });

  it('answers a max_age that is not a non-negative integer with invalid_request', async () => {
    const started = await buildAuthorize(app, 'alice@acme.test');
    started.authorizeURL.searchParams.set('max_age', '-1');
    const res = await browserGet(started.authorizeURL, new CookieJar());
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('location') as string).searchParams.get('error')).toBe('invalid_request');
  });
});
