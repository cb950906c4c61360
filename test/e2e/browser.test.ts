// A person in a real browser (Debian's Chromium) against the whole local system: the demo
// application, Gatehouse's sp-server and operator on a real control plane, and SimpleSAMLphp
// as the organization's IdP. The same system `make run` starts.
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../support/browser.ts';
import { waitFor } from '../support/wait.ts';
import { DEMO_CLIENT_ID, DEMO_USERS, ORGANIZATION, startLocalSystem, type DemoUser, type LocalSystem } from '../support/local-system.ts';
import { loginMethodsOf } from '../support/login-driver.ts';

let system: LocalSystem;
let browser: Browser;
let page: Page;
let shotName = '';

const user = (email: string): DemoUser => {
  const u = DEMO_USERS.find((d) => d.email.toLowerCase() === email.toLowerCase());
  if (!u) throw new Error(`no demo user ${email}`);
  return u;
};

async function kubectlJSON<T>(args: string[]): Promise<T> {
  const res = await system.kubectl([...args, '-o', 'json']);
  if (res.code !== 0) throw new Error(res.stderr);
  return JSON.parse(res.stdout) as T;
}

interface ProfileView {
  spec: { enforcement?: unknown };
  status?: {
    test?: { url?: string; result?: string; email?: string; errorCode?: string; message?: string };
    enforcement?: { phase?: string; matchedUsers?: number; enforcedUsers?: number };
    conditions?: { type: string; status: string; reason: string }[];
  };
}
const profile = () => kubectlJSON<ProfileView>(['get', 'ssoprofile', 'okta', '-n', ORGANIZATION]);


/** On SimpleSAMLphp's login form: sign in as the user. */
async function signInAtIdP(u: DemoUser): Promise<void> {
  await page.waitForURL((url) => url.href.startsWith(system.idp.url), { timeout: 30_000 });
  await page.fill('input[name="username"]', u.email);
  await page.fill('input[name="password"]', u.idpPassword);
  await page.press('input[name="password"]', 'Enter');
}

/** The demo application's first step: the email-first form. */
async function enterEmail(email: string): Promise<void> {
  await page.goto(system.demoURL);
  await page.fill('input[name="email"]', email);
  await page.click('#continue');
}

/** What a security admin does with kubectl: enforce SSO for acme.com, alice exempt; waits for Enforced. */
async function enforceAcme(): Promise<void> {
  const apply = await system.kubectl(
    ['apply', '--server-side', '--field-manager=security-admin', '-f', '-'],
    [
      'apiVersion: sso.gatehouse.dev/v1alpha1',
      'kind: SSOProfile',
      `metadata: {name: okta, namespace: ${ORGANIZATION}}`,
      'spec:',
      '  enforcement:',
      '    domains: [acme.com]',
      '    exempt: [alice@acme.com]',
    ].join('\n'),
  );
  expect(apply.code, apply.stderr).toBe(0);
  const wait = await system.kubectl(['wait', '--for=jsonpath={.status.enforcement.phase}=Enforced', '--timeout=60s', 'ssoprofile/okta', '-n', ORGANIZATION]);
  expect(wait.code, wait.stderr).toBe(0);
}

beforeAll(async () => {
  system = await startLocalSystem();
  browser = await launchBrowser();
  // The example organization asks for enforcement from the start; these tests switch it on
  // themselves, as an admin would, after the connection has been tested.
  const off = await system.kubectl(['patch', 'ssoprofile', 'okta', '-n', ORGANIZATION, '--type=json', '-p', '[{"op":"remove","path":"/spec/enforcement"}]']);
  expect(off.code, off.stderr).toBe(0);
  await waitFor('enforcement NotRequested', async () => ((await profile()).status?.enforcement?.phase === 'NotRequested' ? true : undefined), 60_000);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await system?.stop();
});

