// The chart's RBAC on a real API server. Each component's ServiceAccount is impersonated (as
// `kubectl --as=system:serviceaccount:…` does) and makes the calls that component makes, with
// the verbs, subresources, patch types and selectors the real process uses; calls outside its
// job are refused with 403. The chart is then upgraded with JIT, SCIM and per-namespace
// Secret access to show each option grants exactly what it says. SCIM tokens: the operator
// watches namespaces (label sso.gatehouse.dev/scim=enabled) and creates the gatehouse-scim-token
// Secrets; the sp-server never reads them (the digests travel in the rendered config).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthenticationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  KubeConfig,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GROUP, VERSION } from '../../crds/api/index.ts';
import { kubectl } from '../controlplane/kubectl.ts';
import { CHART_DIR, eventually, firstWatchEvent, helm, impersonating, statusOf, writeImpersonatingKubeconfig } from '../support/helm.ts';

const kubeconfig = inject('kubeconfig');
const root = join(import.meta.dirname, '..', '..');
const ns = 'chart-rbac';
const release = 'gh-rbac';
const orgA = 'rbac-org-a';
const orgB = 'rbac-org-b';
const operatorSA = `${release}-gatehouse-operator`;
const spServerSA = `${release}-gatehouse-sp-server`;
const configSecret = `${release}-gatehouse-sp-config`;
const signingKeySecret = `${release}-gatehouse-oidc-signing-key`;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const applyPatch = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
const PLURALS = ['verifieddomains', 'managedusers', 'ssoprofiles'] as const;
const OBJECTS = { verifieddomains: ['VerifiedDomain', 'acme-com'], managedusers: ['ManagedUser', 'alice'], ssoprofiles: ['SSOProfile', 'okta'] } as const;

