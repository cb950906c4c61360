// The admin portal in a real browser against the whole local system (control plane, operator,
// sp-server, SimpleSAMLphp, DNS server, portal process, SMTP server): a new organization's admin
// goes from a setup link to enforced single sign-on — domain, connection, test by email,
// enforcement, a user's SSO, a CSV import — and then signs in to the portal through Gatehouse.
// Every screen is checked with axe-core (no serious or critical violations), photographed under
// test-results/portal/, and must not trip the CSP; every form's bad input gets a message next to
// its field and changes nothing.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../support/browser.ts';
import type { IdpUser } from '../support/simplesamlphp.ts';
import { waitFor } from '../support/wait.ts';
import { ORGANIZATION, startLocalSystem, type LocalSystem } from '../support/local-system.ts';

const root = join(import.meta.dirname, '..', '..');
const SHOTS = join(root, 'test-results', 'portal');
const AXE_SOURCE = readFileSync(join(root, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

// The new organization: its own namespace and domain, and two people its IdP knows.
const ORG = 'initech';
const DOMAIN = 'initech.test';
const DOMAIN_OBJECT = 'initech-test';
const CONNECTION = 'okta';
const PETER: IdpUser = { username: 'peter@initech.test', password: 'peter-idp', email: 'peter@initech.test', displayName: 'Peter Gibbons' };
const MILTON: IdpUser = { username: 'milton@initech.test', password: 'milton-idp', email: 'milton@initech.test', displayName: 'Milton Waddams' };
const ALICE = { email: 'alice@acme.com', password: 'alice-idp' };

let system: LocalSystem;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const cspViolations: string[] = [];
/** Requests to anywhere but this machine: the portal works with no external network (no CDN, fonts or scripts). */
const externalRequests: string[] = [];
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Every page of the admin: console messages are watched for CSP violations. */
function watch(p: Page): Page {
  p.on('console', (m) => {
    if (/Content Security Policy|Refused to (load|execute|apply|connect|frame)/i.test(m.text())) cspViolations.push(`${p.url()}: ${m.text()}`);
  });
  p.on('pageerror', (err) => cspViolations.push(`${p.url()}: page error ${err.message}`));
  p.on('request', (r) => {
    const url = new URL(r.url());
    if ((url.protocol === 'http:' || url.protocol === 'https:') && !LOCAL_HOSTS.has(url.hostname)) externalRequests.push(r.url());
  });
  // data-confirm forms ask with window.confirm: the admin confirms.
  p.on('dialog', (d) => void d.accept());
  return p;
}

async function newAdminPage(): Promise<void> {
  await context?.close();
  cspViolations.length = 0;
  context = await browser.newContext();
  page = watch(await context.newPage());
}

/** At every screen: axe-core (serious and critical fail), a screenshot, and no CSP violation. */
async function check(step: string): Promise<void> {
  await page.waitForLoadState('load');
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${step}.png`), fullPage: true });
  // The CSP forbids injected script tags; evaluating the source through DevTools is not a script load.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: unknown): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad, `${step}: accessibility violations`).toEqual([]);
  expect(cspViolations, `${step}: CSP violations`).toEqual([]);
  expect(externalRequests, `${step}: requests off this machine`).toEqual([]);
}

/** The form control's message next to it: aria-invalid and the element it is described by. */
async function fieldError(field: Locator): Promise<string> {
  await expect.poll(() => field.getAttribute('aria-invalid'), { timeout: 10_000 }).toBe('true');
  const ids = ((await field.getAttribute('aria-describedby')) ?? '').split(/\s+/).filter(Boolean);
  const texts = await Promise.all(ids.map((id) => page.locator(`[id="${id}"]`).innerText()));
  const text = texts.join(' ').trim();
  expect(text, 'a message next to the field').not.toBe('');
  return text;
}

/** Lets the server, not the browser's form validation, judge the bad input. */
async function submitWithoutBrowserValidation(field: Locator, button: string): Promise<void> {
  await field.evaluate((el) => {
    const form = (el as HTMLInputElement).form;
    if (form) form.noValidate = true;
  });
  await page.getByRole('button', { name: button }).click();
  await page.waitForLoadState('load');
}

/** A section of the portal, from its navigation. */
async function openSection(label: string, path: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: label, exact: true }).click();
  await page.waitForURL(`${system.portal.url}${path}`);
}

async function kubectlJSON<T>(args: string[]): Promise<T> {
  const res = await system.kubectl([...args, '-o', 'json']);
  if (res.code !== 0) throw new Error(res.stderr);
  return JSON.parse(res.stdout) as T;
}

const managedUsers = async () => (await kubectlJSON<{ items: { metadata: { name: string }; spec: { email: string; sso?: string; roles?: string[] } }[] }>(['get', 'managedusers', '-n', ORG])).items;

/** Reloads until `locator` shows up (status written by the operator in the background). */
async function reloadUntil(locator: Locator, timeoutMs = 60_000): Promise<void> {
  await waitFor(`${locator.toString()} on ${page.url()}`, async () => {
    if (await locator.count()) return true;
    await page.waitForTimeout(1000);
    await page.reload();
    return undefined;
  }, timeoutMs);
}

/** On SimpleSAMLphp's login form. */
async function signInAtIdP(p: Page, username: string, password: string): Promise<void> {
  await p.waitForURL((url) => url.href.startsWith(system.idp.url), { timeout: 30_000 });
  await p.fill('input[name="username"]', username);
  await p.fill('input[name="password"]', password);
  await p.press('input[name="password"]', 'Enter');
}

beforeAll(async () => {
  system = await startLocalSystem(() => {}, {
    // SimpleSAMLphp's metadata URL is plain http:// on loopback, which production refuses.
    operatorArgs: ['--allow-private-metadata-urls=true', '--allow-insecure-metadata-urls=true'],
    portalArgs: ['--allow-insecure-metadata-urls'],
    extraIdpUsers: [PETER, MILTON],
  });
  browser = await launchBrowser();
  // The SaaS application created the organization and knows its people; nothing else is set up.
  const created = await system.kubectl(['apply', '--server-side', '-f', '-'], [
    'apiVersion: v1', 'kind: Namespace',
    `metadata: {name: ${ORG}, labels: {sso.gatehouse.dev/organization: "true"}, annotations: {sso.gatehouse.dev/display-name: Initech}}`, '---',
    'apiVersion: sso.gatehouse.dev/v1alpha1', 'kind: ManagedUser', `metadata: {name: peter, namespace: ${ORG}}`, `spec: {email: ${PETER.email}, displayName: Peter Gibbons, roles: [admin]}`, '---',
    'apiVersion: sso.gatehouse.dev/v1alpha1', 'kind: ManagedUser', `metadata: {name: milton, namespace: ${ORG}}`, `spec: {email: ${MILTON.email}, displayName: Milton Waddams, roles: [member]}`,
  ].join('\n'));
  expect(created.code, created.stderr).toBe(0);
}, 240_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await system?.stop();
});

describe('the example organization', () => {
  it('an admin of acme signs in to the portal through Gatehouse and sees the overview and sign-in activity', async () => {
    await newAdminPage();
    await page.goto(`${system.portal.url}/`);
    await page.waitForURL(`${system.portal.url}/signin`);
    await check('acme-signin');
    await page.getByLabel('Work email').fill(ALICE.email);
    await page.getByRole('button', { name: 'Continue with single sign-on' }).click();
    await signInAtIdP(page, ALICE.email, ALICE.password);
    await page.waitForURL(`${system.portal.url}/`, { timeout: 30_000 });
    await expect.poll(() => page.getByRole('heading', { name: 'Single sign-on setup' }).count()).toBe(1);
    expect(await page.textContent('body')).toContain(ALICE.email);
    await check('acme-overview');
    await openSection('Sign-in activity', '/activity');
    // The sign-in that just happened is in the sp-server's activity store.
    await reloadUntil(page.getByRole('cell', { name: new RegExp(ALICE.email) }), 30_000);
    await check('acme-activity');
  });
});

describe('a new organization sets up single sign-on in the portal', () => {
  it('opens a setup link and lands on the overview', async () => {
    await newAdminPage();
    const link = await system.mintSetupLink(ORG);
    expect(link).toMatch(new RegExp(`^${system.portal.url}/setup/`));
    await page.goto(link);
    expect(await page.textContent('body')).toContain('Initech');
    await check('setup-link');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${system.portal.url}/`);
    expect(await page.textContent('body')).toContain('Initech');
    await check('overview');
    // Nothing to show yet.
    await openSection('Sign-in activity', '/activity');
    await expect.poll(() => page.getByText('No sign-ins yet').count()).toBe(1);
    await check('activity-empty');
  });

  it('adds its domain: another organization’s is refused next to the field, its own verifies', async () => {
    await openSection('Domains', '/domains');
    await check('domains');
    const domainField = page.getByLabel('Domain', { exact: true });
    await domainField.fill('acme.com');
    await submitWithoutBrowserValidation(domainField, 'Add domain');
    expect(await fieldError(page.getByLabel('Domain', { exact: true }))).toMatch(/organization|claimed|verified/i);
    await check('domains-another-organization');
    expect((await system.kubectl(['get', 'verifieddomains', '-n', ORG, '-o', 'name'])).stdout.trim()).toBe('');

    await page.getByLabel('Domain', { exact: true }).fill(DOMAIN);
    await page.getByRole('button', { name: 'Add domain' }).click();
    await page.waitForLoadState('load');
    // The operator writes the TXT record to publish; the page shows it once it is there.
    const value = page.locator(`code#txt-value-${DOMAIN_OBJECT}`);
    await waitFor('the TXT record on the page', async () => {
      if (((await value.count()) && (await value.innerText()).trim()) || undefined) return true;
      await page.waitForTimeout(1000);
      await page.reload();
      return undefined;
    }, 60_000);
    await expect.poll(() => page.getByText('Waiting for the TXT record').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await check('domains-waiting');
    const recordName = (await page.locator(`code#txt-name-${DOMAIN_OBJECT}`).innerText()).trim().replace(/\.$/, '');
    const recordValue = (await value.innerText()).trim();
    await system.dns.setTxt(recordName, [recordValue]);
    await page.getByRole('button', { name: 'Re-check now' }).click();
    await page.waitForLoadState('load');
    await reloadUntil(page.locator('.badge', { hasText: /^Verified$/ }), 90_000);
    await check('domains-verified');
  });

  it('creates an Okta connection from the IdP metadata URL; malformed input is refused next to each field', async () => {
    await openSection('SSO connections', '/connections');
    await check('connections');
    await page.getByRole('link', { name: 'New connection' }).click();
    await page.waitForURL(`${system.portal.url}/connections/new`);
    await page.getByRole('group', { name: 'Identity provider' }).getByLabel('Okta', { exact: true }).check();
    await check('connection-new');
    const fillCommon = async () => {
      await page.getByRole('group', { name: 'Identity provider' }).getByLabel('Okta', { exact: true }).check();
      await page.getByLabel('Connection name').fill(CONNECTION);
      await page.getByRole('checkbox', { name: DOMAIN }).check();
    };

    // A metadata URL that is not one.
    await fillCommon();
    await page.getByRole('group', { name: 'IdP configuration' }).getByLabel('Metadata URL', { exact: true }).check();
    await page.getByLabel('IdP metadata URL').fill('not a url');
    await submitWithoutBrowserValidation(page.getByLabel('IdP metadata URL'), 'Create connection');
    expect(await fieldError(page.getByLabel('IdP metadata URL'))).not.toBe('');
    await check('connection-bad-metadata-url');

    // A certificate that is not PEM.
    await fillCommon();
    await page.getByRole('group', { name: 'IdP configuration' }).getByLabel('Enter manually').check();
    await page.getByLabel('IdP entity ID').fill(system.idp.entityID);
    await page.getByLabel('SSO URL').fill(system.idp.ssoURL);
    await page.getByLabel('Signing certificate (PEM)').fill('this is not a certificate');
    await submitWithoutBrowserValidation(page.getByLabel('Signing certificate (PEM)'), 'Create connection');
    expect(await fieldError(page.getByLabel('Signing certificate (PEM)'))).toMatch(/PEM|certificate/i);
    await check('connection-bad-certificate');
    expect((await system.kubectl(['get', 'ssoprofiles', '-n', ORG, '-o', 'name'])).stdout.trim()).toBe('');

    // SimpleSAMLphp's metadata URL, as an Okta admin copies the app's metadata URL.
    await fillCommon();
    await page.getByRole('group', { name: 'IdP configuration' }).getByLabel('Metadata URL', { exact: true }).check();
    await page.getByLabel('IdP metadata URL').fill(system.idp.entityID);
    await page.getByRole('button', { name: 'Create connection' }).click();
    await page.waitForURL(`${system.portal.url}/connections/${CONNECTION}`, { timeout: 30_000 });
    // The operator publishes the SP's values in the profile's status a moment later.
    await reloadUntil(page.locator('code#sp-entity-id'));
    const entityID = (await page.locator('code#sp-entity-id').innerText()).trim();
    const acsURL = (await page.locator('code#sp-acs-url').innerText()).trim();
    expect(entityID).toBe(`${system.spURL}/saml/${ORG}/${CONNECTION}/metadata`);
    expect(acsURL).toBe(`${system.spURL}/saml/${ORG}/${CONNECTION}/acs`);
    expect(await page.getByRole('link', { name: 'Download SP metadata' }).count()).toBe(1);
    // The IdP admin pastes the SP's values into the IdP.
    system.idp.addServiceProvider({ entityID, acsURL });
    const ready = await system.kubectl(['wait', '--for=condition=IdPConfigValid', '--timeout=90s', `ssoprofile/${CONNECTION}`, '-n', ORG]);
    expect(ready.code, ready.stderr).toBe(0);
    await page.reload();
    await check('connection');
  });

  it('tests the connection: the link arrives by email, the test user signs in, the page shows Succeeded', async () => {
    await page.getByRole('link', { name: 'Test connection' }).click();
    await page.waitForURL(`${system.portal.url}/connections/${CONNECTION}/test`);
    await page.getByLabel('Test user email').fill(PETER.email);
    await page.getByLabel('Email the test link to the test user').check();
    await check('connection-test');
    await page.getByRole('button', { name: 'Start test' }).click();
    await page.waitForLoadState('load');
    await expect.poll(() => page.getByRole('link', { name: 'Open the test link' }).count(), { timeout: 30_000 }).toBe(1);
    await expect.poll(() => page.getByText('Waiting for the test').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await check('connection-test-waiting');

    const mail = await system.smtp.waitFor(PETER.email);
    const link = new RegExp(`${system.spURL.replace(/[.]/g, '\\.')}/\\S+`).exec(mail.text)?.[0];
    expect(link, `a link in the email: ${mail.text}`).toBeDefined();
    expect(link).toBe(await page.getByRole('link', { name: 'Open the test link' }).getAttribute('href'));
    // The test user opens it in their own browser.
    const testUser = await browser.newContext();
    try {
      const userPage = await testUser.newPage();
      await userPage.goto(link as string);
      await signInAtIdP(userPage, PETER.username, PETER.password);
      await userPage.waitForURL((url) => url.href.startsWith(system.spURL), { timeout: 30_000 });
    } finally {
      await testUser.close();
    }
    // The live region picks the result up without a reload.
    await page.getByText('Succeeded', { exact: true }).first().waitFor({ timeout: 60_000 });
    await check('connection-test-succeeded');
  });

  it('enforces single sign-on with the progress bar reaching Enforced', async () => {
    await openSection('Enforcement', '/enforcement');
    await page.getByRole('group', { name: 'Domains to enforce' }).getByRole('checkbox', { name: DOMAIN }).check();
    // A setup-link session has no email of its own: the admin keeps themselves exempt.
    await page.getByLabel('Exempt administrators').fill(PETER.email);
    await check('enforcement');
    await page.getByRole('button', { name: 'Review' }).click();
    await page.waitForLoadState('load');
    expect(await page.textContent('body')).toMatch(/\d+ users? will be required to sign in with single sign-on/);
    await check('enforcement-review');
    await page.getByRole('button', { name: 'Enforce single sign-on' }).click();
    await page.waitForLoadState('load');
    await page.getByRole('progressbar', { name: 'Enforcement progress' }).waitFor({ timeout: 30_000 });
    await page.getByText('Enforced', { exact: true }).first().waitFor({ timeout: 90_000 });
    const progress = page.getByRole('progressbar', { name: 'Enforcement progress' });
    expect(await progress.evaluate((p) => (p as HTMLProgressElement).value === (p as HTMLProgressElement).max)).toBe(true);
    await check('enforcement-enforced');
  });

  it('turns one user’s SSO off', async () => {
    await openSection('Users', '/users');
    await check('users');
    await page.getByLabel('Search users').fill('milton');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForLoadState('load');
    await page.getByRole('link', { name: MILTON.email }).click();
    await page.waitForURL(`${system.portal.url}/users/milton`);
    await check('user');
    await page.getByRole('group', { name: 'Single sign-on' }).getByLabel('Disabled', { exact: true }).check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForLoadState('load');
    await waitFor('milton spec.sso Disabled', async () => ((await managedUsers()).find((u) => u.metadata.name === 'milton')?.spec.sso === 'Disabled' ? true : undefined), 15_000);
    await check('user-saved');
  });

  it('imports users from a CSV: a file with bad rows creates nothing and says which rows, a good one creates them all', async () => {
    await page.goto(`${system.portal.url}/users/import`);
    await check('users-import');
    const before = (await managedUsers()).length;
    const file = page.getByLabel('CSV file');
    await file.setInputFiles({
      name: 'users.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(['email,displayName,roles,sso,active', 'samir@initech.test,Samir Nagheenanajar,member,Inherit,true', 'not-an-email,Nobody,member,Inherit,true', 'michael@initech.test,Michael Bolton,member,Sometimes,true'].join('\n')),
    });
    await page.getByRole('button', { name: 'Import users' }).click();
    await page.waitForLoadState('load');
    // Nothing imported, said as an error, with each bad row by its line in the file (the header is line 1).
    await page.getByRole('alert').first().waitFor({ timeout: 10_000 });
    expect(await page.getByRole('row').filter({ hasText: 'not-an-email' }).getByRole('cell', { name: '3', exact: true }).count()).toBe(1);
    expect(await page.getByRole('row').filter({ hasText: 'michael@initech.test' }).getByRole('cell', { name: '4', exact: true }).count()).toBe(1);
    expect((await managedUsers()).length).toBe(before);
    await check('users-import-errors');

    await page.getByLabel('CSV file').setInputFiles({
      name: 'users.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(['email,displayName,roles,sso,active', 'samir@initech.test,Samir Nagheenanajar,member,Inherit,true', 'michael@initech.test,Michael Bolton,member;billing:read,Enabled,true'].join('\n')),
    });
    await page.getByRole('button', { name: 'Import users' }).click();
    await page.waitForLoadState('load');
    const emails = await waitFor('the imported users', async () => {
      const all = (await managedUsers()).map((u) => u.spec.email.toLowerCase());
      return all.includes('samir@initech.test') && all.includes('michael@initech.test') ? all : undefined;
    }, 15_000);
    expect(emails).toHaveLength(before + 2);
    await check('users-imported');
  });

  it('signs out, then signs in to the portal through Gatehouse as the admin and sees the overview', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForLoadState('load');
    await check('signed-out');
    await page.goto(`${system.portal.url}/signin`);
    await page.getByLabel('Work email').fill(PETER.email);
    await page.getByRole('button', { name: 'Continue with single sign-on' }).click();
    await signInAtIdP(page, PETER.username, PETER.password);
    await page.waitForURL(`${system.portal.url}/`, { timeout: 30_000 });
    const body = await page.textContent('body');
    expect(body).toContain('Initech');
    expect(body).toContain(PETER.email);
    await check('overview-signed-in-by-sso');
    // The organization's sign-ins, this one included, with the test that passed.
    await openSection('Sign-in activity', '/activity');
    await reloadUntil(page.getByRole('cell', { name: /Test passed/ }), 30_000);
    await check('activity');
  });
});

// The organization the example ships with is untouched by all this.
it('leaves the example organization alone', async () => {
  const res = await system.kubectl(['get', 'ssoprofile', 'okta', '-n', ORGANIZATION, '-o', 'jsonpath={.metadata.managedFields[*].manager}']);
  expect(res.stdout).not.toContain('gatehouse-portal');
});
