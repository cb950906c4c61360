// The sp-server's end-user pages in a real browser (Debian's Chromium): the email entry page, a
// refusal, an error, and the test result, each in the shared look. The stylesheet must load
// under the pages' CSP (no violation reported), the organization's display name and the way back
// to the application must be on the page. The sp-server runs in process with a rendered config;
// the IdP is played by the test (a loopback server answering the AuthnRequest with a form that
// posts a signed response), so no whole local system is needed. Screenshots: test-results/end-user-pages/.
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { escapeHtml } from '../../ui/html.ts';
import { freePort } from '../controlplane/controlplane.ts';
import { launchBrowser } from '../support/browser.ts';
import { readAuthnRequest } from '../support/login-driver.ts';
import { buildResponse, testProfile } from '../support/saml-fixtures.ts';
import { APP_CLIENT, startTestApp, user, type TestApp } from '../support/sp-app.ts';

const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'end-user-pages');
const ORG_NAME = 'Acme Corporation';
const BACK = 'http://127.0.0.1:1/';
const TOKEN = 'e2e-test-link-token-0123456789';
// The IdP lives on the same site as the sp-server (as SimpleSAMLphp does locally), so the
// browser's SameSite=Lax binding cookie travels with the IdP's cross-port POST.
let IDP_SSO = '';
let idp: Server;
/** Whom the IdP signs in next. */
let idpUser = 'alice@acme.test';

let t: TestApp;
let browser: Browser;
let page: Page;
let violations: string[];

/** The authorization request the application sends (without login_hint: the email page). */
function authorizeURL(loginHint?: string): string {
  const u = new URL(`${t.base}/authorize`);
  u.search = new URLSearchParams({
    client_id: APP_CLIENT.client_id,
    redirect_uri: APP_CLIENT.redirect_uris[0] as string,
    response_type: 'code',
    scope: 'openid email',
    state: 'st',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    ...(loginHint ? { login_hint: loginHint } : {}),
  }).toString();
  return u.toString();
}

