// A person in a real browser (Debian's Chromium) signing in through an OpenID Connect upstream:
// the whole local system (control plane, operator, sp-server, DNS, the demo application) with
// panva's oidc-provider as Google-shaped, Entra-shaped and generic OpenID Providers on loopback.
// The organization is test/support/oidc-organization.ts: northwind.com on Google, northwind.eu on
// Entra, northwind.io on a generic provider that authenticates Gatehouse by private_key_jwt.
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RefusalCode } from '../../sp-server/refusals.ts';
import { launchBrowser, screenshot } from '../support/browser.ts';
import { DEMO_CLIENT_ID, startLocalSystem, type LocalSystem } from '../support/local-system.ts';
import { loginMethodsOf } from '../support/login-driver.ts';
import type { OIDCUpstream } from '../support/oidc-upstream.ts';
import {
  GOOGLE_DOMAIN,
  OIDC_ORGANIZATION as ORG,
  OIDC_PEOPLE as people,
  OTHER_HOSTED_DOMAIN,
  OTHER_TENANT,
  startOIDCOrganization,
  type OIDCOrganization,
  type OIDCProfileName,
} from '../support/oidc-organization.ts';
import { waitFor } from '../support/wait.ts';

/** The stable codes the refusal pages and status.recentFailures must show. */
const CODE = {
  hd: 'HOSTED_DOMAIN_MISMATCH',
  tenant: 'TENANT_MISMATCH',
  emailUnverified: 'EMAIL_NOT_VERIFIED',
  stateReplayed: 'OIDC_STATE_INVALID',
} as const satisfies Record<string, RefusalCode>;

let system: LocalSystem;
let organization: OIDCOrganization;
let google: OIDCUpstream;
let entra: OIDCUpstream;
let generic: OIDCUpstream;
let browser: Browser;
let page: Page;
let shotName = '';

const callbackURL = (profile: OIDCProfileName) => organization.callbackURL(profile);

