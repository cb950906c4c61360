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
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GROUP, VERSION } from '../../crds/api/index.ts';
import { resourcePath, type KubeClient } from '../../kube/client.ts';
import { kubectl } from '../controlplane/kubectl.ts';
import { CHART_DIR, helm, writeImpersonatingKubeconfig } from '../support/helm.ts';
import { firstWatchEvent, MERGE_PATCH, statusOf, testClient } from '../support/kube.ts';
import { waitFor } from '../support/wait.ts';

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
const proofKeySecret = `${release}-gatehouse-domain-proof-key`;
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

/** The admin acting as one of the chart's ServiceAccounts (as `kubectl --as` does). */
const clientFor = (sa: string) => testClient(kubeconfig, { impersonate: `system:serviceaccount:${ns}:${sa}` });

// REST paths of what the components touch.
const cr = (plural: string, namespace?: string, name?: string) => resourcePath({ group: GROUP, version: VERSION, plural }, namespace, name);
const core = (plural: string, namespace?: string, name?: string) => resourcePath({ group: '', version: 'v1', plural }, namespace, name);
const leases = (namespace: string, name?: string) => resourcePath({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases' }, namespace, name);
const eventsV1 = (namespace: string, name?: string) => resourcePath({ group: 'events.k8s.io', version: 'v1', plural: 'events' }, namespace, name);
const get = <T = Obj>(c: KubeClient, path: string, query?: Record<string, string>) => c.call<T>('GET', path, query ? { query } : {});
const post = <T = Obj>(c: KubeClient, path: string, body: unknown) => c.call<T>('POST', path, { body });
const put = (c: KubeClient, path: string, body: unknown) => c.call('PUT', path, { body });
const merge = (c: KubeClient, path: string, body: unknown) => c.call('PATCH', path, { body, contentType: MERGE_PATCH });
const del = (c: KubeClient, path: string) => c.call('DELETE', path);
type Obj = { metadata: { name: string; namespace?: string; uid: string; finalizers?: string[] }; [k: string]: unknown };
type List<T = Obj> = { items: T[] };

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
// Lease and events.k8s.io times are MicroTime: the API server wants six fractional digits.
const microTime = () => new Date().toISOString().replace(/Z$/, '000Z');
const secret = (name: string, namespace: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, stringData: { k: 'v' } });
const SCIM_LABEL = 'sso.gatehouse.dev/scim=enabled';
const SCIM_SECRET = 'gatehouse-scim-token';
const SP_KEYS_SECRET = 'gatehouse-sp-keys';
const OIDC_CLIENT_SECRET = 'gatehouse-oidc-client';
const redisSecret = `${release}-redis-password`;
const group = (name: string) => ({ apiVersion: `${GROUP}/${VERSION}`, kind: 'ManagedGroup', metadata: { name }, spec: { displayName: name, members: ['alice'] } });

describe('chart RBAC, impersonating the ServiceAccounts', () => {
  let operator: KubeClient;
  let sp: KubeClient;

  beforeAll(async () => {
    for (const n of [ns, orgA, orgB]) await ok(['create', 'namespace', n]);
    await install();
    for (const file of ['10-verified-domains.yaml', '20-managed-users.yaml', '30-ssoprofile-okta.yaml']) {
      const text = readFileSync(join(root, 'examples', file), 'utf8').replaceAll('namespace: acme', `namespace: ${orgA}`);
      await ok(['apply', '-f', '-'], text);
    }
    for (const [name, n] of [['app-db-password', orgA], ['gatehouse-scim-token', orgA], ['gatehouse-scim-token', orgB], ['app-db-password', ns], [OIDC_CLIENT_SECRET, orgA]] as const) {
      await ok(['apply', '-f', '-'], JSON.stringify(secret(name, n)));
    }
    // SCIM on for orgA (the operator watches by this label); one ManagedGroup there.
    await ok(['label', 'namespace', orgA, SCIM_LABEL]);
    await ok(['apply', '-f', '-'], JSON.stringify({ ...group('sales'), metadata: { name: 'sales', namespace: orgA } }));
    operator = await clientFor(operatorSA);
    sp = await clientFor(spServerSA);
  });

  afterAll(async () => {
    await operator?.close();
    await sp?.close();
    await helm(['uninstall', release, '-n', ns], { kubeconfig });
    for (const n of [ns, orgA, orgB]) await kubectl(kubeconfig, ['delete', 'namespace', n, '--wait=false']);
  });

  const whoAmI = (c: KubeClient) =>
    post<{ status?: { userInfo?: { username?: string; groups?: string[] } } }>(c, '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });

  it('the API server sees the ServiceAccounts, not the admin', async () => {
    for (const [c, sa] of [[operator, operatorSA], [sp, spServerSA]] as const) {
      const review = await whoAmI(c);
      expect(review.status?.userInfo?.username).toBe(`system:serviceaccount:${ns}:${sa}`);
      expect(review.status?.userInfo?.groups).toContain(`system:serviceaccounts:${ns}`);
    }
  });

  it('a kubeconfig file for local processes impersonates the same way (the kube/ loader and kubectl)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-kc-'));
    try {
      const file = writeImpersonatingKubeconfig(kubeconfig, ns, spServerSA, dir);
      const c = await testClient(file);
      try {
        const review = await whoAmI(c);
        expect(review.status?.userInfo?.username).toBe(`system:serviceaccount:${ns}:${spServerSA}`);
      } finally {
        await c.close();
      }
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
        const list = await get<List>(operator, cr(plural));
        expect(list.items.length).toBeGreaterThan(0);
        expect(await firstWatchEvent(operator, cr(plural))).toBe('ADDED');
      }
    });

    it('adds and removes its finalizer (merge patch and update of the object)', async () => {
      for (const plural of PLURALS) {
        const path = cr(plural, orgA, OBJECTS[plural][1]);
        await merge(operator, path, { metadata: { finalizers: ['sso.gatehouse.dev/finalizer'] } });
        const obj = await get(operator, path);
        expect(obj.metadata.finalizers).toEqual(['sso.gatehouse.dev/finalizer']);
        obj.metadata.finalizers = [];
        await put(operator, path, obj);
      }
    });

    it('writes status by server-side apply and by update', async () => {
      for (const plural of PLURALS) {
        const [kind, name] = OBJECTS[plural];
        const path = cr(plural, orgA, name);
        const condition = { type: 'Ready', status: 'Unknown', reason: 'Reconciling', message: 'first visit', lastTransitionTime: now(), observedGeneration: 1 };
        await operator.apply(path, { apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name, namespace: orgA }, status: { observedGeneration: 1, conditions: [condition] } }, 'gatehouse-operator', { subresource: 'status', force: true });
        const obj = await get<Obj & { status: { conditions: { type: string; status: string; [field: string]: unknown }[] } }>(operator, `${path}/status`);
        expect(obj.status.conditions[0]).toMatchObject({ type: 'Ready', status: 'Unknown' });
        obj.status.conditions = [{ ...condition, status: 'False', reason: 'Waiting' }];
        await put(operator, `${path}/status`, obj);
      }
    });

    it('owns the SP key Secret (gatehouse-sp-keys) in the organization namespace, by name', async () => {
      const profile = await get(operator, cr('ssoprofiles', orgA, 'okta'));
      const body = {
        ...secret(SP_KEYS_SECRET, orgA),
        metadata: {
          name: SP_KEYS_SECRET,
          namespace: orgA,
          ownerReferences: [{ apiVersion: `${GROUP}/${VERSION}`, kind: 'SSOProfile', name: 'okta', uid: profile.metadata.uid }],
        },
      };
      const path = core('secrets', orgA, SP_KEYS_SECRET);
      await post(operator, core('secrets', orgA), body);
      await get(operator, path);
      // The operator's informer: list+watch by name, in the namespace and cluster-wide.
      const list = await get<List>(operator, core('secrets', orgA), { fieldSelector: `metadata.name=${SP_KEYS_SECRET}` });
      expect(list.items.map((x) => x.metadata.name)).toEqual([SP_KEYS_SECRET]);
      expect(await firstWatchEvent(operator, core('secrets', orgA), { fieldSelector: `metadata.name=${SP_KEYS_SECRET}` })).toBe('ADDED');
      expect(await firstWatchEvent(operator, core('secrets'), { fieldSelector: `metadata.name=${SP_KEYS_SECRET}` })).toBe('ADDED');
      await merge(operator, path, { metadata: { labels: { rotated: 'yes' } } });
      const current = await get(operator, path);
      await put(operator, path, current);
      await del(operator, path);
    });

    it('reads the OIDC client secret Secret (gatehouse-oidc-client) by name in every namespace, and never writes it', async () => {
      const path = core('secrets', orgA, OIDC_CLIENT_SECRET);
      await get(operator, path);
      // The operator's informer: list+watch by name, in the namespace and cluster-wide.
      const list = await get<List>(operator, core('secrets', orgA), { fieldSelector: `metadata.name=${OIDC_CLIENT_SECRET}` });
      expect(list.items.map((x) => x.metadata.name)).toEqual([OIDC_CLIENT_SECRET]);
      expect(await firstWatchEvent(operator, core('secrets', orgA), { fieldSelector: `metadata.name=${OIDC_CLIENT_SECRET}` })).toBe('ADDED');
      expect(await firstWatchEvent(operator, core('secrets'), { fieldSelector: `metadata.name=${OIDC_CLIENT_SECRET}` })).toBe('ADDED');
      const current = await get(operator, path);
      const refused: [string, () => Promise<unknown>][] = [
        ['update', () => put(operator, path, current)],
        ['patch', () => merge(operator, path, { metadata: { labels: { x: 'y' } } })],
        ['delete', () => del(operator, path)],
      ];
      for (const [what, call] of refused) expect([what, await statusOf(call())]).toEqual([what, 403]);
    });

    it('cannot read, list, watch, change or delete any other Secret, here or in another namespace (default values)', async () => {
      await ok(['apply', '-f', '-'], JSON.stringify(secret(redisSecret, ns)));
      // The chart made the signing key; the redis password is the admin's (redis.existingSecret).
      expect((await kubectl(kubeconfig, ['get', 'secret', '-n', ns, signingKeySecret])).code).toBe(0);
      const refused: [string, () => Promise<unknown>][] = [];
      for (const [n, name] of [[ns, signingKeySecret], [ns, redisSecret], [ns, 'app-db-password'], [orgA, 'app-db-password'], [orgB, 'app-db-password']] as const) {
        refused.push(
          [`get ${n}/${name}`, () => get(operator, core('secrets', n, name))],
          [`list ${n}/${name} by name`, () => get(operator, core('secrets', n), { fieldSelector: `metadata.name=${name}` })],
          [`watch ${n}/${name} by name`, () => get(operator, core('secrets', n), { fieldSelector: `metadata.name=${name}`, watch: 'true' })],
          [`update ${n}/${name}`, () => put(operator, core('secrets', n, name), secret(name, n))],
          [`patch ${n}/${name}`, () => merge(operator, core('secrets', n, name), { metadata: { labels: { x: 'y' } } })],
          [`delete ${n}/${name}`, () => del(operator, core('secrets', n, name))],
        );
      }
      refused.push(
        ['list Secrets of an organization', () => get(operator, core('secrets', orgA))],
        ['list Secrets of the release namespace', () => get(operator, core('secrets', ns))],
        ['list Secrets cluster-wide', () => get(operator, core('secrets'))],
        ['list Secrets by label', () => get(operator, core('secrets', orgA), { labelSelector: 'app.kubernetes.io/managed-by!=nobody' })],
        // Creating a Secret of another name is allowed (RBAC cannot narrow create), reading it back is not.
        ['read back a Secret it created under another name', async () => {
          await post(operator, core('secrets', orgA), secret('created-by-operator', orgA));
          return get(operator, core('secrets', orgA, 'created-by-operator'));
        }],
      );
      for (const [what, call] of refused) expect([what, await statusOf(call())]).toEqual([what, 403]);
      const canI = await kubectl(kubeconfig, ['auth', 'can-i', 'get', 'secrets', '-n', orgA, `--as=system:serviceaccount:${ns}:${operatorSA}`]);
      expect(canI.stdout.trim()).toBe('no');
    });

    it('renders the config Secret, reads its domain-proof key and holds the leader Lease in the release namespace', async () => {
      await post(operator, core('secrets', ns), { ...secret(proofKeySecret, ns), stringData: { key: 'k'.repeat(44) } });
      await get(operator, core('secrets', ns, proofKeySecret));
      expect(await statusOf(merge(operator, core('secrets', ns, proofKeySecret), { metadata: { labels: { x: 'y' } } }))).toBe(403);
      const path = core('secrets', ns, configSecret);
      await post(operator, core('secrets', ns), { ...secret(configSecret, ns), stringData: { 'config.json': '{"formatVersion":1,"organizations":[]}' } });
      await merge(operator, path, { metadata: { annotations: { 'sso.gatehouse.dev/config-hash': 'x' } } });
      const cfg = await get(operator, path);
      await put(operator, path, cfg);
      await get(operator, core('secrets', ns), { fieldSelector: `metadata.name=${configSecret}` });

      const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'gatehouse-operator', namespace: ns }, spec: { holderIdentity: 'pod-1', leaseDurationSeconds: 15, acquireTime: microTime(), renewTime: microTime() } };
      await post(operator, leases(ns), lease);
      const held = await get<Obj & { spec: Record<string, unknown> }>(operator, leases(ns, 'gatehouse-operator'));
      held.spec = { ...held.spec, acquireTime: microTime(), renewTime: microTime() };
      await put(operator, leases(ns, 'gatehouse-operator'), held);
    });

    it('watches namespaces by the SCIM label, and the SCIM token Secrets by name in every namespace', async () => {
      const list = await get<List>(operator, core('namespaces'), { labelSelector: SCIM_LABEL });
      // Other tests on this control plane label their own namespaces too.
      const names = list.items.map((n) => n.metadata.name);
      expect(names).toContain(orgA);
      expect(names).not.toContain(orgB);
      expect(await firstWatchEvent(operator, core('namespaces'), { labelSelector: SCIM_LABEL })).toBe('ADDED');
      await get(operator, core('namespaces', undefined, orgA));
      // The operator's informer: cluster-wide list+watch of Secrets, by name.
      const secrets = await get<List>(operator, core('secrets'), { fieldSelector: `metadata.name=${SCIM_SECRET}` });
      expect(secrets.items.map((x) => x.metadata.namespace).filter((n) => n === orgA || n === orgB || n === ns).sort()).toEqual([orgA, orgB]);
      expect(secrets.items.every((x) => x.metadata.name === SCIM_SECRET)).toBe(true);
      expect(await firstWatchEvent(operator, core('secrets'), { fieldSelector: `metadata.name=${SCIM_SECRET}` })).toBe('ADDED');
    });

    it('creates the SCIM token Secret when absent, and reads and updates it', async () => {
      await ok(['delete', 'secret', '-n', orgB, SCIM_SECRET]);
      await post(operator, core('secrets', orgB), { metadata: { name: SCIM_SECRET, namespace: orgB }, stringData: { token: 't'.repeat(43) } });
      const created = await get(operator, core('secrets', orgB, SCIM_SECRET));
      await put(operator, core('secrets', orgB, SCIM_SECRET), created);
    });

    it('records Events next to the objects (core and events.k8s.io)', async () => {
      const involved = { apiVersion: `${GROUP}/${VERSION}`, kind: 'SSOProfile', name: 'okta', namespace: orgA };
      await post(operator, core('events', orgA), { metadata: { name: 'okta.core', namespace: orgA }, involvedObject: involved, reason: 'Reconciled', message: 'm', type: 'Normal', count: 1, source: { component: 'gatehouse-operator' } });
      await merge(operator, core('events', orgA, 'okta.core'), { count: 2 });
      await post(operator, eventsV1(orgA), { metadata: { name: 'okta.events', namespace: orgA }, regarding: involved, reason: 'Reconciled', note: 'n', type: 'Normal', action: 'Reconcile', eventTime: microTime(), reportingController: 'sso.gatehouse.dev/operator', reportingInstance: 'pod-1' });
      await merge(operator, eventsV1(orgA, 'okta.events'), { series: { count: 2, lastObservedTime: microTime() } });
    });

    it('is refused what it does not do', async () => {
      const refused: [string, () => Promise<unknown>][] = [
        ['delete a namespace', () => del(operator, core('namespaces', undefined, orgB))],
        ['label a namespace (turn SCIM on)', () => merge(operator, core('namespaces', undefined, orgB), { metadata: { labels: { 'sso.gatehouse.dev/scim': 'enabled' } } })],
        ['create a namespace', () => post(operator, core('namespaces'), { metadata: { name: 'rbac-org-new' } })],
        ['read ManagedGroups (it does not use them)', () => get(operator, cr('managedgroups'))],
        ['delete an SSOProfile', () => del(operator, cr('ssoprofiles', orgA, 'okta'))],
        ['create a ManagedUser', () => post(operator, cr('managedusers', orgA), { apiVersion: `${GROUP}/${VERSION}`, kind: 'ManagedUser', metadata: { name: 'mallory' }, spec: { email: 'mallory@acme.com' } })],
        ['list pods', () => get(operator, core('pods'))],
        ['read ConfigMaps', () => get(operator, core('configmaps', orgA))],
        ['take a Lease outside the release namespace', () => post(operator, leases(orgA), { metadata: { name: 'x' }, spec: {} })],
        ['grant itself more', () => post(operator, resourcePath({ group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings' }), { metadata: { name: 'escalate' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'ServiceAccount', name: operatorSA, namespace: ns }] })],
      ];
      for (const [what, call] of refused) expect([what, await statusOf(call())]).toEqual([what, 403]);
    });
  });

  describe('sp-server (JIT and SCIM off)', () => {
    it('lists and watches ManagedUsers in all namespaces', async () => {
      const list = await get<List>(sp, cr('managedusers'));
      expect(list.items.length).toBeGreaterThan(0);
      expect(await firstWatchEvent(sp, cr('managedusers'))).toBe('ADDED');
      await get(sp, cr('managedusers', orgA, 'alice'));
    });

    it('reads and watches ManagedGroups (group names for role mapping at login)', async () => {
      const list = await get<List>(sp, cr('managedgroups', orgA));
      expect(list.items.map((g) => g.metadata.name)).toEqual(['sales']);
      await get(sp, cr('managedgroups', orgA, 'sales'));
      expect(await firstWatchEvent(sp, cr('managedgroups'))).toBe('ADDED');
    });

    it('reads and watches the config Secret by name (fieldSelector)', async () => {
      await ok(['apply', '-f', '-'], JSON.stringify(secret(configSecret, ns)));
      await get(sp, core('secrets', ns, configSecret));
      const list = await get<List>(sp, core('secrets', ns), { fieldSelector: `metadata.name=${configSecret}` });
      expect(list.items.map((x) => x.metadata.name)).toEqual([configSecret]);
      expect(await firstWatchEvent(sp, core('secrets', ns), { fieldSelector: `metadata.name=${configSecret}` })).toBe('ADDED');
    });

    it('records a test result in SSOProfile status by server-side apply', async () => {
      const completed = now();
      await sp.apply(
        cr('ssoprofiles', orgA, 'okta'),
        { apiVersion: `${GROUP}/${VERSION}`, kind: 'SSOProfile', metadata: { name: 'okta', namespace: orgA }, status: { test: { result: 'Succeeded', email: 'alice@acme.com', completedTime: completed } } },
        'gatehouse-sp-server',
        { subresource: 'status', force: true },
      );
      const obj = JSON.parse(await ok(['get', 'ssop', '-n', orgA, 'okta', '-o', 'json'])) as { status: { test: { result: string; completedTime: string } } };
      expect(obj.status.test).toMatchObject({ result: 'Succeeded', completedTime: completed });
    });

    it('is refused Secrets other than its config, ManagedUser writes and SSOProfile spec', async () => {
      const refused: [string, () => Promise<unknown>][] = [
        ['read an organization Secret', () => get(sp, core('secrets', orgA, 'app-db-password'))],
        ['read the SCIM token (SCIM off)', () => get(sp, core('secrets', orgA, 'gatehouse-scim-token'))],
        ['read an OIDC client secret (it gets it through the rendered config)', () => get(sp, core('secrets', orgA, OIDC_CLIENT_SECRET))],
        ['list Secrets in the release namespace', () => get(sp, core('secrets', ns))],
        ['read the signing key through the API', () => get(sp, core('secrets', ns, signingKeySecret))],
        ['write its config', () => merge(sp, core('secrets', ns, configSecret), { metadata: { labels: { x: 'y' } } })],
        ['create a ManagedUser (JIT off)', () => post(sp, cr('managedusers', orgA), { apiVersion: `${GROUP}/${VERSION}`, kind: 'ManagedUser', metadata: { name: 'jit' }, spec: { email: 'jit@acme.com' } })],
        ['delete a ManagedUser', () => del(sp, cr('managedusers', orgA, 'alice'))],
        ['write ManagedUser status', () => merge(sp, `${cr('managedusers', orgA, 'alice')}/status`, { status: { observedGeneration: 9 } })],
        ['write SSOProfile spec', () => merge(sp, cr('ssoprofiles', orgA, 'okta'), { spec: { signAuthnRequests: false } })],
        ['read SSOProfiles', () => get(sp, cr('ssoprofiles'))],
        ['create a ManagedGroup (SCIM off)', () => post(sp, cr('managedgroups', orgA), group('mallory'))],
        ['change a ManagedGroup (SCIM off)', () => merge(sp, cr('managedgroups', orgA, 'sales'), { spec: { members: [] } })],
        ['delete a ManagedGroup (SCIM off)', () => del(sp, cr('managedgroups', orgA, 'sales'))],
        ['read VerifiedDomains (SCIM off)', () => get(sp, cr('verifieddomains', orgA))],
        ['read namespaces', () => get(sp, core('namespaces'))],
        ['record Events', () => post(sp, core('events', orgA), { metadata: { name: 'x' }, involvedObject: {} })],
      ];
      for (const [what, call] of refused) expect([what, await statusOf(call())]).toEqual([what, 403]);
      const canI = await kubectl(kubeconfig, ['auth', 'can-i', 'get', 'secrets', '-n', orgA, `--as=system:serviceaccount:${ns}:${spServerSA}`]);
      expect(canI.stdout.trim()).toBe('no');
    });
  });

  describe('options', () => {
    // The API server's RBAC authorizer follows Role and binding changes through a watch, so a
    // `helm upgrade` takes effect a moment later.
    const RBAC_PROPAGATION_MS = 15_000;

    it('jitProvisioning: the sp-server may create ManagedUsers, nothing more', async () => {
      await install('spServer.jitProvisioning=true');
      const created = await waitFor('ManagedUser create allowed', () => post(sp, cr('managedusers', orgA), { apiVersion: `${GROUP}/${VERSION}`, kind: 'ManagedUser', metadata: { name: 'jit-user' }, spec: { email: 'jit.user@acme.com', roles: ['member'] } }), RBAC_PROPAGATION_MS);
      expect(created).toMatchObject({ metadata: { name: 'jit-user' } });
      expect(await statusOf(del(sp, cr('managedusers', orgA, 'jit-user')))).toBe(403);
      expect(await statusOf(get(sp, core('secrets', orgA, 'gatehouse-scim-token')))).toBe(403);
    });

    it('scim.enabled: ManagedUser and ManagedGroup writes, VerifiedDomain reads, still no Secret', async () => {
      await install('spServer.jitProvisioning=true', 'scim.enabled=true');
      // Groups: the verbs the SCIM plugin uses (create, conditional replace, merge patch, delete).
      const scimGroup = cr('managedgroups', orgA, 'scim-group');
      await waitFor('ManagedGroup create allowed', () => post(sp, cr('managedgroups', orgA), group('scim-group')), RBAC_PROPAGATION_MS);
      const g = await get<Obj & { spec: { members: string[] } }>(sp, scimGroup);
      g.spec.members = [];
      await put(sp, scimGroup, g);
      await merge(sp, scimGroup, { spec: { externalId: 'x-1' } });
      await del(sp, scimGroup);
      // Domains: userName must be in a Verified one.
      const vds = await get<List>(sp, cr('verifieddomains', orgA));
      expect(vds.items.length).toBeGreaterThan(0);
      await get(sp, cr('verifieddomains', orgA, 'acme-com'));
      expect(await firstWatchEvent(sp, cr('verifieddomains'))).toBe('ADDED');
      expect(await statusOf(merge(sp, cr('verifieddomains', orgA, 'acme-com'), { metadata: { labels: { x: 'y' } } }))).toBe(403);
      expect(await statusOf(merge(sp, `${cr('verifieddomains', orgA, 'acme-com')}/status`, { status: { observedGeneration: 9 } }))).toBe(403);
      // Tokens reach it as digests in the rendered config: the Secrets themselves stay closed.
      expect(await statusOf(get(sp, core('secrets', orgA, 'gatehouse-scim-token')))).toBe(403);
      expect(await statusOf(get(sp, core('secrets', orgA, 'app-db-password')))).toBe(403);
      expect(await statusOf(get(sp, core('secrets', orgA)))).toBe(403);
      const jitUser = cr('managedusers', orgA, 'jit-user');
      await merge(sp, jitUser, { spec: { active: false } });
      const user = await get<Obj & { spec: { active: boolean } }>(sp, jitUser);
      expect(user.spec.active).toBe(false);
      await put(sp, jitUser, user);
      await del(sp, jitUser);
    });

    it('organizationNamespaces.scope=Namespaces: Secrets only in the listed organizations', async () => {
      await install('scim.enabled=true', 'rbac.organizationNamespaces.scope=Namespaces', `rbac.organizationNamespaces.namespaces={${orgA}}`);
      // The cluster-wide binding is gone once Secrets in an unlisted organization are refused.
      await waitFor('Secrets in an unlisted organization refused', async () => (await statusOf(get(operator, core('secrets', orgB, 'gatehouse-scim-token')))) === 403, RBAC_PROPAGATION_MS);
      await post(operator, core('secrets', orgA), secret(SP_KEYS_SECRET, orgA));
      await del(operator, core('secrets', orgA, SP_KEYS_SECRET));
      expect(await statusOf(post(operator, core('secrets', orgB), secret(SP_KEYS_SECRET, orgB)))).toBe(403);
      expect(await statusOf(get(operator, core('secrets', orgA, 'app-db-password')))).toBe(403);
      // In its own namespace, only the config Secret: not the sp-server's key, not others' Secrets.
      await get(operator, core('secrets', ns, configSecret));
      expect(await statusOf(get(operator, core('secrets', ns, signingKeySecret)))).toBe(403);
      expect(await statusOf(get(operator, core('secrets', ns, 'app-db-password')))).toBe(403);
      expect(await statusOf(del(operator, core('secrets', ns, configSecret)))).toBe(403);
      expect(await statusOf(get(operator, core('secrets', ns)))).toBe(403);
      // Namespaces only by name, only the listed ones (the operator's per-namespace informer).
      const listed = await get<List>(operator, core('namespaces'), { fieldSelector: `metadata.name=${orgA}`, labelSelector: SCIM_LABEL });
      expect(listed.items.map((n) => n.metadata.name)).toEqual([orgA]);
      expect(await firstWatchEvent(operator, core('namespaces'), { fieldSelector: `metadata.name=${orgA}`, labelSelector: SCIM_LABEL })).toBe('ADDED');
      await get(operator, core('namespaces', undefined, orgA));
      expect(await statusOf(get(operator, core('namespaces', undefined, orgB)))).toBe(403);
      expect(await statusOf(get(operator, core('namespaces'), { labelSelector: SCIM_LABEL }))).toBe(403);
      // Token Secrets by name in the listed organization, not cluster-wide.
      await get(operator, core('secrets', orgA), { fieldSelector: `metadata.name=${SCIM_SECRET}` });
      expect(await statusOf(get(operator, core('secrets'), { fieldSelector: `metadata.name=${SCIM_SECRET}` }))).toBe(403);
      expect(await statusOf(get(sp, core('secrets', orgA, 'gatehouse-scim-token')))).toBe(403);
    });
  });
});
