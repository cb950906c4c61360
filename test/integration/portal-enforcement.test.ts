// The enforcement screen with a real operator: the review states the count the operator then
// enforces, warns while enforcement would be Blocked, keeps the signed-in admin exempt unless they
// confirm removing themselves, and the progress JSON follows status.enforcement to Enforced (or
// Blocked, in plain words); removing enforcement is confirmed and undone by the operator.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SSOProfile } from '../../crds/api/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { ActivitySource } from '../../portal/context.ts';
import { DnsServer } from '../support/dns-server.ts';
import { metadataXml } from '../support/idp-fixtures.ts';
import { condition, create, createNamespace, deleteNamespace, getProfile, listUsers, pool, testClient } from '../support/kube.ts';
import { OperatorProcess } from '../support/operator-process.ts';
import { recordTestResult, verifyDomain } from '../support/organization.ts';
import { signInAsSSOAdmin, signInWithSetupLink, startTestPortal, type PortalClient, type TestPortal } from '../support/portal.ts';
import { waitFor } from '../support/wait.ts';

const kubeconfig = inject('kubeconfig');
const suffix = randomBytes(3).toString('hex');
const system = `pe-system-${suffix}`;
const org = `pe-org-${suffix}`;
const DOMAIN = `enf-${suffix}.example`;
const OTHER = `other-${suffix}.example`;
const ADMIN = `admin@${DOMAIN}`;

let kube: KubeClient;
let dns: DnsServer;
let op: OperatorProcess;
let portal: TestPortal;
let admin: PortalClient;

interface Progress {
  phase: string;
  text: string;
  matchedUsers: number;
  enforcedUsers: number;
  progress: { value: number; max: number };
  done: boolean;
}

const progress = async (client: PortalClient, name: string) => JSON.parse((await client.get(`/enforcement/${name}/progress.json`, 'application/json')).body) as Progress;
const countOf = (body: string) => Number(/(\d+) users will be required to sign in with single sign-on/.exec(body)?.[1] ?? NaN);

async function review(client: PortalClient, form: Record<string, string | string[]>) {
  const page = await client.get(`/enforcement?connection=${String(form.connection)}`);
  const generation = /name="generation" value="(\d+)"/.exec(page.body)?.[1] as string;
  return client.post('/enforcement/review', { generation, unmanagedUsers: 'Refuse', ...form });
}

