// The sp-server process against the real API server: config from the operator's Secret (hot
// reload), ManagedUsers from the watch cache, test-link results and rate-limited failure
// reports in SSOProfile status by server-side apply, JIT provisioning.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GROUP, VERSION } from '../../crds/api/index.ts';
import type { RenderedSAMLProfile, SPConfig } from '../../crds/api/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import { freePort } from '../controlplane/controlplane.ts';
import { applyConfigSecret, applyManagedUser, applySSOProfile, createNamespace, crPath, deleteNamespaceContents, statusOf, testClient } from '../support/kube.ts';
import { browserGet, browserPostForm, buildAuthorize, CookieJar, discoverClient, loginMethodsOf, readAuthnRequest, redeem, type AppClient } from '../support/login-driver.ts';
import { buildResponse, testIdpKeys, testProfile, TEST_IDP_ENTITY_ID, type ResponseOptions } from '../support/saml-fixtures.ts';
import { SpServerProcess } from '../support/sp-server-process.ts';
import { waitFor } from '../support/wait.ts';

const kubeconfig = inject('kubeconfig');
const suffix = randomBytes(3).toString('hex');
const ORG = `sp-acme-${suffix}`;
const CFG_NS = `sp-config-${suffix}`;
const SECRET = 'gatehouse-sp-config';
const REDIRECT = 'http://127.0.0.1:1/callback';
const TEST_TOKEN = randomBytes(16).toString('hex');
/** The identity the sp-server process runs as (its kubeconfig impersonates it). */
const spServiceAccount = `system:serviceaccount:${CFG_NS}:gatehouse-sp-server-${suffix}`;

/**
 * A kubeconfig that impersonates a ServiceAccount bound to the chart's sp-server rules (JIT on):
 * ManagedUsers get/list/watch/create, ManagedGroups get/list/watch, ssoprofiles/status patch, the config Secret by name.
 */
async function leastPrivilegeKubeconfig(k: KubeClient, adminKubeconfig: string, namespace: string, name: string, secret: string, dir: string): Promise<string> {
  const labels = { 'app.kubernetes.io/component': 'sp-server' };
  await k.apply(`/apis/rbac.authorization.k8s.io/v1/clusterroles/${name}`, {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels },
    rules: [
      { apiGroups: [GROUP], resources: ['managedusers'], verbs: ['get', 'list', 'watch', 'create'] },
      { apiGroups: [GROUP], resources: ['managedgroups'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [GROUP], resources: ['ssoprofiles/status'], verbs: ['patch'] },
    ],
  }, 'test');
  const subject = { kind: 'ServiceAccount', name, namespace };
  await k.apply(`/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${name}`, {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name }, subjects: [subject],
  }, 'test');
  await k.apply(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/roles/${name}`, {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace, labels },
    rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: [secret], verbs: ['get', 'list', 'watch'] }],
  }, 'test');
  await k.apply(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings/${name}`, {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name, namespace, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects: [subject],
  }, 'test');
  const admin = readFileSync(adminKubeconfig, 'utf8');
  const path = join(dir, 'sp-server.kubeconfig');
  writeFileSync(path, admin.replace(/(\n {4}token: [^\n]+)/, `$1\n    as: system:serviceaccount:${namespace}:${name}`), { mode: 0o600 });
  return path;
}

function config(base: string, profile: Partial<RenderedSAMLProfile> = {}): SPConfig {
  const p = testProfile({
    sp: { ...testProfile().sp, entityID: `${base}/saml/${ORG}/okta`, acsURL: `${base}/saml/${ORG}/okta/acs`, metadataURL: `${base}/saml/${ORG}/okta/metadata` },
    test: { token: TEST_TOKEN, email: 'alice@acme.test', expiresAt: new Date(Date.now() + 3_600_000).toISOString() },
    ...profile,
  });
  return { formatVersion: 1, organizations: [{ namespace: ORG, verifiedDomains: ['acme.test'], profiles: [p] }] };
}