async function ok(args: string[], stdin?: string): Promise<string> {
  const res = await kubectl(kubeconfig, args, stdin);
  if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

async function install(...set: string[]): Promise<void> {
  const res = await helm(['upgrade', '--install', release, CHART_DIR, '-n', ns, '--set', ['crds.enabled=false', ...set].join(',')], { kubeconfig });
  if (res.code !== 0) throw new Error(`helm: ${res.stderr}`);
}

interface Clients {
  kc: KubeConfig;
  custom: CustomObjectsApi;
  core: CoreV1Api;
  leases: CoordinationV1Api;
  events: EventsV1Api;
}

function clientsFor(sa: string): Clients {
  const kc = impersonating(kubeconfig, ns, sa);
  return { kc, custom: kc.makeApiClient(CustomObjectsApi), core: kc.makeApiClient(CoreV1Api), leases: kc.makeApiClient(CoordinationV1Api), events: kc.makeApiClient(EventsV1Api) };
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
// Lease and events.k8s.io times are MicroTime: the API server wants six fractional digits, and
// client-node serializes a Date with three (400 "cannot parse"); send strings.
const microTime = () => new Date().toISOString().replace(/Z$/, '000Z');
const secret = (name: string, namespace: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, stringData: { k: 'v' } });
const SCIM_LABEL = 'sso.gatehouse.dev/scim=enabled';
const SCIM_SECRET = 'gatehouse-scim-token';
const mg = (namespace: string) => ({ group: GROUP, version: VERSION, namespace, plural: 'managedgroups' });
const group = (name: string) => ({ apiVersion: `${GROUP}/${VERSION}`, kind: 'ManagedGroup', metadata: { name }, spec: { displayName: name, members: ['alice'] } });

describe('chart RBAC, impersonating the ServiceAccounts', () => {
  let operator: Clients;
  let sp: Clients;

  beforeAll(async () => {
    for (const n of [ns, orgA, orgB]) await ok(['create', 'namespace', n]);
    await install();
    for (const file of ['10-verified-domains.yaml', '20-managed-users.yaml', '30-ssoprofile-okta.yaml']) {
      const text = readFileSync(join(root, 'examples', file), 'utf8').replaceAll('namespace: acme', `namespace: ${orgA}`);
      await ok(['apply', '-f', '-'], text);
    }
    for (const [name, n] of [['app-db-password', orgA], ['gatehouse-scim-token', orgA], ['gatehouse-scim-token', orgB], ['app-db-password', ns]] as const) {
      await ok(['apply', '-f', '-'], JSON.stringify(secret(name, n)));
    }
    // SCIM on for orgA (the operator watches by this label); one ManagedGroup there.
    await ok(['label', 'namespace', orgA, SCIM_LABEL]);
    await ok(['apply', '-f', '-'], JSON.stringify({ ...group('sales'), metadata: { name: 'sales', namespace: orgA } }));
    operator = clientsFor(operatorSA);
    sp = clientsFor(spServerSA);
  });

  afterAll(async () => {
    await helm(['uninstall', release, '-n', ns], { kubeconfig });
    for (const n of [ns, orgA, orgB]) await kubectl(kubeconfig, ['delete', 'namespace', n, '--wait=false']);
  });

  it('the API server sees the ServiceAccounts, not the admin', async () => {
    for (const [c, sa] of [[operator, operatorSA], [sp, spServerSA]] as const) {
      const review = await c.kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
      expect(review.status?.userInfo?.username).toBe(`system:serviceaccount:${ns}:${sa}`);
      expect(review.status?.userInfo?.groups).toContain(`system:serviceaccounts:${ns}`);
    }
  });

  it('a kubeconfig file for local processes impersonates the same way (client-node and kubectl)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-kc-'));
    try {
      const file = writeImpersonatingKubeconfig(kubeconfig, ns, spServerSA, dir);
      const kc = new KubeConfig();
      kc.loadFromFile(file);
      const review = await kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
      expect(review.status?.userInfo?.username).toBe(`system:serviceaccount:${ns}:${spServerSA}`);
      const denied = await kubectl(file, ['get', 'secret', '-n', orgA, 'app-db-password']);
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toMatch(/Forbidden/);
      const allowed = await kubectl(file, ['get', 'managedusers', '-A', '-o', 'name']);
      expect(allowed.stdout, allowed.stderr).toMatch(/manageduser.sso.gatehouse.dev\/alice/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('operator', () => {
    it('lists and watches the three kinds in all namespaces', async () => {
      for (const plural of PLURALS) {
        const list = (await operator.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural })) as { items: unknown[] };
        expect(list.items.length).toBeGreaterThan(0);
        expect(await firstWatchEvent(operator.kc, `/apis/${GROUP}/${VERSION}/${plural}`)).toBe('ADDED');
      }
    });

    it('adds and removes its finalizer (merge patch and update of the object)', async () => {
      for (const plural of PLURALS) {
        const name = OBJECTS[plural][1];
        const key = { group: GROUP, version: VERSION, namespace: orgA, plural, name };
        await operator.custom.patchNamespacedCustomObject({ ...key, body: { metadata: { finalizers: ['sso.gatehouse.dev/finalizer'] } } }, mergePatch);
        const obj = (await operator.custom.getNamespacedCustomObject(key)) as { metadata: { finalizers?: string[] } };
        expect(obj.metadata.finalizers).toEqual(['sso.gatehouse.dev/finalizer']);
        obj.metadata.finalizers = [];
        await operator.custom.replaceNamespacedCustomObject({ ...key, body: obj });
      }
    });

    it('writes status by server-side apply and by update', async () => {
      for (const plural of PLURALS) {
        const [kind, name] = OBJECTS[plural];
        const key = { group: GROUP, version: VERSION, namespace: orgA, plural, name };
        const condition = { type: 'Ready', status: 'Unknown', reason: 'Reconciling', message: 'first visit', lastTransitionTime: now(), observedGeneration: 1 };
        await operator.custom.patchNamespacedCustomObjectStatus(
          { ...key, fieldManager: 'gatehouse-operator', force: true, body: { apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name, namespace: orgA }, status: { observedGeneration: 1, conditions: [condition] } } },
          applyPatch,
        );
        const obj = (await operator.custom.getNamespacedCustomObjectStatus(key)) as { status: { conditions: { type: string; status: string }[] } };
        expect(obj.status.conditions[0]).toMatchObject({ type: 'Ready', status: 'Unknown' });
        obj.status.conditions = [{ ...condition, status: 'False', reason: 'Waiting' } as never];
        await operator.custom.replaceNamespacedCustomObjectStatus({ ...key, body: obj });
      }
    });

    it('owns the SP key pair Secret in the organization namespace', async () => {
      const profile = (await operator.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: orgA, plural: 'ssoprofiles', name: 'okta' })) as { metadata: { uid: string } };
      const body = {
        ...secret('gatehouse-sp-okta', orgA),
        metadata: {
          name: 'gatehouse-sp-okta',
          namespace: orgA,
          ownerReferences: [{ apiVersion: `${GROUP}/${VERSION}`, kind: 'SSOProfile', name: 'okta', uid: profile.metadata.uid, controller: true, blockOwnerDeletion: true }],
        },
      };
      await operator.core.createNamespacedSecret({ namespace: orgA, body });
      await operator.core.readNamespacedSecret({ namespace: orgA, name: 'gatehouse-sp-okta' });
      const list = await operator.core.listNamespacedSecret({ namespace: orgA, labelSelector: 'app.kubernetes.io/managed-by!=nobody' });
      expect(list.items.map((s) => s.metadata?.name)).toContain('gatehouse-sp-okta');
      expect(await firstWatchEvent(operator.kc, `/api/v1/namespaces/${orgA}/secrets`, { fieldSelector: 'metadata.name=gatehouse-sp-okta' })).toBe('ADDED');
      await operator.core.patchNamespacedSecret({ namespace: orgA, name: 'gatehouse-sp-okta', body: { metadata: { labels: { rotated: 'yes' } } } }, mergePatch);
      const current = await operator.core.readNamespacedSecret({ namespace: orgA, name: 'gatehouse-sp-okta' });
      await operator.core.replaceNamespacedSecret({ namespace: orgA, name: 'gatehouse-sp-okta', body: current });
      await operator.core.deleteNamespacedSecret({ namespace: orgA, name: 'gatehouse-sp-okta' });
    });

    it('renders the config Secret and holds the leader Lease in the release namespace', async () => {
      await operator.core.createNamespacedSecret({ namespace: ns, body: { ...secret(configSecret, ns), stringData: { 'config.json': '{"formatVersion":1,"organizations":[]}' } } });
      await operator.core.patchNamespacedSecret({ namespace: ns, name: configSecret, body: { metadata: { annotations: { 'sso.gatehouse.dev/config-hash': 'x' } } } }, mergePatch);
      const cfg = await operator.core.readNamespacedSecret({ namespace: ns, name: configSecret });
      await operator.core.replaceNamespacedSecret({ namespace: ns, name: configSecret, body: cfg });
      await operator.core.listNamespacedSecret({ namespace: ns, fieldSelector: `metadata.name=${configSecret}` });

      const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'gatehouse-operator', namespace: ns }, spec: { holderIdentity: 'pod-1', leaseDurationSeconds: 15, acquireTime: microTime(), renewTime: microTime() } };
      await operator.leases.createNamespacedLease({ namespace: ns, body: lease as never });
      const held = await operator.leases.readNamespacedLease({ namespace: ns, name: 'gatehouse-operator' });
      held.spec = { ...held.spec, acquireTime: microTime() as never, renewTime: microTime() as never };
      await operator.leases.replaceNamespacedLease({ namespace: ns, name: 'gatehouse-operator', body: held });
    });

    it('watches namespaces by the SCIM label, and the SCIM token Secrets by name in every namespace', async () => {
      const list = await operator.core.listNamespace({ labelSelector: SCIM_LABEL });
      // Other tests on this control plane label their own namespaces too.
      const names = list.items.map((n) => n.metadata?.name);
      expect(names).toContain(orgA);
      expect(names).not.toContain(orgB);
      expect(await firstWatchEvent(operator.kc, '/api/v1/namespaces', { labelSelector: SCIM_LABEL })).toBe('ADDED');
      await operator.core.readNamespace({ name: orgA });
      // The operator's informer: cluster-wide list+watch of Secrets, by name.
      const secrets = await operator.core.listSecretForAllNamespaces({ fieldSelector: `metadata.name=${SCIM_SECRET}` });
      expect(secrets.items.map((x) => x.metadata?.namespace).filter((n) => n === orgA || n === orgB || n === ns).sort()).toEqual([orgA, orgB]);
      expect(secrets.items.every((x) => x.metadata?.name === SCIM_SECRET)).toBe(true);
      expect(await firstWatchEvent(operator.kc, '/api/v1/secrets', { fieldSelector: `metadata.name=${SCIM_SECRET}` })).toBe('ADDED');
    });

    it('creates the SCIM token Secret when absent, and reads and updates it', async () => {
      await ok(['delete', 'secret', '-n', orgB, SCIM_SECRET]);
      await operator.core.createNamespacedSecret({ namespace: orgB, body: { metadata: { name: SCIM_SECRET, namespace: orgB }, stringData: { token: 't'.repeat(43) } } });
      const created = await operator.core.readNamespacedSecret({ namespace: orgB, name: SCIM_SECRET });
      await operator.core.replaceNamespacedSecret({ namespace: orgB, name: SCIM_SECRET, body: created });
    });

    it('records Events next to the objects (core and events.k8s.io)', async () => {
      const involved = { apiVersion: `${GROUP}/${VERSION}`, kind: 'SSOProfile', name: 'okta', namespace: orgA };
      await operator.core.createNamespacedEvent({ namespace: orgA, body: { metadata: { name: 'okta.core', namespace: orgA }, involvedObject: involved, reason: 'Reconciled', message: 'm', type: 'Normal', count: 1, source: { component: 'gatehouse-operator' } } });
      await operator.core.patchNamespacedEvent({ namespace: orgA, name: 'okta.core', body: { count: 2 } }, mergePatch);
      await operator.events.createNamespacedEvent({ namespace: orgA, body: { metadata: { name: 'okta.events', namespace: orgA }, regarding: involved, reason: 'Reconciled', note: 'n', type: 'Normal', action: 'Reconcile', eventTime: microTime() as never, reportingController: 'sso.gatehouse.dev/operator', reportingInstance: 'pod-1' } });
      await operator.events.patchNamespacedEvent({ namespace: orgA, name: 'okta.events', body: { series: { count: 2, lastObservedTime: microTime() } } }, mergePatch);
    });

    it('is refused what it does not do', async () => {
      const refused: [string, () => Promise<unknown>][] = [
        ['delete a namespace', () => operator.core.deleteNamespace({ name: orgB })],
        ['label a namespace (turn SCIM on)', () => operator.core.patchNamespace({ name: orgB, body: { metadata: { labels: { 'sso.gatehouse.dev/scim': 'enabled' } } } }, mergePatch)],
        ['create a namespace', () => operator.core.createNamespace({ body: { metadata: { name: 'rbac-org-new' } } })],
        ['read ManagedGroups (it does not use them)', () => operator.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'managedgroups' })],
        ['delete an SSOProfile', () => operator.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: orgA, plural: 'ssoprofiles', name: 'okta' })],
        ['create a ManagedUser', () => operator.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: orgA, plural: 'managedusers', body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'ManagedUser', metadata: { name: 'mallory' }, spec: { email: 'mallory@acme.com' } } })],
        ['list pods', () => operator.core.listPodForAllNamespaces()],
        ['read ConfigMaps', () => operator.core.listNamespacedConfigMap({ namespace: orgA })],
        ['take a Lease outside the release namespace', () => operator.leases.createNamespacedLease({ namespace: orgA, body: { metadata: { name: 'x' }, spec: {} } })],
        ['grant itself more', () => operator.kc.makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({ body: { metadata: { name: 'escalate' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'ServiceAccount', name: operatorSA, namespace: ns }] } })],
      ];
      for (const [what, call] of refused) expect([what, await statusOf(call())]).toEqual([what, 403]);
    });
  });

  describe('sp-server (JIT and SCIM off)', () => {
    it('lists and watches ManagedUsers in all namespaces', async () => {
      const list = (await sp.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'managedusers' })) as { items: unknown[] };
      expect(list.items.length).toBeGreaterThan(0);
      expect(await firstWatchEvent(sp.kc, `/apis/${GROUP}/${VERSION}/managedusers`)).toBe('ADDED');
      await sp.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: orgA, plural: 'managedusers', name: 'alice' });
    });

    it('reads and watches ManagedGroups (group names for role mapping at login)', async () => {
      const list = (await sp.custom.listNamespacedCustomObject(mg(orgA))) as { items: { metadata: { name: string } }[] };
      expect(list.items.map((g) => g.metadata.name)).toEqual(['sales']);
      await sp.custom.getNamespacedCustomObject({ ...mg(orgA), name: 'sales' });
      expect(await firstWatchEvent(sp.kc, `/apis/${GROUP}/${VERSION}/managedgroups`)).toBe('ADDED');
    });

    it('reads and watches the config Secret by name (fieldSelector)', async () => {
      await ok(['apply', '-f', '-'], JSON.stringify(secret(configSecret, ns)));
      await sp.core.readNamespacedSecret({ namespace: ns, name: configSecret });
      const list = await sp.core.listNamespacedSecret({ namespace: ns, fieldSelector: `metadata.name=${configSecret}` });
      expect(list.items.map((s) => s.metadata?.name)).toEqual([configSecret]);
      expect(await firstWatchEvent(sp.kc, `/api/v1/namespaces/${ns}/secrets`, { fieldSelector: `metadata.name=${configSecret}` })).toBe('ADDED');
    });

    it('records a test result in SSOProfile status by server-side apply', async () => {
      const completed = now();
      await sp.custom.patchNamespacedCustomObjectStatus(
        {
          group: GROUP, version: VERSION, namespace: orgA, plural: 'ssoprofiles', name: 'okta', fieldManager: 'gatehouse-sp-server', force: true,
          body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'SSOProfile', metadata: { name: 'okta', namespace: orgA }, status: { test: { result: 'Succeeded', email: 'alice@acme.com', completedTime: completed } } },
        },
        applyPatch,
      );
      const obj = JSON.parse(await ok(['get', 'ssop', '-n', orgA, 'okta', '-o', 'json'])) as { status: { test: { result: string; completedTime: string } } };
      expect(obj.status.test).toMatchObject({ result: 'Succeeded', completedTime: completed });
    });

    it('is refused Secrets other than its config, ManagedUser writes and SSOProfile spec', async () => {
      const mu = { group: GROUP, version: VERSION, namespace: orgA, plural: 'managedusers' };
      const refused: [string, () => Promise<unknown>][] = [
        ['read an organization Secret', () => sp.core.readNamespacedSecret({ namespace: orgA, name: 'app-db-password' })],
        ['read the SCIM token (SCIM off)', () => sp.core.readNamespacedSecret({ namespace: orgA, name: 'gatehouse-scim-token' })],
        ['list Secrets in the release namespace', () => sp.core.listNamespacedSecret({ namespace: ns })],
        ['read the signing key through the API', () => sp.core.readNamespacedSecret({ namespace: ns, name: signingKeySecret })],
        ['write its config', () => sp.core.patchNamespacedSecret({ namespace: ns, name: configSecret, body: { metadata: { labels: { x: 'y' } } } }, mergePatch)],
        ['create a ManagedUser (JIT off)', () => sp.custom.createNamespacedCustomObject({ ...mu, body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'ManagedUser', metadata: { name: 'jit' }, spec: { email: 'jit@acme.com' } } })],
        ['delete a ManagedUser', () => sp.custom.deleteNamespacedCustomObject({ ...mu, name: 'alice' })],
        ['write ManagedUser status', () => sp.custom.patchNamespacedCustomObjectStatus({ ...mu, name: 'alice', body: { status: { observedGeneration: 9 } } }, mergePatch)],
        ['write SSOProfile spec', () => sp.custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: orgA, plural: 'ssoprofiles', name: 'okta', body: { spec: { signAuthnRequests: false } } }, mergePatch)],
        ['read SSOProfiles', () => sp.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'ssoprofiles' })],
        ['create a ManagedGroup (SCIM off)', () => sp.custom.createNamespacedCustomObject({ ...mg(orgA), body: group('mallory') })],
        ['change a ManagedGroup (SCIM off)', () => sp.custom.patchNamespacedCustomObject({ ...mg(orgA), name: 'sales', body: { spec: { members: [] } } }, mergePatch)],
        ['delete a ManagedGroup (SCIM off)', () => sp.custom.deleteNamespacedCustomObject({ ...mg(orgA), name: 'sales' })],
        ['read VerifiedDomains (SCIM off)', () => sp.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: orgA, plural: 'verifieddomains' })],
        ['read namespaces', () => sp.core.listNamespace()],
        ['record Events', () => sp.core.createNamespacedEvent({ namespace: orgA, body: { metadata: { name: 'x' }, involvedObject: {} } })],
      ];
      for (const [what, call] of refused) expect([what, await statusOf(call())]).toEqual([what, 403]);
      const canI = await kubectl(kubeconfig, ['auth', 'can-i', 'get', 'secrets', '-n', orgA, `--as=system:serviceaccount:${ns}:${spServerSA}`]);
      expect(canI.stdout.trim()).toBe('no');
    });
  });

  describe('options', () => {
    it('jitProvisioning: the sp-server may create ManagedUsers, nothing more', async () => {
      await install('spServer.jitProvisioning=true');
      const mu = { group: GROUP, version: VERSION, namespace: orgA, plural: 'managedusers' };
      const created = await eventually(() => sp.custom.createNamespacedCustomObject({ ...mu, body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'ManagedUser', metadata: { name: 'jit-user' }, spec: { email: 'jit.user@acme.com', roles: ['member'] } } }));
      expect(created).toMatchObject({ metadata: { name: 'jit-user' } });
      expect(await statusOf(sp.custom.deleteNamespacedCustomObject({ ...mu, name: 'jit-user' }))).toBe(403);
      expect(await statusOf(sp.core.readNamespacedSecret({ namespace: orgA, name: 'gatehouse-scim-token' }))).toBe(403);
    });

    it('scim.enabled: ManagedUser and ManagedGroup writes, VerifiedDomain reads, still no Secret', async () => {
      await install('spServer.jitProvisioning=true', 'scim.enabled=true');
      const mu = { group: GROUP, version: VERSION, namespace: orgA, plural: 'managedusers' };
      // Groups: the verbs the SCIM plugin uses (create, conditional replace, merge patch, delete).
      await eventually(() => sp.custom.createNamespacedCustomObject({ ...mg(orgA), body: group('scim-group') }));
      const g = (await sp.custom.getNamespacedCustomObject({ ...mg(orgA), name: 'scim-group' })) as { spec: { members: string[] } };
      g.spec.members = [];
      await sp.custom.replaceNamespacedCustomObject({ ...mg(orgA), name: 'scim-group', body: g });
      await sp.custom.patchNamespacedCustomObject({ ...mg(orgA), name: 'scim-group', body: { spec: { externalId: 'x-1' } } }, mergePatch);
      await sp.custom.deleteNamespacedCustomObject({ ...mg(orgA), name: 'scim-group' });
      // Domains: userName must be in a Verified one.
      const vds = (await sp.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: orgA, plural: 'verifieddomains' })) as { items: unknown[] };
      expect(vds.items.length).toBeGreaterThan(0);
      await sp.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: orgA, plural: 'verifieddomains', name: 'acme-com' });
      expect(await firstWatchEvent(sp.kc, `/apis/${GROUP}/${VERSION}/verifieddomains`)).toBe('ADDED');
      expect(await statusOf(sp.custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: orgA, plural: 'verifieddomains', name: 'acme-com', body: { metadata: { labels: { x: 'y' } } } }, mergePatch))).toBe(403);
      expect(await statusOf(sp.custom.patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace: orgA, plural: 'verifieddomains', name: 'acme-com', body: { status: { observedGeneration: 9 } } }, mergePatch))).toBe(403);
      // Tokens reach it as digests in the rendered config: the Secrets themselves stay closed.
      expect(await statusOf(sp.core.readNamespacedSecret({ namespace: orgA, name: 'gatehouse-scim-token' }))).toBe(403);
      expect(await statusOf(sp.core.readNamespacedSecret({ namespace: orgA, name: 'app-db-password' }))).toBe(403);
      expect(await statusOf(sp.core.listNamespacedSecret({ namespace: orgA }))).toBe(403);
      await sp.custom.patchNamespacedCustomObject({ ...mu, name: 'jit-user', body: { spec: { active: false } } }, mergePatch);
      const user = (await sp.custom.getNamespacedCustomObject({ ...mu, name: 'jit-user' })) as { spec: { active: boolean } };
      expect(user.spec.active).toBe(false);
      await sp.custom.replaceNamespacedCustomObject({ ...mu, name: 'jit-user', body: user });
      await sp.custom.deleteNamespacedCustomObject({ ...mu, name: 'jit-user' });
    });

    it('organizationNamespaces.scope=Namespaces: Secrets only in the listed organizations', async () => {
      await install('scim.enabled=true', 'rbac.organizationNamespaces.scope=Namespaces', `rbac.organizationNamespaces.namespaces={${orgA}}`);
      // The cluster-wide binding is gone once Secrets in an unlisted organization are refused.
      await eventually(async () => expect(await statusOf(operator.core.readNamespacedSecret({ namespace: orgB, name: 'gatehouse-scim-token' }))).toBe(403));
      await operator.core.createNamespacedSecret({ namespace: orgA, body: secret('gatehouse-sp-scoped', orgA) });
      await operator.core.deleteNamespacedSecret({ namespace: orgA, name: 'gatehouse-sp-scoped' });
      expect(await statusOf(operator.core.createNamespacedSecret({ namespace: orgB, body: secret('gatehouse-sp-scoped', orgB) }))).toBe(403);
      // In its own namespace, only the config Secret: not the sp-server's key, not others' Secrets.
      await operator.core.readNamespacedSecret({ namespace: ns, name: configSecret });
      expect(await statusOf(operator.core.readNamespacedSecret({ namespace: ns, name: signingKeySecret }))).toBe(403);
      expect(await statusOf(operator.core.readNamespacedSecret({ namespace: ns, name: 'app-db-password' }))).toBe(403);
      expect(await statusOf(operator.core.deleteNamespacedSecret({ namespace: ns, name: configSecret }))).toBe(403);
      expect(await statusOf(operator.core.listNamespacedSecret({ namespace: ns }))).toBe(403);
      // Namespaces only by name, only the listed ones (the operator's per-namespace informer).
      const listed = await operator.core.listNamespace({ fieldSelector: `metadata.name=${orgA}`, labelSelector: SCIM_LABEL });
      expect(listed.items.map((n) => n.metadata?.name)).toEqual([orgA]);
      expect(await firstWatchEvent(operator.kc, '/api/v1/namespaces', { fieldSelector: `metadata.name=${orgA}`, labelSelector: SCIM_LABEL })).toBe('ADDED');
      await operator.core.readNamespace({ name: orgA });
      expect(await statusOf(operator.core.readNamespace({ name: orgB }))).toBe(403);
      expect(await statusOf(operator.core.listNamespace({ labelSelector: SCIM_LABEL }))).toBe(403);
      // Token Secrets by name in the listed organization, not cluster-wide.
      await operator.core.listNamespacedSecret({ namespace: orgA, fieldSelector: `metadata.name=${SCIM_SECRET}` });
      expect(await statusOf(operator.core.listSecretForAllNamespaces({ fieldSelector: `metadata.name=${SCIM_SECRET}` }))).toBe(403);
      expect(await statusOf(sp.core.readNamespacedSecret({ namespace: orgA, name: 'gatehouse-scim-token' }))).toBe(403);
    });
  });
});