async function kubectlOK(args: string[], stdin?: string): Promise<string> {
  const res = await system.kubectl(args, stdin);
  if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

interface ProfileView {
  status?: {
    sp?: { redirectURI?: string };
    test?: { url?: string; result?: string; email?: string };
    enforcement?: { phase?: string };
    recentFailures?: { code: string; hint: string; count: number }[];
  };
}
const profile = async (name: string) => JSON.parse(await kubectlOK(['get', 'ssoprofile', name, '-n', ORG, '-o', 'json'])) as ProfileView;

beforeAll(async () => {
  system = await startLocalSystem(() => {}, {
    // The providers listen on plain http:// on loopback, which production refuses (the test
    // sp-server process allows loopback providers by default).
    operatorArgs: ['--allow-private-metadata-urls=true', '--allow-insecure-metadata-urls=true'],
    statusIntervalMs: 1_000,
  });
  organization = await startOIDCOrganization(system);
  ({ google, entra, generic } = organization);
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await organization?.close();
  await system?.stop();
});

/** The demo application's email-first form, then its SSO button (or straight to the provider when SSO is enforced). */
async function startSignIn(email: string): Promise<void> {
  await page.goto(system.demoURL);
  await page.fill('input[name="email"]', email);
  await page.click('#continue');
  await page.waitForLoadState('load');
  if (await page.locator('#sso').count()) await page.click('#sso');
}

/** On the upstream's sign-in form: sign in as `email`. */
async function signInAtProvider(upstream: OIDCUpstream, email: string): Promise<void> {
  await page.waitForURL((url) => url.href.startsWith(upstream.origin), { timeout: 30_000 });
  await page.fill('input[name="login"]', email);
  await page.click('button[type="submit"]');
}

/** From the application's email form through the provider's sign-in form, as `email`. */
async function signInThrough(upstream: OIDCUpstream, email: string): Promise<void> {
  await startSignIn(email);
  await signInAtProvider(upstream, email);
}

async function expectSignedInAs(email: string): Promise<void> {
  await page.waitForURL(`${system.demoURL}/`, { timeout: 30_000 });
  expect((await page.textContent('#email'))?.toLowerCase()).toBe(email);
  expect(await page.textContent('#method')).toBe('SSO');
}

/**
 * The sp-server's refusal page at the profile's callback shows `code`; the application got no
 * login (the browser is signed in as `signedInBefore`, or not at all); the profile's status records it.
 */
async function expectRefused(profileName: OIDCProfileName, code: RefusalCode, hintMentions: string, signedInBefore?: string): Promise<void> {
  await page.waitForURL((url) => url.href.startsWith(callbackURL(profileName)), { timeout: 30_000 });
  await page.waitForSelector(`text=${code}`, { timeout: 30_000 });
  const app = await page.context().newPage();
  await app.goto(system.demoURL);
  if (signedInBefore) expect((await app.textContent('#email'))?.toLowerCase()).toBe(signedInBefore);
  else expect(await app.locator('#signed-in').count()).toBe(0);
  await app.close();
  // Refusals of one code are coalesced into one entry: wait for the hint of this one.
  await waitFor(`status.recentFailures of ${profileName} to record ${code} about ${hintMentions}`, async () => {
    const failures = (await profile(profileName)).status?.recentFailures;
    return failures?.some((f) => f.code === code && f.hint.includes(hintMentions)) ? true : undefined;
  }, 60_000, async () => JSON.stringify((await profile(profileName)).status?.recentFailures));
}

describe('signing in through an OpenID Connect provider in a browser', () => {
  afterEach(async () => {
    if (page && shotName && !page.isClosed()) await screenshot(page, `oidc-${shotName}`);
    await page?.context().close();
  });

  // A new browser profile for each sign-in: the provider remembers who signed in last.
  const fresh = async (name: string) => {
    if (page && shotName && !page.isClosed()) {
      await screenshot(page, `oidc-${shotName}`);
      await page.context().close();
    }
    shotName = name;
    page = await (await browser.newContext()).newPage();
  };

  it('(a) a Google Workspace user signs in and lands in the application as that email', async () => {
    await fresh('a-google-login');
    // The redirect URI the provider's client was registered with is the one the profile shows.
    expect((await profile('google')).status?.sp?.redirectURI).toBe(callbackURL('google'));
    await signInThrough(google, people.ann);
    await expectSignedInAs(people.ann);
  });

  it('(b) an Entra ID user signs in; the groups claim maps to roles', async () => {
    await fresh('b-entra-login');
    await signInThrough(entra, people.eva);
    await expectSignedInAs(people.eva);
    expect(await page.textContent('body')).toContain('billing:read');
  });

  it('(b2) any OpenID Provider, with private_key_jwt: the provider verifies the key Gatehouse serves', async () => {
    await fresh('b2-generic-private-key-jwt');
    await signInThrough(generic, people.gil);
    await expectSignedInAs(people.gil);
  });

  it('(c) a personal Google account (no hd) and a Workspace account of another domain are refused', async () => {
    await fresh('c-google-no-hd');
    await signInThrough(google, people.pat);
    await expectRefused('google', CODE.hd, people.pat);

    await fresh('c-google-other-hd');
    await signInThrough(google, people.hal);
    await expectRefused('google', CODE.hd, OTHER_HOSTED_DOMAIN);
  });

  it('(d) a token of another Entra tenant is refused', async () => {
    await fresh('d-entra-other-tenant');
    await signInThrough(entra, people.tom);
    await expectRefused('entra', CODE.tenant, OTHER_TENANT);
  });

  it('(e) an address the provider has not verified is refused', async () => {
    await fresh('e-email-not-verified');
    await signInThrough(google, people.una);
    await expectRefused('google', CODE.emailUnverified, people.una);
  });

  it('(f) the provider\'s redirect opened again (a replayed state) is refused', async () => {
    await fresh('f-state-replayed');
    const callbacks: string[] = [];
    page.on('request', (req) => {
      if (req.url().startsWith(`${callbackURL('google')}?`)) callbacks.push(req.url());
    });
    await signInThrough(google, people.ann);
    await expectSignedInAs(people.ann);
    expect(callbacks).toHaveLength(1);
    expect(new URL(callbacks[0]!).searchParams.get('state')).toBeTruthy();
    // Opened again in the same browser, and by someone else who got hold of the URL.
    await page.goto(callbacks[0]!);
    await expectRefused('google', CODE.stateReplayed, '', people.ann);
    await fresh('f-state-replayed-other-browser');
    await page.goto(callbacks[0]!);
    await expectRefused('google', CODE.stateReplayed, '');
  });

  it('(g) after a passed test link and enforcement, a user can sign in only through the OIDC profile', async () => {
    await fresh('g-enforced-oidc-only');
    const link = (await profile('google')).status?.test?.url;
    expect(link).toMatch(new RegExp(`^${system.spURL}/test/`));
    await page.goto(link!);
    await signInAtProvider(google, people.ann);
    await page.waitForLoadState('load');
    await waitFor('status.test.result Succeeded', async () => ((await profile('google')).status?.test?.result === 'Succeeded' ? true : undefined), 60_000);
    expect(await page.textContent('body')).toMatch(/succeeded|success/i);

    const before = await loginMethodsOf(system.spURL, people.ben, { id: DEMO_CLIENT_ID });
    expect(before.methods).toEqual(expect.arrayContaining(['sso', 'password']));
    await kubectlOK(
      ['apply', '--server-side', '--field-manager=security-admin', '-f', '-'],
      JSON.stringify({ apiVersion: 'sso.gatehouse.dev/v1alpha1', kind: 'SSOProfile', metadata: { name: 'google', namespace: ORG }, spec: { enforcement: { domains: [GOOGLE_DOMAIN] } } }),
    );
    await kubectlOK(['wait', '--for=jsonpath={.status.enforcement.phase}=Enforced', '--timeout=60s', 'ssoprofile/google', '-n', ORG]);
    const after = await waitFor('login-methods to offer SSO only', async () => {
      const m = await loginMethodsOf(system.spURL, people.ben, { id: DEMO_CLIENT_ID });
      return m.methods.includes('password') ? undefined : m;
    }, 60_000);
    expect(after.methods).toEqual(['sso']);

    await fresh('g-enforced-login');
    // No password box: the application sends Ben straight to the provider.
    await startSignIn(people.ben);
    await page.waitForURL((url) => url.href.startsWith(google.origin), { timeout: 30_000 });
    expect(await page.locator('#sign-in').count()).toBe(0);
    await signInAtProvider(google, people.ben);
    await expectSignedInAs(people.ben);
  });
});
