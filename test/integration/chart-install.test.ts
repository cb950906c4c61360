// The chart's whole life on a real API server: helm install (adopting CRDs that were applied
// with kubectl before), helm upgrade delivering a CRD change and keeping the generated
// ID-token signing key, and helm uninstall leaving the CRDs — and so every organization's
// resources — in place. No kubelet: the Deployments never start pods; that is expected.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GROUP, KINDS } from '../../crds/api/index.ts';
import { kubectl } from '../controlplane/kubectl.ts';
import { CHART_DIR, helm } from '../support/helm.ts';

const kubeconfig = inject('kubeconfig');
const ns = 'chart-install';
const release = 'gatehouse';
const crdNames = KINDS.map((k) => `${k.plural}.${GROUP}`);

async function ok(args: string[], stdin?: string): Promise<string> {
  const res = await kubectl(kubeconfig, args, stdin);
  if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

async function jsonOf<T>(args: string[]): Promise<T> {
  return JSON.parse(await ok([...args, '-o', 'json'])) as T;
}

/** Both signing keys (RSA and EC), as stored. */
const signingKey = async () => {
  const { data } = await jsonOf<{ data: Record<string, string> }>(['get', 'secret', '-n', ns, 'gatehouse-oidc-signing-key']);
  return `${data['private.pem']} ${data['ec-private.pem']}`;
};

const crdDescription = async (name: string) =>
  (await jsonOf<{ spec: { versions: { schema: { openAPIV3Schema: { description: string } } }[] } }>(['get', 'crd', name])).spec.versions[0]?.schema.openAPIV3Schema.description;

describe('helm install, upgrade, uninstall', () => {
  let changedChart: string;

  beforeAll(async () => {
    await ok(['create', 'namespace', ns]);
    // The global setup applied the CRDs with kubectl; an admin moving them under Helm does this
    // (README): Helm then adopts them instead of refusing to install.
    for (const crd of crdNames) {
      await ok(['label', 'crd', crd, 'app.kubernetes.io/managed-by=Helm', '--overwrite']);
      await ok(['annotate', 'crd', crd, `meta.helm.sh/release-name=${release}`, `meta.helm.sh/release-namespace=${ns}`, '--overwrite']);
    }
    // The next chart version, with a changed CRD schema text.
    changedChart = mkdtempSync(join(tmpdir(), 'gatehouse-chart-'));
    cpSync(CHART_DIR, changedChart, { recursive: true });
    const crdFile = join(changedChart, 'templates', 'crds', 'sso.gatehouse.dev_verifieddomains.yaml');
    const text = readFileSync(crdFile, 'utf8');
    const changed = text.replace('description: An email domain the organization', 'description: (v2) An email domain the organization');
    expect(changed).not.toBe(text);
    writeFileSync(crdFile, changed);
  });

  afterAll(async () => {
    rmSync(changedChart, { recursive: true, force: true });
    await helm(['uninstall', release, '-n', ns], { kubeconfig });
    await kubectl(kubeconfig, ['delete', 'namespace', ns, '--wait=false']);
  });

  it('installs into the control plane, CRDs included', async () => {
    const res = await helm(['install', release, CHART_DIR, '-n', ns, '--set', 'publicURL=https://sso.example.com'], { kubeconfig });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/STATUS: deployed/);
    // NOTES.txt: what to do next.
    expect(res.stdout).toMatch(/kind: VerifiedDomain/);
    expect(res.stdout).toMatch(/TXT/);
    const deployments = await jsonOf<{ items: { metadata: { name: string } }[] }>(['get', 'deployments', '-n', ns]);
    expect(deployments.items.map((d) => d.metadata.name).sort()).toEqual(['gatehouse-operator', 'gatehouse-sp-server']);
    for (const crd of crdNames) {
      const obj = await jsonOf<{ metadata: { annotations: Record<string, string> } }>(['get', 'crd', crd]);
      expect(obj.metadata.annotations['helm.sh/resource-policy']).toBe('keep');
    }
    expect(await signingKey()).toMatch(/^[A-Za-z0-9+/=]{100,} [A-Za-z0-9+/=]{100,}$/);
  });

  it('upgrades: CRD changes are applied, the signing key is kept, values take effect', async () => {
    const keyBefore = await signingKey();
    const res = await helm(['upgrade', release, changedChart, '-n', ns, '--reuse-values', '--set', 'spServer.replicas=2,redis.url=redis://redis:6379/0'], { kubeconfig });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(await crdDescription(`verifieddomains.${GROUP}`)).toMatch(/^\(v2\) An email domain/);
    expect(await signingKey()).toBe(keyBefore);
    const sp = await jsonOf<{ spec: { replicas: number; template: { spec: { containers: { args: string[] }[] } } } }>(['get', 'deployment', '-n', ns, 'gatehouse-sp-server']);
    expect(sp.spec.replicas).toBe(2);
    expect(sp.spec.template.spec.containers[0]?.args).toContain('--redis-url=redis://redis:6379/0');
    await ok(['get', 'pdb', '-n', ns, 'gatehouse-sp-server']);

    // And back to this chart: the CRD follows again.
    const back = await helm(['upgrade', release, CHART_DIR, '-n', ns, '--reuse-values'], { kubeconfig });
    expect(back.code, back.stderr).toBe(0);
    expect(await crdDescription(`verifieddomains.${GROUP}`)).toMatch(/^An email domain/);
    expect(await signingKey()).toBe(keyBefore);
    const history = await helm(['history', release, '-n', ns, '-o', 'json'], { kubeconfig });
    expect((JSON.parse(history.stdout) as unknown[]).length).toBe(3);
  });

  it('uninstall removes Gatehouse but keeps the CRDs and the organizations\' resources', async () => {
    await ok(['create', 'namespace', 'chart-install-org']);
    await ok(['apply', '-n', 'chart-install-org', '-f', '-'], 'apiVersion: sso.gatehouse.dev/v1alpha1\nkind: VerifiedDomain\nmetadata: {name: keep-me}\nspec: {domain: keep-me.example.com}\n');
    const res = await helm(['uninstall', release, '-n', ns], { kubeconfig });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/kept due to the resource policy/);
    for (const crd of crdNames) await ok(['get', 'crd', crd]);
    expect(await ok(['get', 'vd', '-n', 'chart-install-org', 'keep-me', '-o', 'name'])).toBe('verifieddomain.sso.gatehouse.dev/keep-me\n');
    const left = await kubectl(kubeconfig, ['get', 'deployments,clusterroles,secrets', '-n', ns, '-l', `app.kubernetes.io/instance=${release}`, '-o', 'name']);
    expect(left.stdout).toBe('');
    await ok(['delete', 'vd', '-n', 'chart-install-org', 'keep-me']);
    await kubectl(kubeconfig, ['delete', 'namespace', 'chart-install-org', '--wait=false']);
  });
});