/** Submits the review page's "Enforce single sign-on" form as the browser would. */
async function enforceFrom(client: PortalClient, reviewBody: string) {
  const form = /<form method="post" action="\/enforcement\/apply">([\s\S]*?)<\/form>/.exec(reviewBody)?.[1] ?? '';
  const fields: [string, string][] = [...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1] as string, (m[2] as string).replace(/&#64;/g, '@').replace(/&amp;/g, '&')]);
  const body: Record<string, string[]> = {};
  for (const [k, v] of fields) (body[k] ??= []).push(v);
  return client.post('/enforcement/apply', body);
}

beforeAll(async () => {
  kube = await testClient(kubeconfig);
  for (const ns of [system, org]) await createNamespace(kube, ns);
  dns = await DnsServer.start();
  op = await OperatorProcess.start({ kubeconfig, namespace: system, watchNamespaces: [org], dnsServers: [dns.address], args: ['--domain-recheck-interval=300ms'] });
  await verifyDomain(kube, dns, org, DOMAIN);
  await create(kube, 'ssoprofiles', org, { kind: 'SSOProfile', metadata: { name: 'idp' }, spec: { idp: { metadata: { xml: metadataXml() } }, domains: [DOMAIN], test: { email: ADMIN } } });
  await create(kube, 'ssoprofiles', org, { kind: 'SSOProfile', metadata: { name: 'other' }, spec: { idp: { metadata: { xml: metadataXml() } }, domains: [OTHER] } });
  const users = [
    { name: 'admin', spec: { email: ADMIN, roles: ['admin'] } },
    ...Array.from({ length: 12 }, (_, i) => ({ name: `u${i}`, spec: { email: `user${i}@${DOMAIN}`, ...(i === 3 ? { sso: 'Disabled' } : {}), ...(i === 4 ? { active: false } : {}) } })),
    { name: 'elsewhere', spec: { email: `someone@${OTHER}` } },
  ];
  await pool(users, 8, (u) => create(kube, 'managedusers', org, { kind: 'ManagedUser', metadata: { name: u.name }, spec: u.spec }));
  await waitFor('the connection valid', async () => condition(await getProfile(kube, org, 'idp'), 'IdPConfigValid')?.status === 'True', 30_000);
  // Recent sign-ins as the sp-server reports them: one address of the domain is not a managed user.
  const activity: ActivitySource = {
    latest: async (namespace) =>
      namespace === org
        ? [
            { time: new Date().toISOString(), outcome: 'signed-in', email: `Stranger@${DOMAIN}`, protocol: 'saml' },
            { time: new Date().toISOString(), outcome: 'signed-in', email: `user1@${DOMAIN}`, protocol: 'saml' },
            { time: new Date().toISOString(), outcome: 'refused', email: `someone@${OTHER}`, protocol: 'saml' },
          ]
        : [],
  };
  portal = await startTestPortal({ kube, gatehouseNamespace: system, activity });
  admin = await signInAsSSOAdmin(portal, org, ADMIN);
}, 120_000);

afterAll(async () => {
  await portal?.close();
  await op?.stop();
  await dns?.stop();
  for (const ns of [system, org]) await deleteNamespace(kube, ns).catch(() => {});
  await kube?.close();
});

describe('enforcement screen', () => {
  it('offers the connection\'s domains and pre-fills the signed-in admin as exempt', async () => {
    const page = await admin.get('/enforcement?connection=idp');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<legend>Domains to enforce</legend>');
    expect(page.body).toContain(`<input type="checkbox" name="domains" value="${DOMAIN}">`);
    expect(page.body).toMatch(new RegExp(`<label for="exempt">Exempt administrators</label><textarea id="exempt" name="exempt"[^>]*>${ADMIN.replace('.', '\\.')}</textarea>`));
    // Several connections: the admin chooses one.
    expect(page.body).toContain('<option value="other"');
    // A setup-link session has no address of its own to pre-fill.
    const linkAdmin = await signInWithSetupLink(portal, org);
    expect((await linkAdmin.get('/enforcement?connection=idp')).body).toMatch(/<textarea id="exempt" name="exempt"[^>]*><\/textarea>/);
  });

  it('warns before the admin who enforces removes themselves from the exempt list', async () => {
    const res = await review(admin, { connection: 'idp', domains: DOMAIN, exempt: '' });
    expect(res.status).toBe(200);
    expect(res.body).toContain(`You (${ADMIN}) are not on the exempt list`);
    expect(res.body).not.toContain('will be required to sign in');
    const confirmed = await review(admin, { connection: 'idp', domains: DOMAIN, exempt: '', acknowledgeSelfRemoval: 'yes' });
    expect(confirmed.body).toContain('will be required to sign in');
  });

  it('shows bad input next to the field', async () => {
    const res = await review(admin, { connection: 'idp', domains: [DOMAIN, 'not-mine.example'], exempt: `${ADMIN}\nnot an address` });
    expect(res.status).toBe(422);
    expect(res.body).toContain('Not a domain of this connection: not-mine.example');
    expect(res.body).toMatch(/id="exempt-error">Not an email address: not, an, address/);
  });

  it('warns that enforcement would be Blocked before the connection passed a test', async () => {
    const res = await review(admin, { connection: 'idp', domains: DOMAIN, exempt: ADMIN });
    expect(res.body).toContain('Enforcement would be Blocked');
    expect(res.body).toContain(`has not passed a test yet: ${ADMIN} must complete a test sign-in first`);
    const unverified = await review(admin, { connection: 'other', domains: OTHER, exempt: ADMIN });
    expect(unverified.body).toContain(`Not verified (or served by another connection): ${OTHER}`);
  });

  it('states the count the operator then enforces, and the progress reaches Enforced', { timeout: 90_000 }, async () => {
    await recordTestResult(kube, org, 'idp', 'Succeeded', ADMIN);
    const res = await review(admin, { connection: 'idp', domains: DOMAIN, exempt: ADMIN });
    expect(res.body).not.toContain('Enforcement would be Blocked');
    const count = countOf(res.body);
    // 13 users of the domain: the admin is exempt, one Disabled, one deactivated.
    expect(count).toBe(10);
    expect(res.body).toContain('of 13 users of');
    expect(res.body).toContain('will be refused a password. 1 such address has signed in recently and would be refused.');
    expect(res.body).toContain('Just-in-time provisioning is off for this connection');
    const applied = await enforceFrom(admin, res.body);
    expect(applied.status, applied.body.slice(0, 1500)).toBe(303);
    expect(applied.location).toBe('/enforcement/idp/progress');
    const page = await admin.get('/enforcement/idp/progress');
    expect(page.body).toContain('<progress aria-label="Enforcement progress" data-field="progress"');
    expect(page.body).toContain('data-live="/enforcement/idp/progress.json"');
    const done = await waitFor('Enforced', async () => {
      const p = await progress(admin, 'idp');
      return p.done ? p : undefined;
    }, 60_000);
    expect(done).toMatchObject({ phase: 'Enforced', text: 'Enforced', matchedUsers: 13, enforcedUsers: count });
    expect(done.progress.value).toBe(done.progress.max);
    const enforced = (await listUsers(kube, org)).filter((u) => u.status?.sso?.enforced).length;
    expect(enforced).toBe(count);
    const profile = await getProfile(kube, org, 'idp');
    expect(profile.spec.enforcement).toMatchObject({ domains: [DOMAIN], exempt: [ADMIN], unmanagedUsers: 'Refuse' });
    // The profile's other fields are untouched (the portal applied only enforcement).
    expect(profile.spec.test?.email).toBe(ADMIN);
    const events = (await kube.call<{ items: { reason: string; message: string }[] }>('GET', `/api/v1/namespaces/${org}/events`)).items;
    expect(events.find((e) => e.reason === 'EnforcementRequested')?.message).toContain(`by ${ADMIN} in the admin portal`);
  });

  it('shows Blocked with the reason in plain words', { timeout: 60_000 }, async () => {
    const res = await review(admin, { connection: 'other', domains: OTHER, exempt: ADMIN });
    expect((await enforceFrom(admin, res.body)).status).toBe(303);
    const done = await waitFor('Blocked', async () => {
      const p = await progress(admin, 'other');
      return p.done ? p : undefined;
    }, 30_000);
    expect(done.phase).toBe('Blocked');
    expect(done.text).toMatch(/^Blocked: (the connection has not passed a test yet|a domain to enforce is not verified)/);
  });

  it('removes enforcement after a confirmation', { timeout: 60_000 }, async () => {
    const confirm = await admin.get('/enforcement/remove?connection=idp');
    expect(confirm.status).toBe(200);
    expect(confirm.body).toContain('will be able to sign in with a password again');
    const generation = /name="generation" value="(\d+)"/.exec(confirm.body)?.[1] as string;
    const res = await admin.post('/enforcement/remove', { connection: 'idp', generation });
    expect(res.status, res.body.slice(0, 1500)).toBe(303);
    const profile = await getProfile(kube, org, 'idp');
    expect(profile.spec.enforcement).toBeUndefined();
    await waitFor('passwords back', async () => (await listUsers(kube, org)).every((u) => !u.status?.sso?.enforced), 30_000);
    await waitFor('progress says Not enforced', async () => (await progress(admin, 'idp')).text === 'Not enforced', 30_000);
  });

  it('refuses a stale review: the profile changed after the admin reviewed it', async () => {
    const res = await review(admin, { connection: 'idp', domains: DOMAIN, exempt: ADMIN });
    await kube.call('PATCH', `/apis/sso.gatehouse.dev/v1alpha1/namespaces/${org}/ssoprofiles/idp`, { body: { spec: { displayName: 'Renamed' } }, contentType: 'application/merge-patch+json' });
    const applied = await enforceFrom(admin, res.body);
    expect(applied.status).toBe(409);
    expect(applied.body).toContain('changed by someone else');
    expect((await getProfile(kube, org, 'idp') as SSOProfile).spec.enforcement).toBeUndefined();
  });
});