/** The IdP: answers the AuthnRequest with a page whose button posts a response signing in `idpUser`. */
async function startIdP(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const acs = `${t.base}/saml/acme/okta/acs`;
    let id: string;
    try {
      id = readAuthnRequest(`http://127.0.0.1:${port}${req.url ?? '/'}`).id;
    } catch {
      res.writeHead(404).end();
      return;
    }
    buildResponse({ inResponseTo: id, destination: acs, recipient: acs, audience: `${t.base}/saml/acme/okta`, nameID: idpUser }).then(
      (saml) =>
        res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end(`<!doctype html><title>IdP</title><form method="post" action="${escapeHtml(acs)}"><input type="hidden" name="SAMLResponse" value="${saml.base64}"><button id="post">Continue</button></form>`),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}
const idpSignsIn = (email: string) => {
  idpUser = email;
};

async function shot(name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** What every end-user page shares: the stylesheet applied, the organization named (when known), the way back (when known). */
async function expectFrame(o: { organization?: string; back?: string }): Promise<void> {
  // --panel from ui/style.css: the header is styled only when the stylesheet loaded.
  expect(await page.locator('header.site').evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(246, 248, 250)');
  const org = page.locator('header.site .org');
  if (o.organization) expect(await org.textContent()).toBe(o.organization);
  else expect(await org.count()).toBe(0);
  const back = page.getByRole('link', { name: 'Back to the application' });
  if (o.back) expect(await back.getAttribute('href')).toBe(o.back);
  else expect(await back.count()).toBe(0);
}

beforeAll(async () => {
  const idpPort = await freePort();
  IDP_SSO = `http://127.0.0.1:${idpPort}/idp/sso`;
  idp = await startIdP(idpPort);
  t = await startTestApp({
    users: [user('acme', 'alice@acme.test'), user('acme', 'bob@acme.test', { active: false })],
    profile: {
      idp: { ...testProfile().idp, ssoURL: IDP_SSO },
      test: { token: TOKEN, email: 'alice@acme.test', expiresAt: new Date(Date.now() + 3_600_000).toISOString() },
    },
  });
  const config = structuredClone(t.config.current!);
  config.organizations[0]!.displayName = ORG_NAME;
  t.config.apply(config);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  await new Promise((resolve) => (idp ? idp.close(resolve) : resolve(undefined)));
});

beforeEach(async () => {
  page = await browser.newPage();
  violations = [];
  // Chromium reports every CSP refusal on the console ("Refused to load the stylesheet … because
  // it violates the following Content Security Policy directive").
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  page.on('pageerror', (e) => violations.push(e.message));
});

afterEach(async () => {
  expect(violations, violations.join('\n')).toEqual([]);
  await page.close();
});

describe('end-user pages in the browser', () => {
  it('the email entry page: styled, leads back to the application, and starts the sign-in', async () => {
    await page.goto(authorizeURL());
    expect(await page.title()).toBe('Sign in with your company account');
    await expectFrame({ back: BACK });
    await shot('email-entry');
    // An address nobody set up: the message stands next to the field.
    await page.fill('#email', 'someone@nowhere.test');
    await page.click('button[type=submit]');
    await page.waitForURL(/login_hint=/);
    expect(await page.locator('#email-error').textContent()).toContain('Single sign-on is not set up for this email address');
    expect(await page.getAttribute('#email', 'aria-invalid')).toBe('true');
    await expectFrame({ back: BACK });
    await shot('email-entry-error');
    // A real address goes on to the IdP: the form's target answers with a redirect there.
    idpSignsIn('alice@acme.test');
    await page.fill('#email', 'alice@acme.test');
    await page.click('button[type=submit]');
    await page.waitForURL((u) => u.href.startsWith(IDP_SSO));
  });

  it('a refusal after the IdP: the organization\'s name, the code, and the way back', async () => {
    idpSignsIn('zed@acme.test');
    await page.goto(authorizeURL('zed@acme.test'));
    await page.click('#post');
    await page.waitForURL(`${t.base}/saml/acme/okta/acs`);
    expect(await page.locator('h1').textContent()).toBe('Sign-in failed');
    expect(await page.locator('main code').textContent()).toBe('USER_NOT_MANAGED');
    await expectFrame({ organization: ORG_NAME, back: BACK });
    expect(await page.content()).not.toMatch(/spec\.|ManagedUser|SAMLResponse/);
    await shot('refusal-user-not-managed');
  });

  it('a refusal before the IdP (deactivated user): the organization\'s name and the way back', async () => {
    await page.goto(authorizeURL('bob@acme.test'));
    expect(await page.locator('h1').textContent()).toBe('Sign-in refused');
    expect(await page.locator('main code').textContent()).toBe('USER_INACTIVE');
    await expectFrame({ organization: ORG_NAME, back: BACK });
    await shot('refusal-user-inactive');
  });

  it('an error page for a request the application got wrong: no organization, no link anywhere', async () => {
    await page.goto(`${t.base}/authorize?client_id=unknown`);
    expect(await page.locator('main code').textContent()).toBe('invalid_client');
    await expectFrame({});
    await shot('error-unknown-client');
  });

  it('the test result, passed and failed, names the organization', async () => {
    idpSignsIn('alice@acme.test');
    await page.goto(`${t.base}/test/${TOKEN}`);
    await page.click('#post');
    await page.waitForURL(`${t.base}/saml/acme/okta/acs`);
    expect(await page.locator('h1').textContent()).toBe('SSO test succeeded');
    await expectFrame({ organization: ORG_NAME });
    await shot('test-passed');

    idpSignsIn('bob@acme.test');
    await page.goto(`${t.base}/test/${TOKEN}`);
    await page.click('#post');
    await page.waitForURL(`${t.base}/saml/acme/okta/acs`);
    expect(await page.locator('h1').textContent()).toBe('SSO test failed');
    expect(await page.locator('main code').textContent()).toBe('TEST_USER_MISMATCH');
    await expectFrame({ organization: ORG_NAME });
    await shot('test-failed');
  });
});
