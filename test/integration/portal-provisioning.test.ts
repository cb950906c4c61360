// The Provisioning screen against a real API server and the operator's real SCIM token
// controller: SCIM on/off is the namespace label alone (nothing else on the namespace changes),
// the token is shown once after turning on or rotating and never on a reload, rotation retires
// the old Secret; JIT and role mapping are saved by server-side apply without losing the fields
// the portal applied elsewhere, bad input is refused next to its field, and another manager's
// field or a stale form is a conflict shown, never overwritten.
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SSOProfile } from '../../crds/api/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { InformerControl, KubeObject } from '../../kube/informer.ts';
import { openScimCaches } from '../../operator/caches.ts';
import { reconcileScimToken } from '../../operator/controllers/scim-token.ts';
import { queueKey } from '../../operator/queue-key.ts';
import { SCIM_ENABLED_LABEL, SCIM_TOKEN_SECRET_NAME, tokenOfSecret } from '../../operator/scim-token.ts';
import { GITOPS_ANNOTATION, Organization } from '../../portal/organization.ts';
import { applySSOProfile, createNamespace, crPath, deleteNamespace, getIfExists, MERGE_PATCH, secretPath, testClient } from '../support/kube.ts';
import { signInWithSetupLink, startTestPortal, type PortalClient, type TestPortal } from '../support/portal.ts';
import { TEST_IDP_ENTITY_ID, testIdpKeys } from '../support/saml-fixtures.ts';
import { waitFor } from '../support/wait.ts';

const kubeconfig = inject('kubeconfig');
const suffix = randomBytes(3).toString('hex');
const home = `pprov-home-${suffix}`;
const org = `pprov-a-${suffix}`;
const gitops = `pprov-g-${suffix}`;
const SP_SERVER = 'https://sso.example.test';
const silent = pino({ level: 'silent' });

let kube: KubeClient;
let portal: TestPortal;
let admin: PortalClient;
let informers: InformerControl[] = [];
/** While true, the SCIM token controller does nothing (an operator that has not caught up). */
let operatorPaused = false;

type Namespace = KubeObject & { metadata: { managedFields?: { manager: string; fieldsV1: unknown }[] } };
type Secret = KubeObject & { data?: Record<string, string> };
type Event = { reason: string; message: string };
const namespace = (name: string) => kube.call<Namespace>('GET', `/api/v1/namespaces/${name}`);
const tokenSecret = () => getIfExists<Secret>(kube, secretPath(org, SCIM_TOKEN_SECRET_NAME));
const profile = (name: string) => kube.call<SSOProfile>('GET', crPath('ssoprofiles', org, name));
const events = async (ns: string) => (await kube.call<{ items: Event[] }>('GET', `/api/v1/namespaces/${ns}/events`)).items;
const shownSecret = (body: string) => /<code id="flash-secret">([^<]+)<\/code>/.exec(body)?.[1];
const fieldError = (body: string, id: string) => new RegExp(`id="${id}-error">([^<]*)<`).exec(body)?.[1];
const form = (rv: string, f: Record<string, string>) => ({ rv, rows: '1', intent: 'save', ...f });
const rvIn = (body: string, name: string) => new RegExp(`action="/provisioning/connections/${name}"[^]*?name="rv" value="([^"]*)"`).exec(body)?.[1] ?? '';

/** The operator's SCIM token controller on its own caches, reconciling on every event as the operator's queue would. */
async function startScimTokenController(): Promise<void> {
  const caches = openScimCaches(kube, [org], 600_000, silent);
  const operator = { ...caches, client: kube, log: silent, queue: { add: () => {}, addAfter: () => {} } };
  const reconcile = (ns: string | undefined) => {
    if (ns === org && !operatorPaused) void reconcileScimToken(operator, queueKey.namespace(ns)).catch(() => {});
  };
  caches.scimNamespaces.on((_event, n) => reconcile(n.metadata.name));
  caches.scimSecrets.on((_event, s) => reconcile(s.metadata.namespace));
  informers = [...caches.scimNamespaces.informers, ...caches.scimSecrets.informers] as InformerControl[];
  for (const i of informers) i.start();
  await Promise.all(informers.map((i) => i.waitForSync()));
}

const samlSpec = (domain: string) => ({ idp: { entityID: TEST_IDP_ENTITY_ID, ssoURL: 'https://idp.acme.test/saml/sso', certificates: [testIdpKeys().certificatePem] }, domains: [domain] });