describe('helm install, upgrade, uninstall with the admin portal', () => {
  const portalNs = 'chart-install-portal';
  const portalRelease = 'gh-portal-life';
  const prefix = `${portalRelease}-gatehouse`;
  const values = 'crds.enabled=false,publicURL=https://sso.example.com,portal.enabled=true,portal.publicURL=https://portal.example.com';
  const secretData = async (name: string) => (await jsonOf<{ data: Record<string, string> }>(['get', 'secret', '-n', portalNs, name])).data;
  /** What must survive an upgrade: the portal's client secret, its hash at the sp-server, the internal token. */
  const generated = async () => ({
    clientSecret: (await secretData(`${prefix}-portal-oidc`))['client-secret'],
    clients: Buffer.from((await secretData(`${prefix}-oauth-clients`))['clients.json'] ?? '', 'base64').toString(),
    token: (await secretData(`${prefix}-internal-token`)).token,
  });

  beforeAll(async () => {
    await ok(['create', 'namespace', portalNs]);
  });

  afterAll(async () => {
    await helm(['uninstall', portalRelease, '-n', portalNs], { kubeconfig });
    await kubectl(kubeconfig, ['delete', 'namespace', portalNs, '--wait=false']);
  });

  it('installs the portal and says how to mint a setup link', async () => {
    const res = await helm(['install', portalRelease, CHART_DIR, '-n', portalNs, '--set', values], { kubeconfig });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(`kubectl -n ${portalNs} exec deploy/${prefix}-portal -- node portal/setup-links/mint-link.ts --namespace acme`);
    const deployments = await jsonOf<{ items: { metadata: { name: string } }[] }>(['get', 'deployments', '-n', portalNs]);
    expect(deployments.items.map((d) => d.metadata.name).sort()).toEqual([`${prefix}-operator`, `${prefix}-portal`, `${prefix}-sp-server`]);
    const { clientSecret, clients, token } = await generated();
    expect(clientSecret).toMatch(/^[A-Za-z0-9+/=]{64}$/);
    expect(token).toMatch(/^[A-Za-z0-9+/=]{64}$/);
    expect(clients).toContain('"clientId":"gatehouse-portal"');
  });

  it('upgrades keep the client secret, its hash, the internal token and the live setup links', async () => {
    const before = await generated();
    // A link the portal wrote (the chart's ConfigMap has no data field of its own).
    await ok(['patch', 'configmap', '-n', portalNs, 'gatehouse-portal-setup-links', '--type=merge', '-p', '{"data":{"0123456789abcdef":"{}"}}']);
    const res = await helm(['upgrade', portalRelease, CHART_DIR, '-n', portalNs, '--reuse-values', '--set', 'portal.adminRoles={admin,owner}'], { kubeconfig });
    expect(res.code, res.stderr).toBe(0);
    expect(await generated()).toEqual(before);
    const cm = await jsonOf<{ data?: Record<string, string> }>(['get', 'configmap', '-n', portalNs, 'gatehouse-portal-setup-links']);
    expect(cm.data).toEqual({ '0123456789abcdef': '{}' });
    const portal = await jsonOf<{ spec: { template: { spec: { containers: { args: string[] }[] } } } }>(['get', 'deployment', '-n', portalNs, `${prefix}-portal`]);
    expect(portal.spec.template.spec.containers[0]?.args).toContain('--admin-roles=admin,owner');
  });

  it('uninstall keeps the setup links ConfigMap', async () => {
    const res = await helm(['uninstall', portalRelease, '-n', portalNs], { kubeconfig });
    expect(res.code, res.stderr).toBe(0);
    await ok(['get', 'configmap', '-n', portalNs, 'gatehouse-portal-setup-links']);
    expect((await kubectl(kubeconfig, ['get', 'validatingadmissionpolicy', `${prefix}-portal-namespaces`])).code).not.toBe(0);
  });
});