describe('sp-server process on the API server', () => {
  let k: KubeClient;
  let sp: SpServerProcess;
  let app: AppClient;
  let base: string;
  let spKubeconfig: string;
  const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-sp-it-'));
  const profilePath = crPath('ssoprofiles', ORG, 'okta');
  // These assertions dig into status and managedFields by path.
  const getObject = (path: string) => k.call<Record<string, any>>('GET', path);

  beforeAll(async () => {
    k = await testClient(kubeconfig);
    await createNamespace(k, ORG);
    await createNamespace(k, CFG_NS);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    await applySSOProfile(
      k,
      ORG,
      'okta',
      { idp: { entityID: TEST_IDP_ENTITY_ID, ssoURL: 'https://idp.acme.test/saml/sso', certificates: [testIdpKeys().certificatePem] }, domains: ['acme.test'], test: { email: 'alice@acme.test' } },
      { test: { url: `${base}/test/${TEST_TOKEN}` }, conditions: [{ type: 'Ready', status: 'False', reason: 'NotTested', message: 'waiting for a test', lastTransitionTime: new Date().toISOString() }] },
    );
    await applyManagedUser(k, ORG, { name: 'alice', email: 'Alice@acme.test', roles: ['admin'], profile: 'okta' });
    await applyManagedUser(k, ORG, { name: 'carol', email: 'carol@acme.test', enforced: true, profile: 'okta' });
    await applyManagedUser(k, ORG, { name: 'bob', email: 'bob@acme.test', active: false });
    await applyConfigSecret(k, CFG_NS, SECRET, config(base));
    // The process runs with the chart's sp-server permissions (JIT on), nothing more.
    spKubeconfig = await leastPrivilegeKubeconfig(k, kubeconfig, CFG_NS, `gatehouse-sp-server-${suffix}`, SECRET, workDir);
    sp = await SpServerProcess.start({
      kubeconfig: spKubeconfig,
      configNamespace: CFG_NS,
      configSecret: SECRET,
      port,
      statusIntervalMs: 1500,
      scim: true,
      clients: [{ client_id: 'console', redirect_uris: [REDIRECT] }],
    });
    app = await discoverClient(base, 'console', REDIRECT);
  });

  afterAll(async () => {
    await sp?.stop();
    rmSync(workDir, { recursive: true, force: true });
    if (k) {
      await k.call('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/gatehouse-sp-server-${suffix}`).catch(() => undefined);
      await k.call('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterroles/gatehouse-sp-server-${suffix}`).catch(() => undefined);
      await deleteNamespaceContents(k, ORG);
      await deleteNamespaceContents(k, CFG_NS);
      await k.close();
    }
  });

  const acs = () => `${base}/saml/${ORG}/okta/acs`;
  const respond = (requestID: string | null, o: ResponseOptions = {}) =>
    buildResponse({ inResponseTo: requestID, destination: acs(), recipient: acs(), audience: `${base}/saml/${ORG}/okta`, ...o });
  const loginMethods = (email: string) => loginMethodsOf(base, email);

  it('reads the operator\'s decision from ManagedUser status, and follows its changes', async () => {
    expect((await loginMethods('carol@acme.test')).methods).toEqual(['sso']);
    expect((await loginMethods('alice@acme.test')).methods).toEqual(['sso', 'password']);
    expect((await loginMethods('bob@acme.test')).methods).toEqual([]);
    await applyManagedUser(k, ORG, { name: 'carol', email: 'carol@acme.test', enforced: false, profile: 'okta' });
    await waitFor('enforcement lifted', async () => (await loginMethods('carol@acme.test')).methods.includes('password'), 5000, undefined, 50);
  });

  it('runs with least privilege: the impersonated identity cannot read SSOProfiles or other Secrets', async () => {
    const as = await testClient(kubeconfig, { impersonate: spServiceAccount });
    try {
      expect(await statusOf(as.call('GET', profilePath))).toBe(403);
      expect(await statusOf(as.call('GET', `/api/v1/namespaces/${CFG_NS}/secrets`))).toBe(403);
      expect(await statusOf(as.call('GET', `/api/v1/namespaces/${CFG_NS}/secrets/${SECRET}`))).toBe(200);
    } finally {
      await as.close();
    }
  });

  it('serves SCIM next to the login path when --scim is set (token required)', async () => {
    const res = await fetch(`${base}/scim/v2/${ORG}/Users`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
  });

  it('logs a managed user in: openid-client receives a verified ID token', async () => {
    const jar = new CookieJar();
    const started = await buildAuthorize(app, 'alice@acme.test');
    const res = await browserGet(started.authorizeURL, jar);
    expect(res.status).toBe(302);
    const { id } = readAuthnRequest(res.headers.get('location') as string);
    const post = await browserPostForm(acs(), { SAMLResponse: (await respond(id)).base64 }, jar);
    expect(post.status, await post.clone().text()).toBe(303);
    const { claims } = await redeem(app, post.headers.get('location') as string, started);
    expect(claims).toMatchObject({ email: 'alice@acme.test', org: ORG, roles: ['admin'] });
  });

  it('records a test-link success in status.test with its own field manager, leaving the operator\'s fields alone', async () => {
    const jar = new CookieJar();
    const res = await browserGet(`${base}/test/${TEST_TOKEN}`, jar);
    expect(res.status).toBe(302);
    const { id, xml } = readAuthnRequest(res.headers.get('location') as string);
    expect(xml).toContain('ForceAuthn="true"');
    const post = await browserPostForm(acs(), { SAMLResponse: (await respond(id)).base64 }, jar);
    expect(post.status).toBe(200);
    expect(await post.text()).toContain('SSO test succeeded');
    const obj = await waitFor('status.test Succeeded', async () => {
      const o = await getObject(profilePath);
      return o.status?.test?.result === 'Succeeded' ? o : undefined;
    }, 5000, undefined, 50);
    expect(obj.status.test).toMatchObject({ result: 'Succeeded', email: 'alice@acme.test', url: `${base}/test/${TEST_TOKEN}` });
    expect(obj.status.test.errorCode).toBeUndefined();
    expect(obj.status.test.completedTime).toBeDefined();
    expect(obj.status.conditions?.[0]?.reason).toBe('NotTested');
    const managers = (obj.metadata.managedFields as Array<{ manager: string; operation: string; subresource?: string; fieldsV1: any }>).filter((m) => m.subresource === 'status');
    const mine = managers.find((m) => m.manager === 'gatehouse-sp-server');
    // Server-side apply (not a merge or JSON patch) on the status subresource.
    expect(mine?.operation).toBe('Apply');
    const operator = managers.find((m) => m.manager === 'gatehouse-operator');
    expect(Object.keys(mine?.fieldsV1['f:status'] ?? {})).not.toContain('f:conditions');
    expect(Object.keys(mine?.fieldsV1['f:status']['f:test'] ?? {})).not.toContain('f:url');
    expect(Object.keys(operator?.fieldsV1['f:status'] ?? {})).toContain('f:conditions');
    expect(Object.keys(operator?.fieldsV1['f:status']['f:test'] ?? {})).toContain('f:url');
  });

  it('records a failed test with the error code and what to fix', async () => {
    const jar = new CookieJar();
    const res = await browserGet(`${base}/test/${TEST_TOKEN}`, jar);
    const { id } = readAuthnRequest(res.headers.get('location') as string);
    const post = await browserPostForm(acs(), { SAMLResponse: (await respond(id, { audience: 'https://wrong.example/sp' })).base64 }, jar);
    expect(post.status).toBe(400);
    const obj = await waitFor('status.test Failed', async () => {
      const o = await getObject(profilePath);
      return o.status?.test?.result === 'Failed' ? o : undefined;
    }, 5000, undefined, 50);
    expect(obj.status.test.errorCode).toBe('AUDIENCE_MISMATCH');
    expect(obj.status.test.message).toContain('https://wrong.example/sp');
    expect(obj.status.test.message).toContain('status.sp.entityID');
  });

  it('coalesces rejections into status.recentFailures at a bounded rate', async () => {
    const writesBefore = await statusWrites();
    const t0 = Date.now();
    for (let i = 0; i < 6; i++) {
      const jar = new CookieJar();
      const started = await buildAuthorize(app, 'alice@acme.test');
      const { id } = readAuthnRequest((await browserGet(started.authorizeURL, jar)).headers.get('location') as string);
      const post = await browserPostForm(acs(), { SAMLResponse: (await respond(id, { issuer: 'https://other-idp.example' })).base64 }, jar);
      expect(post.status).toBe(400);
    }
    const elapsed = Date.now() - t0;
    const obj = await waitFor('recentFailures with 6 issuer mismatches', async () => {
      const o = await getObject(profilePath);
      const f = (o.status?.recentFailures ?? []).find((x: any) => x.code === 'ISSUER_MISMATCH');
      return f?.count === 6 ? o : undefined;
    }, 15_000, undefined, 50);
    const f = obj.status.recentFailures.find((x: any) => x.code === 'ISSUER_MISMATCH');
    expect(f.hint).toContain('other-idp.example');
    // Six rejections, fewer writes: the first at once, then at most one per interval (1.5 s here).
    const writes = (await statusWrites()) - writesBefore;
    expect(writes).toBeLessThan(6);
    expect(writes).toBeLessThanOrEqual(2 + Math.floor(elapsed / 1500));
    // Each rejection is a log line with its code.
    const logged = sp.logLines().filter((l) => l.msg === 'SAML response refused' && l.code === 'ISSUER_MISMATCH');
    expect(logged.length).toBe(6);
    // The test outcome written earlier survives the failure writes (same field manager).
    expect(obj.status.test.result).toBe('Failed');
  });

  async function statusWrites(): Promise<number> {
    const text = await sp.metrics();
    const line = text.split('\n').find((l) => l.startsWith('gatehouse_sp_status_writes_total{kind="recentFailures",result="ok"}'));
    return line ? Number(line.split(' ').pop()) : 0;
  }

  it('hot-reloads the config Secret, finishes logins started before, and refuses an invalid one', async () => {
    // A login starts under the old config…
    const jar = new CookieJar();
    const started = await buildAuthorize(app, 'alice@acme.test');
    const { id } = readAuthnRequest((await browserGet(started.authorizeURL, jar)).headers.get('location') as string);
    expect((await loginMethods('eve@acme.test')).methods).toEqual(['password']);
    // …the operator turns JIT on and adds a role mapping…
    await applyConfigSecret(k, CFG_NS, SECRET, config(base, { displayName: 'Okta (new)', jit: { enabled: true, defaultRoles: ['viewer'] }, roleMapping: { attribute: 'groups', rules: [{ value: 'eng', roles: ['developer'] }] } }));
    // How fast is measured by bench/config-reload.ts; here: applied without a restart.
    await waitFor('new config applied', async () => (await loginMethods('eve@acme.test')).methods.includes('sso'), 10_000, undefined, 50);
    // …and the earlier login completes.
    const post = await browserPostForm(acs(), { SAMLResponse: (await respond(id)).base64 }, jar);
    expect(post.status).toBe(303);
    expect((await redeem(app, post.headers.get('location') as string, started)).claims.email).toBe('alice@acme.test');

    // An invalid document is refused; the last good one keeps serving and the server stays ready.
    await applyConfigSecret(k, CFG_NS, SECRET, '{"formatVersion": 1, "organizations": [{"namespace": ""}]}');
    await waitFor('invalid config counted', async () => /gatehouse_sp_config_reloads_total\{result="invalid"\} [1-9]/.test(await sp.metrics()), 3000, undefined, 50);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(await sp.metrics()).toContain('gatehouse_sp_cache_synced{cache="managedusers"} 1');
    // The process validates in its worker pool by default, one thread per core.
    expect(await sp.metrics()).toMatch(/^gatehouse_sp_validation_workers [1-9]/m);
    // Still the new config: only it lets eve in by JIT.
    expect((await loginMethods('eve@acme.test')).methods).toEqual(['sso', 'password']);
    expect(sp.logLines().some((l) => l.msg === 'config refused; keeping the last good one')).toBe(true);
  });

  it('creates a ManagedUser on the first login of an unknown user (JIT) and maps groups to roles', async () => {
    const jar = new CookieJar();
    const started = await buildAuthorize(app, 'eve@acme.test');
    const { id } = readAuthnRequest((await browserGet(started.authorizeURL, jar)).headers.get('location') as string);
    const post = await browserPostForm(acs(), { SAMLResponse: (await respond(id, { nameID: 'Eve@acme.test', attributes: { groups: ['eng', 'other'], displayName: ['Eve'] } })).base64 }, jar);
    expect(post.status, await post.clone().text()).toBe(303);
    const { claims } = await redeem(app, post.headers.get('location') as string, started);
    expect(claims).toMatchObject({ email: 'eve@acme.test', roles: ['developer', 'viewer'] });
    const list = await getObject(crPath('managedusers', ORG));
    const eve = (list.items as any[]).find((u) => u.spec.email === 'eve@acme.test');
    expect(eve?.spec).toMatchObject({ roles: ['viewer'], displayName: 'Eve' });
    expect(claims.sub).toBe(eve.metadata.uid);
  });
});
