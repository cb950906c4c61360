// The admin portal's RBAC and admission policy on a real API server. The chart is installed with
// portal.enabled; the portal's ServiceAccount is impersonated (as `kubectl --as` does) and makes
// the calls portal/ makes — with its own Organization and SetupLinks classes where they exist —
// in two organizations; calls outside its job are refused with 403. Namespace changes are
// narrowed by the ValidatingAdmissionPolicy to the label sso.gatehouse.dev/scim.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GROUP, VERSION } from '../../crds/api/index.ts';
import { KubeApiError, resourcePath, type KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/informer.ts';
import { FIELD_MANAGER, Organization } from '../../portal/organization.ts';
import { SetupLinks } from '../../portal/setup-links/links.ts';
import { kubectl } from '../controlplane/kubectl.ts';
import { CHART_DIR, helm } from '../support/helm.ts';
import { firstWatchEvent, MERGE_PATCH, statusOf, testClient } from '../support/kube.ts';
import { waitFor } from '../support/wait.ts';

const kubeconfig = inject('kubeconfig');
const root = join(import.meta.dirname, '..', '..');
const ns = 'chart-portal-rbac';
const release = 'gh-portal';
const orgA = 'portal-org-a';
const orgB = 'portal-org-b';
const portalSA = `${release}-gatehouse-portal`;
const asPortal = `system:serviceaccount:${ns}:${portalSA}`;
const SETUP_LINKS = 'gatehouse-portal-setup-links';
const SCIM_LABEL = 'sso.gatehouse.dev/scim';
const SCIM_SECRET = 'gatehouse-scim-token';
const REFUSAL = 'PORTAL_NAMESPACE_CHANGE_REFUSED';
// The API server's RBAC authorizer and admission plugin follow policy changes through watches.
const PROPAGATION_MS = 20_000;

async function ok(args: string[], stdin?: string): Promise<string> {
  const res = await kubectl(kubeconfig, args, stdin);
  if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

const cr = (plural: string, namespace?: string, name?: string) => resourcePath({ group: GROUP, version: VERSION, plural }, namespace, name);
const core = (plural: string, namespace?: string, name?: string) => resourcePath({ group: '', version: 'v1', plural }, namespace, name);
const get = (c: KubeClient, path: string, query?: Record<string, string>) => c.call<KubeObject & { items?: KubeObject[] }>('GET', path, query ? { query } : {});
const merge = (c: KubeClient, path: string, body: unknown) => c.call<KubeObject>('PATCH', path, { body, contentType: MERGE_PATCH, retries: 0 });
const post = (c: KubeClient, path: string, body: unknown) => c.call('POST', path, { body, retries: 0 });
const del = (c: KubeClient, path: string) => c.call('DELETE', path, { retries: 0 });
const secret = (name: string, namespace: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, stringData: { token: 't'.repeat(43) } });
const actor = { name: 'alice@acme.com', via: 'sso' as const, email: 'alice@acme.com' };

/** The refusal's status and message, or 200 and '' when the call went through. */
async function outcome(call: Promise<unknown>): Promise<[number, string]> {
  try {
    await call;
    return [200, ''];
  } catch (err) {
    if (err instanceof KubeApiError) return [err.code, err.message];
    throw err;
  }
}

describe('admin portal RBAC and admission policy, impersonating its ServiceAccount', () => {
  let portal: KubeClient;
  let admin: KubeClient;

  beforeAll(async () => {
    for (const n of [ns, orgA, orgB]) await ok(['create', 'namespace', n]);
    const res = await helm(['upgrade', '--install', release, CHART_DIR, '-n', ns, '--set', 'crds.enabled=false,portal.enabled=true,portal.publicURL=https://portal.example.com'], { kubeconfig });
    if (res.code !== 0) throw new Error(`helm: ${res.stderr}`);
    for (const org of [orgA, orgB]) {
      for (const file of ['10-verified-domains.yaml', '20-managed-users.yaml', '30-ssoprofile-okta.yaml']) {
        await ok(['apply', '-f', '-'], readFileSync(join(root, 'examples', file), 'utf8').replaceAll('namespace: acme', `namespace: ${org}`));
      }
      for (const name of [SCIM_SECRET, 'app-db-password', 'gatehouse-oidc-client', 'gatehouse-sp-keys']) await ok(['apply', '-f', '-'], JSON.stringify(secret(name, org)));
      await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: `${GROUP}/${VERSION}`, kind: 'ManagedGroup', metadata: { name: 'sales', namespace: org }, spec: { displayName: 'Sales', members: ['alice'] } }));
    }
    await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other-config', namespace: ns }, data: { a: 'b' } }));
    await ok(['label', 'namespace', orgB, 'team=identity', 'pod-security.kubernetes.io/enforce=restricted']);
    await ok(['annotate', 'namespace', orgB, 'sso.gatehouse.dev/display-name=Org B']);
    portal = await testClient(kubeconfig, { impersonate: asPortal });
    admin = await testClient(kubeconfig);
  });

  afterAll(async () => {
    await portal?.close();
    await admin?.close();
    await helm(['uninstall', release, '-n', ns], { kubeconfig });
    // The setup-links ConfigMap outlives the release (resource policy keep); the namespace goes.
    for (const n of [ns, orgA, orgB]) await kubectl(kubeconfig, ['delete', 'namespace', n, '--wait=false']);
  });

  it('writes the organizations\' domains, connections and users by server-side apply, in any namespace, and records Events', async () => {
    for (const org of [orgA, orgB]) {
      const o = new Organization(portal, pino({ level: 'silent' }), org, actor);
      const vd = await o.apply('VerifiedDomain', 'portal-example', { spec: { domain: `${org}.example.com` } });
      const user = await o.apply('ManagedUser', 'portal-user', { spec: { email: 'portal.user@acme.com', roles: ['member'] } });
      // An object kubectl created: the portal adds its own fields next to kubectl's, without force.
      await o.apply('ManagedUser', 'alice', { metadata: { labels: { 'portal.example/touched': 'yes' } } });
      expect((await o.list('SSOProfile')).map((p) => p.metadata.name)).toContain('okta');
      expect(await o.get('VerifiedDomain', 'portal-example')).toMatchObject({ metadata: { name: 'portal-example' } });
      expect((await o.describe()).displayName).toBe(org === orgB ? 'Org B' : orgA);
      await o.recordChange(vd, 'DomainAdded', 'added');
      await o.recordChange(user, 'UserAdded', 'added');
      const events = JSON.parse(await ok(['get', 'events', '-n', org, '-o', 'json'])) as { items: { reason: string; message: string }[] };
      expect(events.items.filter((e) => e.message.includes('alice@acme.com in the admin portal')).map((e) => e.reason).sort()).toEqual(['DomainAdded', 'UserAdded']);
      const managers = JSON.parse(await ok(['get', 'vd', '-n', org, 'portal-example', '-o', 'json', '--show-managed-fields'])) as { metadata: { managedFields: { manager: string }[] } };
      expect(managers.metadata.managedFields.map((m) => m.manager)).toContain(FIELD_MANAGER);
    }
    await post(portal, resourcePath({ group: 'events.k8s.io', version: 'v1', plural: 'events' }, orgA), {
      metadata: { name: 'portal.events', namespace: orgA }, regarding: { kind: 'SSOProfile', name: 'okta', namespace: orgA }, reason: 'Changed', note: 'n', type: 'Normal', action: 'Change',
      eventTime: new Date().toISOString().replace(/Z$/, '000Z'), reportingController: 'sso.gatehouse.dev/portal', reportingInstance: 'portal-0',
    });
  });

  it('lists and watches the four kinds cluster-wide, reads ManagedGroups, and namespaces', async () => {
    for (const plural of ['ssoprofiles', 'verifieddomains', 'managedusers', 'managedgroups']) {
      expect((await get(portal, cr(plural))).items?.length).toBeGreaterThan(0);
      expect(await firstWatchEvent(portal, cr(plural))).toBe('ADDED');
    }
    await get(portal, cr('managedgroups', orgA, 'sales'));
    await get(portal, core('namespaces', undefined, orgA));
    expect(await firstWatchEvent(portal, core('namespaces'))).toBe('ADDED');
  });

  it('reads and deletes the SCIM token Secret (rotation), and no other Secret', async () => {
    await get(portal, core('secrets', orgA, SCIM_SECRET));
    await del(portal, core('secrets', orgA, SCIM_SECRET));
    const refused: [string, () => Promise<unknown>][] = [];
    for (const [n, name] of [[orgB, 'app-db-password'], [orgB, 'gatehouse-oidc-client'], [orgB, 'gatehouse-sp-keys'], [ns, `${release}-gatehouse-portal-oidc`], [ns, `${release}-gatehouse-internal-token`], [ns, `${release}-gatehouse-oidc-signing-key`], [ns, `${release}-gatehouse-oauth-clients`]] as const) {
      refused.push([`get ${n}/${name}`, () => get(portal, core('secrets', n, name))], [`delete ${n}/${name}`, () => del(portal, core('secrets', n, name))]);
    }
    refused.push(
      ['list Secrets of an organization', () => get(portal, core('secrets', orgB))],
      ['list SCIM token Secrets cluster-wide', () => get(portal, core('secrets'), { fieldSelector: `metadata.name=${SCIM_SECRET}` })],
      ['write the SCIM token', () => merge(portal, core('secrets', orgB, SCIM_SECRET), { stringData: { token: 'mine' } })],
      ['create a Secret', () => post(portal, core('secrets', orgB), secret('planted', orgB))],
    );
    for (const [what, call] of refused) expect([what, await statusOf(call())]).toEqual([what, 403]);
    for (const verb of ['get', 'list']) {
      const canI = await kubectl(kubeconfig, ['auth', 'can-i', verb, 'secrets', '-n', orgB, `--as=${asPortal}`]);
      expect(canI.stdout.trim()).toBe('no');
    }
  });

  it('mints, checks and redeems setup links in its ConfigMap, and touches no other ConfigMap', async () => {
    const links = new SetupLinks(portal, { namespace: ns, configMap: SETUP_LINKS, publicURL: 'https://portal.example.com' });
    const { url } = await links.mint(orgA, 'kubectl', 3_600_000);
    const link = url.slice(url.lastIndexOf('/') + 1);
    expect(await links.check(link)).toMatchObject({ ok: true, namespace: orgA });
    expect(await links.redeem(link)).toMatchObject({ ok: true });
    expect(await links.redeem(link)).toMatchObject({ ok: false });
    await merge(portal, core('configmaps', ns, SETUP_LINKS), { metadata: { annotations: { touched: 'yes' } } });
    const refused: [string, () => Promise<unknown>][] = [
      ['read another ConfigMap', () => get(portal, core('configmaps', ns, 'other-config'))],
      ['list ConfigMaps', () => get(portal, core('configmaps', ns))],
      ['create a ConfigMap', () => post(portal, core('configmaps', ns), { metadata: { name: 'x' } })],
      ['delete its ConfigMap', () => del(portal, core('configmaps', ns, SETUP_LINKS))],
      ['a setup-links ConfigMap in an organization', () => get(portal, core('configmaps', orgA, SETUP_LINKS))],
    ];
    for (const [what, call] of refused) expect([what, await statusOf(call())]).toEqual([what, 403]);
  });

  it('is refused status, deletes, group writes, namespace creation and escalation', async () => {
    const refused: [string, () => Promise<unknown>][] = [];
    for (const [plural, kind, name] of [['ssoprofiles', 'SSOProfile', 'okta'], ['verifieddomains', 'VerifiedDomain', 'acme-com'], ['managedusers', 'ManagedUser', 'alice']] as const) {
      refused.push(
        [`write ${plural} status`, () => merge(portal, `${cr(plural, orgA, name)}/status`, { status: { observedGeneration: 99 } })],
        [`apply ${plural} status`, () => portal.apply(cr(plural, orgA, name), { apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name, namespace: orgA }, status: { observedGeneration: 99 } }, FIELD_MANAGER, { subresource: 'status', retries: 0 })],
        [`delete ${plural}`, () => del(portal, cr(plural, orgA, name))],
        [`update ${plural} (PUT)`, async () => portal.call('PUT', cr(plural, orgA, name), { body: await get(portal, cr(plural, orgA, name)), retries: 0 })],
      );
    }
    refused.push(
      ['create a ManagedGroup', () => post(portal, cr('managedgroups', orgA), { apiVersion: `${GROUP}/${VERSION}`, kind: 'ManagedGroup', metadata: { name: 'g' }, spec: { displayName: 'g', members: [] } })],
      ['change a ManagedGroup', () => merge(portal, cr('managedgroups', orgA, 'sales'), { spec: { members: [] } })],
      ['create a namespace', () => post(portal, core('namespaces'), { metadata: { name: 'portal-new-org' } })],
      ['delete a namespace', () => del(portal, core('namespaces', undefined, orgB))],
      ['read pods', () => get(portal, core('pods', orgA))],
      ['change an Event', () => merge(portal, core('events', orgA, 'portal.events'), { count: 2 })],
      ['grant itself more', () => post(portal, resourcePath({ group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings' }), { metadata: { name: 'portal-escalate' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'ServiceAccount', name: portalSA, namespace: ns }] })],
      ['loosen its admission policy', () => del(portal, resourcePath({ group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingadmissionpolicybindings' }, undefined, `${release}-gatehouse-portal-namespaces`))],
    );
    for (const [what, call] of refused) expect([what, await statusOf(call())]).toEqual([what, 403]);
  });

  describe('namespaces: the SCIM label only (ValidatingAdmissionPolicy)', () => {
    beforeAll(async () => {
      // The policy is enforced once the admission plugin has compiled it: until then, a change it
      // forbids goes through (and is undone here).
      let last: [number, string] = [0, ''];
      await waitFor('the portal namespace policy enforced', async () => {
        last = await outcome(merge(portal, core('namespaces', undefined, orgA), { metadata: { labels: { 'policy-probe': 'x' } } }));
        if (last[0] === 200) await ok(['label', 'namespace', orgA, 'policy-probe-']);
        return last[0] === 403 && last[1].includes(REFUSAL);
      }, PROPAGATION_MS, async () => `last answer ${last.join(' ')}; policy: ${await ok(['get', 'validatingadmissionpolicy', `${release}-gatehouse-portal-namespaces`, '-o', 'json'])}`);
    });

    it('turns SCIM on and off: adding, changing and removing the label (merge patch and server-side apply)', async () => {
      const path = core('namespaces', undefined, orgB);
      await merge(portal, path, { metadata: { labels: { [SCIM_LABEL]: 'enabled' } } });
      expect((await get(admin, path)).metadata.labels?.[SCIM_LABEL]).toBe('enabled');
      await merge(portal, path, { metadata: { labels: { [SCIM_LABEL]: null } } });
      expect((await get(admin, path)).metadata.labels?.[SCIM_LABEL]).toBeUndefined();
      await portal.apply(path, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: orgB, labels: { [SCIM_LABEL]: 'enabled' } } }, FIELD_MANAGER, { retries: 0 });
      expect((await get(admin, path)).metadata.labels?.[SCIM_LABEL]).toBe('enabled');
      // Applying without the label removes the portal's own field, nothing else.
      await portal.apply(path, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: orgB } }, FIELD_MANAGER, { retries: 0 });
      const after = await get(admin, path);
      expect(after.metadata.labels?.[SCIM_LABEL]).toBeUndefined();
      expect(after.metadata.labels).toMatchObject({ team: 'identity', 'pod-security.kubernetes.io/enforce': 'restricted' });
      // kubectl as the portal, the way an operator would check by hand.
      const labelled = await kubectl(kubeconfig, ['label', 'namespace', orgB, `${SCIM_LABEL}=enabled`, `--as=${asPortal}`]);
      expect(labelled.code, labelled.stderr).toBe(0);
    });

    it('refuses any other change to a namespace, with a stable code', async () => {
      const path = core('namespaces', undefined, orgB);
      const before = await get(admin, path);
      const refused: [string, () => Promise<unknown>][] = [
        ['change another label', () => merge(portal, path, { metadata: { labels: { team: 'mallory' } } })],
        ['add another label', () => merge(portal, path, { metadata: { labels: { extra: 'x' } } })],
        ['remove another label', () => merge(portal, path, { metadata: { labels: { 'pod-security.kubernetes.io/enforce': null } } })],
        ['the SCIM label together with another', () => merge(portal, path, { metadata: { labels: { [SCIM_LABEL]: 'enabled', team: 'mallory' } } })],
        ['change the display name', () => merge(portal, path, { metadata: { annotations: { 'sso.gatehouse.dev/display-name': 'Mallory' } } })],
        ['lift GitOps management', () => merge(portal, path, { metadata: { annotations: { 'sso.gatehouse.dev/gitops-managed': 'false' } } })],
        ['add a finalizer', () => merge(portal, path, { metadata: { finalizers: ['example.com/hold'] } })],
        ['apply another label', () => portal.apply(path, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: orgB, labels: { team: 'mallory' } } }, FIELD_MANAGER, { retries: 0, force: true })],
      ];
      for (const [what, call] of refused) {
        const [code, message] = await outcome(call());
        expect([what, code]).toEqual([what, 403]);
        expect(message).toContain(REFUSAL);
      }
      const viaKubectl = await kubectl(kubeconfig, ['label', 'namespace', orgB, 'team=mallory', '--overwrite', `--as=${asPortal}`]);
      expect(viaKubectl.code).not.toBe(0);
      expect(viaKubectl.stderr).toContain(REFUSAL);
      const after = await get(admin, path);
      expect({ labels: after.metadata.labels, annotations: after.metadata.annotations }).toEqual({ labels: before.metadata.labels, annotations: before.metadata.annotations });
    });

    it('applies to the portal only: the platform team still changes namespaces freely', async () => {
      await merge(admin, core('namespaces', undefined, orgB), { metadata: { labels: { team: 'platform' }, annotations: { 'sso.gatehouse.dev/display-name': 'Org B Inc.' } } });
      expect((await get(admin, core('namespaces', undefined, orgB))).metadata.labels?.team).toBe('platform');
    });
  });
});