beforeAll(async () => {
  kube = await testClient(kubeconfig);
  for (const ns of [home, org, gitops]) await createNamespace(kube, ns);
  await kube.call('PATCH', `/api/v1/namespaces/${org}`, { body: { metadata: { labels: { team: 'it' }, annotations: { 'sso.gatehouse.dev/display-name': 'Acme' } } }, contentType: MERGE_PATCH });
  await kube.call('PATCH', `/api/v1/namespaces/${gitops}`, { body: { metadata: { annotations: { [GITOPS_ANNOTATION]: 'true' } } }, contentType: MERGE_PATCH });
  await applySSOProfile(kube, org, 'okta', samlSpec(`acme-${suffix}.test`));
  await applySSOProfile(kube, gitops, 'okta', samlSpec(`git-${suffix}.test`));
  await startScimTokenController();
  portal = await startTestPortal({ kube, gatehouseNamespace: home, options: { spServerURL: SP_SERVER } });
  admin = await signInWithSetupLink(portal, org);
}, 60_000);

afterAll(async () => {
  await portal?.close();
  await Promise.all(informers.map((i) => i.stop()));
  for (const ns of [home, org, gitops]) await deleteNamespace(kube, ns).catch(() => {});
  await kube?.close();
});

describe('SCIM', () => {
  it('turns on by the namespace label alone and shows the token once, in the page after the change', async () => {
    const before = await namespace(org);
    const page = await admin.get('/provisioning');
    expect(page.body).toContain('Turn on SCIM');
    expect(page.body).toContain(`<code id="scim-base-url">${SP_SERVER}/scim/v2/${org}/</code>`);
    const res = await admin.post('/provisioning/scim', { enabled: 'true' });
    expect(res.status).toBe(303);
    const after = await namespace(org);
    expect(after.metadata.labels).toEqual({ ...before.metadata.labels, [SCIM_ENABLED_LABEL]: 'enabled' });
    expect(after.metadata.annotations).toEqual(before.metadata.annotations);
    expect(after.metadata.managedFields?.find((m) => m.manager === 'gatehouse-portal')?.fieldsV1).toEqual({ 'f:metadata': { 'f:labels': { [`f:${SCIM_ENABLED_LABEL}`]: {} } } });
    const token = tokenOfSecret(await tokenSecret());
    expect(token).toBeDefined();
    const shown = await admin.get(res.location ?? '');
    expect(shownSecret(shown.body)).toBe(token);
    expect(shown.body).toContain('Turn off SCIM');
    const reload = await admin.get('/provisioning');
    expect(reload.body).not.toContain(token as string);
    expect(reload.body).not.toContain('flash-secret');
    expect((await events(org)).some((e) => e.reason === 'ScimEnabled' && /by setup link .+ in the admin portal/.test(e.message))).toBe(true);
  });

  it('rotates: the old Secret is deleted, the operator creates a new one, and the new token is shown once', async () => {
    const old = await tokenSecret();
    const res = await admin.post('/provisioning/scim/rotate', {});
    expect(res.status).toBe(303);
    const fresh = await tokenSecret();
    expect(fresh?.metadata.uid).not.toBe(old?.metadata.uid);
    const page = await admin.get('/provisioning');
    expect(shownSecret(page.body)).toBe(tokenOfSecret(fresh));
    expect(shownSecret(page.body)).not.toBe(tokenOfSecret(old));
    expect(shownSecret((await admin.get('/provisioning')).body)).toBeUndefined();
    expect((await events(org)).some((e) => e.reason === 'ScimTokenRotated')).toBe(true);
  });

  it('when the operator is slow, says rotation is in progress and shows the new token once on request', async () => {
    const old = await tokenSecret();
    operatorPaused = true;
    try {
      const res = await admin.post('/provisioning/scim/rotate', {});
      expect(res.status).toBe(303);
      const page = await admin.get('/provisioning');
      expect(page.body).toContain('still creating the new token');
      expect(page.body).toContain('Show the new token');
      expect(shownSecret(page.body)).toBeUndefined();
      expect(await tokenSecret()).toBeUndefined();
    } finally {
      operatorPaused = false;
    }
    // The operator catches up (its next event or resync).
    await kube.call('PATCH', `/api/v1/namespaces/${org}`, { body: { metadata: { annotations: { nudge: suffix } } }, contentType: MERGE_PATCH });
    const fresh = await waitFor('the new token Secret', tokenSecret);
    expect(fresh.metadata.uid).not.toBe(old?.metadata.uid);
    await admin.get('/provisioning');
    const reveal = await admin.post('/provisioning/scim/reveal', {});
    expect(reveal.status).toBe(303);
    expect(shownSecret((await admin.get('/provisioning')).body)).toBe(tokenOfSecret(fresh));
    const again = await admin.post('/provisioning/scim/reveal', {});
    const page = await admin.get(again.location ?? '');
    expect(page.body).toContain('There is no new token to show');
    expect(shownSecret(page.body)).toBeUndefined();
  }, 30_000);

  it('turns off by withdrawing the label; a label another tool set stays, and the admin is told', async () => {
    expect((await admin.post('/provisioning/scim', { enabled: 'false' })).status).toBe(303);
    expect((await namespace(org)).metadata.labels?.[SCIM_ENABLED_LABEL]).toBeUndefined();
    expect((await namespace(org)).metadata.labels?.team).toBe('it');
    // On again: the kept token works again and is not shown a second time, nor by a repeated "on".
    const again = await admin.post('/provisioning/scim', { enabled: 'true' });
    const page = await admin.get(again.location ?? '');
    expect(page.body).toContain('with the token it had before');
    expect(shownSecret(page.body)).toBeUndefined();
    const twice = await admin.post('/provisioning/scim', { enabled: 'true' });
    expect(shownSecret((await admin.get(twice.location ?? '')).body)).toBeUndefined();
    expect((await admin.post('/provisioning/scim', { enabled: 'false' })).status).toBe(303);
    await kube.call('PATCH', `/api/v1/namespaces/${org}`, { body: { metadata: { labels: { [SCIM_ENABLED_LABEL]: 'enabled' } } }, contentType: MERGE_PATCH, query: { fieldManager: 'argocd-controller' } });
    await admin.get('/provisioning');
    const refused = await admin.post('/provisioning/scim', { enabled: 'false' });
    expect(refused.status).toBe(409);
    expect(refused.body).toContain('argocd-controller');
    expect((await namespace(org)).metadata.labels?.[SCIM_ENABLED_LABEL]).toBe('enabled');
  });
});