describe('signing in through Gatehouse in a browser', () => {
  afterEach(async () => {
    if (page && shotName) await screenshot(page, shotName);
    await page?.context().close();
  });

  const fresh = async (name: string) => {
    shotName = name;
    page = await (await browser.newContext()).newPage();
  };

  it('(a) a managed user signs in with SSO and lands in the application as that email', async () => {
    await fresh('a-sso-login');
    const bob = user('Bob.Builder@acme.com');
    await enterEmail(bob.email);
    // SSO is available but not enforced: the application offers both.
    await page.waitForSelector('#password');
    expect(await page.locator('#sso').count()).toBe(1);
    await page.click('#sso');
    await signInAtIdP(bob);
    await page.waitForURL(`${system.demoURL}/`, { timeout: 30_000 });
    expect((await page.textContent('#email'))?.toLowerCase()).toBe(bob.email.toLowerCase());
    expect(await page.textContent('#method')).toBe('SSO');
    // Role mapping: the IdP's Finance group becomes billing:read in the ID token.
    expect(await page.textContent('body')).toContain('billing:read');
  });

  it('(b) the test-connection link, completed in the browser, marks the profile tested', async () => {
    await fresh('b-test-connection');
    const before = await profile();
    const link = before.status?.test?.url;
    expect(link).toMatch(new RegExp(`^${system.spURL}/test/`));
    expect(before.status?.conditions?.find((c) => c.type === 'Tested')?.status).not.toBe('True');

    const alice = user('alice@acme.com');
    await page.goto(link!);
    await signInAtIdP(alice);
    await page.waitForLoadState('load');
    const tested = await waitFor('status.test.result Succeeded', async () => {
      const p = await profile();
      return p.status?.test?.result === 'Succeeded' ? p : undefined;
    }, 60_000);
    expect(tested.status?.test?.email?.toLowerCase()).toBe(alice.email);
    await waitFor('Tested=True', async () => ((await profile()).status?.conditions?.find((c) => c.type === 'Tested')?.status === 'True' ? true : undefined), 60_000);
    expect(await page.textContent('body')).toMatch(/succeeded|success/i);
  });

  it('(c) a password session made before enforcement survives it; after sign-out the next login is SSO only', async () => {
    await fresh('c-session-survives-enforcement');
    const bob = user('Bob.Builder@acme.com');
    await enterEmail(bob.email);
    await page.fill('#password', bob.appPassword);
    await page.click('#sign-in');
    await page.waitForURL(`${system.demoURL}/`);
    expect(await page.textContent('#method')).toBe('password');

    await enforceAcme();
    const methods = await loginMethodsOf(system.spURL, bob.email, { id: DEMO_CLIENT_ID });
    expect(methods.methods).not.toContain('password');
    // Enforcement governs how users sign in, not the sessions the application already issued.
    const account = await page.goto(`${system.demoURL}/account`);
    expect(account?.status()).toBe(200);
    expect((await page.textContent('#email'))?.toLowerCase()).toBe(bob.email.toLowerCase());
    expect(await page.textContent('#method')).toBe('password');

    await page.click('#sign-out');
    await page.waitForURL(`${system.demoURL}/`);
    expect((await page.goto(`${system.demoURL}/account`))?.status()).toBe(401);
    // The next login offers no password: the application sends Bob straight to the IdP.
    await enterEmail(bob.email);
    await page.waitForURL((url) => url.href.startsWith(system.idp.url), { timeout: 30_000 });
    await page.waitForSelector('input[name="username"]');
    expect(await page.locator('#sign-in').count()).toBe(0);
    await signInAtIdP(bob);
    await page.waitForURL(`${system.demoURL}/`, { timeout: 30_000 });
    expect(await page.textContent('#method')).toBe('SSO');
  });

  it('(c2) enforcement applied with kubectl: SSO only for the domain, the exempt admin keeps a password', async () => {
    await fresh('c-enforced');
    await enforceAcme();
    const enforced = await profile();
    expect(enforced.status?.enforcement?.enforcedUsers).toBeGreaterThanOrEqual(1);

    // The exempt admin still gets the application's password box.
    await enterEmail('alice@acme.com');
    await page.waitForSelector('#password');
    // Bob no longer does: the application sends him straight to the IdP.
    await enterEmail('Bob.Builder@acme.com');
    await page.waitForURL((url) => url.href.startsWith(system.idp.url), { timeout: 30_000 });
    // What Bob sees now is the IdP's sign-in form, not the application's.
    await page.waitForSelector('input[name="username"]');
    expect(await page.locator('#sign-in').count()).toBe(0);
  });

  it('(d) a user whose SSO is Disabled keeps password login while the domain is enforced', async () => {
    await fresh('d-sso-disabled-password');
    const phase = (await profile()).status?.enforcement?.phase;
    expect(phase).toBe('Enforced');
    const carol = user('carol@acme.com');
    await enterEmail(carol.email);
    await page.fill('#password', carol.appPassword);
    await page.click('#sign-in');
    await page.waitForURL(`${system.demoURL}/`);
    expect(await page.textContent('#email')).toBe(carol.email);
    expect(await page.textContent('#method')).toBe('password');
  });

  it('(e) the IdP signing in a user of another organization is refused, and the admin sees why', async () => {
    await fresh('e-other-organization-refused');
    // globex is a second organization with its own verified domain and user eve.
    const setup = await system.kubectl(['apply', '--server-side', '-f', '-'], [
      'apiVersion: v1', 'kind: Namespace', 'metadata: {name: globex}', '---',
      'apiVersion: sso.gatehouse.dev/v1alpha1', 'kind: VerifiedDomain', 'metadata: {name: globex-com, namespace: globex}', 'spec: {domain: globex.com}', '---',
      'apiVersion: sso.gatehouse.dev/v1alpha1', 'kind: ManagedUser', 'metadata: {name: eve, namespace: globex}', 'spec: {email: eve@globex.com}',
    ].join('\n'));
    expect(setup.code, setup.stderr).toBe(0);
    const record = await waitFor('globex.com token', async () => {
      const out = (await system.kubectl(['get', 'vd', 'globex-com', '-n', 'globex', '-o', 'jsonpath={.status.verification.recordName} {.status.verification.recordValue}'])).stdout.trim().split(' ');
      return out[0] && out[1] ? out : undefined;
    }, 60_000);
    await system.dns.setTxt(record[0]!, [record[1]!]);
    const verified = await system.kubectl(['wait', '--for=condition=Verified', '--timeout=60s', 'vd/globex-com', '-n', 'globex']);
    expect(verified.code, verified.stderr).toBe(0);

    // Bob's SSO (acme.com is enforced) goes to acme's IdP, where eve signs in instead.
    await enterEmail('Bob.Builder@acme.com');
    await signInAtIdP(user('eve@globex.com'));
    // SimpleSAMLphp posts the response to the ACS, which answers with the refusal page.
    await page.waitForURL((url) => url.href.startsWith(`${system.spURL}/saml/`), { timeout: 30_000 });
    await page.waitForSelector('text=USER_OTHER_ORGANIZATION');
    // The application never got a login.
    const app = await page.context().newPage();
    await app.goto(system.demoURL);
    expect(await app.locator('#signed-in').count()).toBe(0);
    await app.close();
    const failure = await waitFor('recentFailures to name the refusal', async () => {
      const p = await kubectlJSON<{ status?: { recentFailures?: { code: string; hint: string }[] } }>(['get', 'ssoprofile', 'okta', '-n', ORGANIZATION]);
      return p.status?.recentFailures?.find((f) => f.code === 'USER_OTHER_ORGANIZATION');
    }, 60_000);
    expect(failure.hint).toContain('eve@globex.com');
  });

  it('(f) a sign-in started at the IdP becomes a fresh SP-initiated login through the application', async () => {
    await fresh('f-idp-initiated');
    const bob = user('Bob.Builder@acme.com');
    await page.goto(system.idp.idpInitiatedURL(`${system.spURL}/saml/${ORGANIZATION}/okta/metadata`));
    await signInAtIdP(bob);
    await page.waitForURL(`${system.demoURL}/`, { timeout: 30_000 });
    expect((await page.textContent('#email'))?.toLowerCase()).toBe(bob.email.toLowerCase());
    expect(await page.textContent('#method')).toBe('SSO');
    const metrics = await system.spServer.metrics();
    expect(metrics).toMatch(/code="UNSOLICITED_RESPONSE"[^\n]* [1-9]/);
  });
});
