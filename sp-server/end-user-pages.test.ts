// The end-user pages in the shared look: one stylesheet and script from this origin under a CSP
// without 'unsafe-inline', the organization's display name, and a way back to the application
// taken only from a registered client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSET_PATHS } from '../ui/assets.ts';
import { APP_CLIENT, startTestApp, user, type TestApp } from '../test/support/sp-app.ts';
import { browserGet, buildAuthorize, CookieJar, discoverClient, type AppClient } from '../test/support/login-driver.ts';
import { EMAIL_PAGE_CSP, PAGE_CSP } from './http-util.ts';
import { oauthClient } from './oauth/clients.ts';
import { applicationURL } from './page-frame.ts';

const REDIRECT = APP_CLIENT.redirect_uris[0] as string;

describe('end-user pages', () => {
  let t: TestApp;
  let app: AppClient;
  beforeAll(async () => {
    t = await startTestApp({ users: [user('acme', 'bob@acme.test', { active: false })] });
    const config = structuredClone(t.config.current!);
    config.organizations[0]!.displayName = 'Acme <Corp>';
    t.config.apply(config);
    app = await discoverClient(t.base, 'console', REDIRECT);
  });
  afterAll(() => t.close());

  it('serve the email page under a CSP without inline script or style, with the stylesheet and a way back', async () => {
    const started = await buildAuthorize(app, 'x@acme.test');
    const url = new URL(started.authorizeURL);
    url.searchParams.delete('login_hint');
    const res = await browserGet(url.toString(), new CookieJar());
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') as string;
    // Its form's redirect goes to whichever IdP serves the address: no form-action on this page only.
    expect(csp).toBe(EMAIL_PAGE_CSP);
    expect(csp).not.toContain('form-action');
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("script-src 'self'");
    const body = await res.text();
    expect(body).toContain(`<link rel="stylesheet" href="${ASSET_PATHS.css}">`);
    expect(body).toContain('href="http://127.0.0.1:1/"');
    expect(body).not.toMatch(/<style|style=|<script>/);
    const css = await fetch(`${t.base}${ASSET_PATHS.css}`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toContain('text/css');
  });

  it('name the organization (escaped) on a refusal for a known organization', async () => {
    const res = await browserGet((await buildAuthorize(app, 'bob@acme.test')).authorizeURL, new CookieJar());
    expect(res.status).toBe(403);
    expect(res.headers.get('content-security-policy')).toBe(PAGE_CSP);
    expect(PAGE_CSP).toContain("form-action 'self'");
    const body = await res.text();
    expect(body).toContain('<span class="org">Acme &lt;Corp&gt;</span>');
    expect(body).toContain('Error code: <code>USER_INACTIVE</code>');
    expect(body).toContain('href="http://127.0.0.1:1/"');
  });

  it('lead back only to a registered client\'s address', () => {
    const client = oauthClient.parse({ client_id: 'c', redirect_uris: ['https://app.example.com/auth/callback'], initiate_login_uri: 'https://app.example.com/login' });
    expect(applicationURL(client, 'https://app.example.com/auth/callback')).toBe('https://app.example.com/');
    expect(applicationURL(client, 'https://evil.example/auth/callback')).toBe('https://app.example.com/login');
    expect(applicationURL(client)).toBe('https://app.example.com/login');
    expect(applicationURL(oauthClient.parse({ client_id: 'd', redirect_uris: ['https://app.example.com/cb'] }))).toBeUndefined();
    expect(applicationURL(undefined, 'https://app.example.com/auth/callback')).toBeUndefined();
  });
});