describe('JIT and role mapping', () => {
  it('saves JIT with default roles and role-mapping rules by server-side apply, with an Event', async () => {
    const page = await admin.get('/provisioning');
    expect(page.body).toContain('Create users on their first sign-in (JIT)');
    const res = await admin.post('/provisioning/connections/okta', form(rvIn(page.body, 'okta'), { jit: 'on', defaultRoles: 'viewer, editor', attribute: 'groups', 'value-0': 'eng', 'roles-0': 'dev, admin' }));
    expect(res.status).toBe(303);
    const p = await profile('okta');
    expect(p.spec.provisioning?.jit).toEqual({ enabled: true, defaultRoles: ['viewer', 'editor'] });
    expect(p.spec.roleMapping).toEqual({ attribute: 'groups', rules: [{ value: 'eng', roles: ['dev', 'admin'] }] });
    expect(p.spec.domains).toEqual([`acme-${suffix}.test`]);
    expect((p.metadata.managedFields as { manager: string }[]).some((m) => m.manager === 'gatehouse-portal')).toBe(true);
    expect((await events(org)).some((e) => e.reason === 'ProvisioningChanged' && e.message.includes('1 role-mapping rule on groups'))).toBe(true);
    const shown = await admin.get('/provisioning');
    expect(shown.body).toMatch(/name="jit" value="on" checked/);
    expect(shown.body).toContain('value="dev, admin"');
  });

  it('adds rule rows without saving, and removes a rule', async () => {
    const page = await admin.get('/provisioning');
    const rv = rvIn(page.body, 'okta');
    const added = await admin.post('/provisioning/connections/okta', { ...form(rv, { jit: 'on', defaultRoles: 'viewer', attribute: 'groups', 'value-0': 'eng', 'roles-0': 'dev' }), intent: 'add-row' });
    expect(added.status).toBe(200);
    expect(added.body.match(/<label for="okta-value-\d+">Group value<\/label>/g)).toHaveLength(3);
    expect(String((await profile('okta')).metadata.generation)).toBe(rv);
    const removed = await admin.post('/provisioning/connections/okta', form(rv, { jit: 'on', defaultRoles: 'viewer, editor', attribute: '', 'value-0': 'eng', 'roles-0': 'dev, admin', 'remove-0': 'on' }));
    expect(removed.status).toBe(303);
    expect((await profile('okta')).spec.roleMapping).toBeUndefined();
  });

  it('refuses bad input next to its field and changes nothing', async () => {
    const page = await admin.get('/provisioning');
    const before = await profile('okta');
    const res = await admin.post('/provisioning/connections/okta', form(rvIn(page.body, 'okta'), { jit: 'on', defaultRoles: 'Billing Admins', attribute: '', 'value-0': 'eng', 'roles-0': '' }));
    expect(res.status).toBe(422);
    expect(fieldError(res.body, 'okta-defaultRoles')).toContain('“Billing Admins” is not a role name');
    expect(fieldError(res.body, 'okta-roles-0')).toContain('at least one role');
    expect(fieldError(res.body, 'okta-attribute')).toContain('carries the groups');
    expect(res.body).toContain('value="Billing Admins"');
    expect((await profile('okta')).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  it('shows a field another manager owns as a conflict, and does not overwrite it', async () => {
    await kube.apply(crPath('ssoprofiles', org, 'okta'), { apiVersion: 'sso.gatehouse.dev/v1alpha1', kind: 'SSOProfile', metadata: { name: 'okta', namespace: org }, spec: { roleMapping: { attribute: 'memberOf', rules: [{ value: 'ops', roles: ['operator'] }] } } }, 'argocd-controller');
    const page = await admin.get('/provisioning');
    expect(page.body).toContain('value="memberOf"');
    const res = await admin.post('/provisioning/connections/okta', form(rvIn(page.body, 'okta'), { jit: 'on', defaultRoles: 'viewer, editor', attribute: 'groups', 'value-0': 'eng', 'roles-0': 'admin' }));
    expect(res.status).toBe(409);
    expect(res.body).toContain('argocd-controller');
    expect(res.body).toContain('value="memberOf"');
    expect((await profile('okta')).spec.roleMapping).toEqual({ attribute: 'memberOf', rules: [{ value: 'ops', roles: ['operator'] }] });
  });

  it('refuses a form rendered before someone else changed the connection, but not after a status write', async () => {
    const page = await admin.get('/provisioning');
    // A change of metadata alone (as a status write) leaves the spec the admin saw: not a conflict basis.
    await kube.call('PATCH', crPath('ssoprofiles', org, 'okta'), { body: { metadata: { labels: { touched: 'yes' } } }, contentType: MERGE_PATCH });
    await kube.call('PATCH', crPath('ssoprofiles', org, 'okta'), { body: { spec: { displayName: 'Okta (changed elsewhere)' } }, contentType: MERGE_PATCH });
    const res = await admin.post('/provisioning/connections/okta', form(rvIn(page.body, 'okta'), { jit: '', defaultRoles: '', attribute: 'memberOf', 'value-0': 'ops', 'roles-0': 'operator' }));
    expect(res.status).toBe(409);
    expect(res.body).toContain('changed by someone else');
    expect((await profile('okta')).spec.provisioning?.jit?.enabled).toBe(true);
    // The operator writing status after the page was rendered is not someone changing the connection.
    const fresh = await admin.get('/provisioning');
    await kube.call('PATCH', `${crPath('ssoprofiles', org, 'okta')}/status`, { body: { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'Reconciling', message: 'x', lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') }] } }, contentType: MERGE_PATCH });
    const saved = await admin.post('/provisioning/connections/okta', form(rvIn(fresh.body, 'okta'), { jit: 'on', defaultRoles: 'viewer', attribute: '' }));
    expect(saved.status).toBe(303);
  });

  it('keeps the fields the portal applied to a connection elsewhere', async () => {
    const actor = { name: 'admin@acme.test', via: 'sso' as const };
    await new Organization(kube, silent, org, actor).apply('SSOProfile', 'entra', { spec: samlSpec(`entra-${suffix}.test`) });
    const page = await admin.get('/provisioning');
    const res = await admin.post('/provisioning/connections/entra', form(rvIn(page.body, 'entra'), { jit: 'on', defaultRoles: 'viewer', attribute: '' }));
    expect(res.status).toBe(303);
    const p = await profile('entra');
    expect(p.spec.domains).toEqual([`entra-${suffix}.test`]);
    expect(p.spec.idp?.entityID).toBe(TEST_IDP_ENTITY_ID);
    expect(p.spec.idp?.certificates).toHaveLength(1);
    expect(p.spec.provisioning?.jit).toEqual({ enabled: true, defaultRoles: ['viewer'] });
  });
});

describe('refusals', () => {
  it('is read-only in a GitOps-managed organization', async () => {
    const g = await signInWithSetupLink(portal, gitops);
    const page = await g.get('/provisioning');
    expect(page.body).toContain('managed through GitOps');
    expect(page.body).toMatch(/<button type="submit" disabled>Turn on SCIM/);
    expect((await g.post('/provisioning/scim', { enabled: 'true' })).status).toBe(403);
    expect((await namespace(gitops)).metadata.labels?.[SCIM_ENABLED_LABEL]).toBeUndefined();
    const before = await kube.call<SSOProfile>('GET', crPath('ssoprofiles', gitops, 'okta'));
    const res = await g.post('/provisioning/connections/okta', form(rvIn(page.body, 'okta'), { jit: 'on', defaultRoles: 'viewer', attribute: '' }));
    expect(res.status).toBe(403);
    expect(res.body).toContain('managed through GitOps');
    expect((await kube.call<SSOProfile>('GET', crPath('ssoprofiles', gitops, 'okta'))).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  it('refuses a form without the CSRF token', async () => {
    const before = (await namespace(org)).metadata.resourceVersion;
    expect((await admin.post('/provisioning/scim', { enabled: 'false' }, { csrf: false })).status).toBe(403);
    expect((await admin.post('/provisioning/scim/rotate', {}, { csrf: false })).status).toBe(403);
    expect((await namespace(org)).metadata.resourceVersion).toBe(before);
  });
});
