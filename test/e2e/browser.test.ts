// A person in a real browser (Debian's Chromium) against the whole local system: the demo
// application, Gatehouse's sp-server and operator on a real control plane, and SimpleSAMLphp
// as the organization's IdP. The same system `make run` starts.
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../support/browser.ts';
import { DEMO_USERS, ORGANIZATION, startLocalSystem, type DemoUser, type LocalSystem } from '../support/local-system.ts';

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

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

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

beforeAll(async () => {
  system = await startLocalSystem();
  browser = await launchBrowser();
  // The example organization asks for enforcement from the start; these tests switch it on
  // themselves, as an admin would, after the connection has been tested.
  const off = await system.kubectl(['patch', 'ssoprofile', 'okta', '-n', ORGANIZATION, '--type=json', '-p', '[{"op":"remove","path":"/spec/enforcement"}]']);
  expect(off.code, off.stderr).toBe(0);
  await until('enforcement NotRequested', async () => ((await profile()).status?.enforcement?.phase === 'NotRequested' ? true : undefined));
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
    const tested = await until('status.test.result Succeeded', async () => {
      const p = await profile();
      return p.status?.test?.result === 'Succeeded' ? p : undefined;
    });
    expect(tested.status?.test?.email?.toLowerCase()).toBe(alice.email);
    await until('Tested=True', async () => ((await profile()).status?.conditions?.find((c) => c.type === 'Tested')?.status === 'True' ? true : undefined));
    expect(await page.textContent('body')).toMatch(/succeeded|success/i);
  });

  it('(c) enforcement applied with kubectl: SSO only for the domain, the exempt admin keeps a password', async () => {
    await fresh('c-enforced');
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
});
