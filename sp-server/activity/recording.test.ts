// The login path writes the sign-in activity: every completed sign-in, test and refusal of a known
// organization, with the refusal table's words, the email only when the IdP asserted it, and
// nothing of the SAML response.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildResponse } from '../../test/support/saml-fixtures.ts';
import { APP_CLIENT, startTestApp, user, type TestApp } from '../../test/support/sp-app.ts';
import { browserGet, browserPostForm, buildAuthorize, CookieJar, discoverClient, readAuthnRequest, type AppClient } from '../../test/support/login-driver.ts';
import { REFUSALS } from '../refusals.ts';
import { MemoryActivityStore } from './store.ts';

const REDIRECT = APP_CLIENT.redirect_uris[0] as string;
const TOKEN = 't'.repeat(32);

describe('sign-in activity', () => {
  let t: TestApp;
  let app: AppClient;
  const activity = new MemoryActivityStore();

  const acs = () => `${t.base}/saml/acme/okta/acs`;
  const respond = (requestID: string, nameID: string) => buildResponse({ inResponseTo: requestID, destination: acs(), recipient: acs(), audience: `${t.base}/saml/acme/okta`, nameID });
  async function startAt(email: string, jar: CookieJar): Promise<string> {
    const res = await browserGet((await buildAuthorize(app, email)).authorizeURL, jar);
    expect(res.status).toBe(302);
    return readAuthnRequest(res.headers.get('location') as string).id;
  }
  const newest = async () => (await activity.latest('acme', 1))[0];

  beforeAll(async () => {
    t = await startTestApp({
      users: [user('acme', 'alice@acme.test'), user('acme', 'bob@acme.test', { active: false })],
      profile: { test: { token: TOKEN, email: 'alice@acme.test', expiresAt: new Date(Date.now() + 3_600_000).toISOString() } },
      app: { activity },
    });
    app = await discoverClient(t.base, 'console', REDIRECT);
  });
  afterAll(() => t.close());

  it('records a completed sign-in with the asserted email', async () => {
    const jar = new CookieJar();
    const id = await startAt('alice@acme.test', jar);
    const res = await browserPostForm(acs(), { SAMLResponse: (await respond(id, 'alice@acme.test')).base64 }, jar);
    expect(res.status).toBe(303);
    const entry = await newest();
    expect(entry).toEqual({ time: expect.any(String), outcome: 'signed-in', email: 'alice@acme.test', profile: 'okta', protocol: 'saml' });
    expect(Math.abs(Date.parse(entry!.time) - Date.now())).toBeLessThan(60_000);
  });

  it('records a refusal after the IdP answered with the asserted email, the code, and the table\'s words', async () => {
    const jar = new CookieJar();
    const id = await startAt('zed@acme.test', jar);
    const res = await browserPostForm(acs(), { SAMLResponse: (await respond(id, 'zed@acme.test')).base64 }, jar);
    expect(res.status).toBe(403);
    expect(await newest()).toEqual({
      time: expect.any(String),
      outcome: 'refused',
      email: 'zed@acme.test',
      profile: 'okta',
      protocol: 'saml',
      code: 'USER_NOT_MANAGED',
      message: REFUSALS.USER_NOT_MANAGED.userMessage,
      advice: REFUSALS.USER_NOT_MANAGED.adminAdvice,
    });
  });

  it('records a refusal decided before anyone was established without an email', async () => {
    const id = await startAt('alice@acme.test', new CookieJar());
    const res = await browserPostForm(acs(), { SAMLResponse: (await respond(id, 'alice@acme.test')).base64 }, new CookieJar());
    expect(res.status).toBe(400);
    const entry = await newest();
    expect(entry).toMatchObject({ outcome: 'refused', code: 'BROWSER_MISMATCH', protocol: 'saml', profile: 'okta' });
    expect(entry).not.toHaveProperty('email');
  });

  it('records a deactivated user refused at the application\'s request without the typed address', async () => {
    const res = await browserGet((await buildAuthorize(app, 'bob@acme.test')).authorizeURL, new CookieJar());
    expect(res.status).toBe(403);
    const entry = await newest();
    expect(entry).toMatchObject({ outcome: 'refused', code: 'USER_INACTIVE' });
    expect(entry).not.toHaveProperty('email');
  });

  it('records test results: passed, and failed with the code', async () => {
    const jar = new CookieJar();
    const start = await browserGet(`${t.base}/test/${TOKEN}`, jar);
    const id = readAuthnRequest(start.headers.get('location') as string).id;
    expect((await browserPostForm(acs(), { SAMLResponse: (await respond(id, 'alice@acme.test')).base64 }, jar)).status).toBe(200);
    expect(await newest()).toEqual({ time: expect.any(String), outcome: 'test-passed', email: 'alice@acme.test', profile: 'okta', protocol: 'saml' });

    const again = new CookieJar();
    const id2 = readAuthnRequest((await browserGet(`${t.base}/test/${TOKEN}`, again)).headers.get('location') as string).id;
    expect((await browserPostForm(acs(), { SAMLResponse: (await respond(id2, 'bob@acme.test')).base64 }, again)).status).toBe(400);
    expect(await newest()).toMatchObject({ outcome: 'test-failed', email: 'bob@acme.test', code: 'TEST_USER_MISMATCH', advice: REFUSALS.TEST_USER_MISMATCH.adminAdvice });
  });

  it('never keeps the SAML response, a code or a token', async () => {
    const all = JSON.stringify(await activity.latest('acme', 200));
    expect(all).not.toMatch(/<|SAMLResponse|BEGIN|code=|tttttttttttttttt/);
    expect(await activity.latest('globex', 200)).toEqual([]);
  });
});
