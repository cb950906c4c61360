// The real operator, sp-server and admin portal, run as local processes with exactly the arguments the chart
// renders for their Deployments, the files its Secrets mount, and a kubeconfig impersonating
// the chart's ServiceAccounts: they must come up, do their job, and never be refused by the
// API server. Skipped until the entry points exist in the tree.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../controlplane/controlplane.ts';
import { kubectl } from '../controlplane/kubectl.ts';
import { CHART_DIR, find, helm, parseManifests, writeImpersonatingKubeconfig, type Rendered } from '../support/helm.ts';
import { ManagedProcess } from '../support/managed-process.ts';
import { PortalClient } from '../support/portal.ts';
import { waitFor } from '../support/wait.ts';

const kubeconfig = inject('kubeconfig');
const root = join(import.meta.dirname, '..', '..');
const ns = 'chart-procs';
const org = 'procs-org';
const release = 'gh-procs';

async function ok(args: string[], stdin?: string): Promise<string> {
  const res = await kubectl(kubeconfig, args, stdin);
  if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

type Container = { args: string[]; command: string[]; env?: { name: string; value?: string }[] };
function container(objs: Rendered[], deployment: string): Container {
  const c = (find(objs, 'Deployment', deployment).spec as { template: { spec: { containers: Container[] } } }).template.spec.containers[0];
  if (!c) throw new Error(`${deployment} has no container`);
  return c;
}

/** The chart's args, with listen addresses moved to free loopback ports and mounted paths to local files. */
function localArgs(args: string[], replace: Record<string, string>): string[] {
  return args.map((a) => {
    const flag = a.split('=')[0] ?? a;
    return flag in replace ? `${flag}=${replace[flag]}` : a;
  });
}

async function httpStatus(url: string): Promise<number> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).status;
  } catch {
    return 0;
  }
}

describe('operator and sp-server with the chart\'s arguments and RBAC', () => {
  let dir = '';
  const children = new Map<string, ManagedProcess>();
  let objs: Rendered[] = [];
  let spPort = 0;
  let spMetricsPort = 0;
  let portalPort = 0;

  function start(name: string, c: Container, args: string[], saKubeconfig: string): ManagedProcess {
    const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: saKubeconfig, POD_NAME: `${name}-local-0` };
    for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    // The whole log is searched for refusals: keep all of it.
    const child = ManagedProcess.spawn({ name, command: process.execPath, args: [...c.command.slice(1), ...args], cwd: root, env, outputLimitBytes: 16 * 1024 * 1024, stopGraceMs: 10_000 });
    children.set(name, child);
    return child;
  }
  const logOf = (name: string) => children.get(name)?.output() ?? '';
  /** One key of a Secret the chart created, written where the process reads it. */
  async function writeSecretKey(secret: string, key: string, file: string): Promise<string> {
    const s = JSON.parse(await ok(['get', 'secret', '-n', ns, secret, '-o', 'json'])) as { data: Record<string, string> };
    const path = join(dir, file);
    writeFileSync(path, Buffer.from(s.data[key] ?? '', 'base64'), { mode: 0o600 });
    return path;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-procs-'));
    for (const n of [ns, org]) await ok(['create', 'namespace', n]);
    spPort = await freePort();
    const closedDNS = await freePort();
    const res = await helm(['install', release, CHART_DIR, '-n', ns, '--set', [
      'crds.enabled=false',
      `publicURL=http://127.0.0.1:${spPort}`,
      `operator.dnsServers={127.0.0.1:${closedDNS}}`,
      'spServer.oauthClients[0].clientId=demo',
      `spServer.oauthClients[0].redirectUris[0]=http://127.0.0.1:${spPort + 1}/callback`,
      'spServer.oauthClients[0].public=true',
      'portal.enabled=true',
      // A placeholder: the portal's port is taken when it starts (a port reserved now may be
      // someone else's by then), and its --public-url follows it.
      'portal.publicURL=http://127.0.0.1:8080',
    ].join(',')], { kubeconfig });
    if (res.code !== 0) throw new Error(res.stderr);
    objs = parseManifests((await helm(['get', 'manifest', release, '-n', ns], { kubeconfig })).stdout);
    const examples = ['10-verified-domains.yaml', '20-managed-users.yaml'].map((f) => readFileSync(join(root, 'examples', f), 'utf8').replaceAll('namespace: acme', `namespace: ${org}`));
    await ok(['apply', '-f', '-'], examples.join('\n---\n'));
  });

  afterAll(async () => {
    for (const child of children.values()) await child.stop();
    await helm(['uninstall', release, '-n', ns], { kubeconfig });
    for (const n of [ns, org]) await kubectl(kubeconfig, ['delete', 'namespace', n, '--wait=false']);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the operator comes up, leads, renders the config Secret and reports status, unrefused', async () => {
    const c = container(objs, `${release}-gatehouse-operator`);
    const [metrics, health] = [await freePort(), await freePort()];
    // Other tests share this control plane, each with its own operator on its own namespaces: a
    // cluster-wide operator here would reconcile their objects with another public URL.
    const args = [...localArgs(c.args, { '--metrics-address': `127.0.0.1:${metrics}`, '--health-address': `127.0.0.1:${health}` }), `--watch-namespaces=${org}`];
    const child = start('operator', c, args, writeImpersonatingKubeconfig(kubeconfig, ns, `${release}-gatehouse-operator`, dir));
    await child.waitReady(async () => (await httpStatus(`http://127.0.0.1:${health}/readyz`)) === 200, 60_000);
    await waitFor('the rendered config Secret', () => ok(['get', 'secret', '-n', ns, `${release}-gatehouse-sp-config`]), 60_000);
    expect(await ok(['get', 'leases', '-n', ns, '-o', 'name'])).not.toBe('');
    await waitFor('VerifiedDomain status from the operator', async () => {
      const vd = JSON.parse(await ok(['get', 'vd', '-n', org, 'acme-com', '-o', 'json'])) as { metadata: { generation: number }; status?: { observedGeneration?: number; conditions?: { type: string }[] } };
      expect(vd.status?.observedGeneration).toBe(vd.metadata.generation);
      expect(vd.status?.conditions?.map((x) => x.type)).toContain('Ready');
      return true;
    }, 60_000);
    expect(await httpStatus(`http://127.0.0.1:${metrics}/metrics`)).toBe(200);
    expect(logOf('operator')).not.toMatch(/forbidden/i);
  });

  it('the sp-server loads the rendered config and serves OIDC discovery, unrefused', async () => {
    const c = container(objs, `${release}-gatehouse-sp-server`);
    const secretData = (name: string) => find(objs, 'Secret', name) as Rendered & { data: Record<string, string> };
    // What the chart mounts, from the Secrets it created in the cluster.
    const signing = JSON.parse(await ok(['get', 'secret', '-n', ns, `${release}-gatehouse-oidc-signing-key`, '-o', 'json'])) as { data: Record<string, string> };
    for (const [name, pem] of Object.entries(signing.data)) writeFileSync(join(dir, name), Buffer.from(pem, 'base64'));
    writeFileSync(join(dir, 'clients.json'), Buffer.from(secretData(`${release}-gatehouse-oauth-clients`).data['clients.json'] ?? '', 'base64'));
    await writeSecretKey(`${release}-gatehouse-internal-token`, 'token', 'internal-token');
    const spMetrics = (spMetricsPort = await freePort());
    const args = localArgs(c.args, {
      '--listen-address': `127.0.0.1:${spPort}`,
      '--metrics-address': `127.0.0.1:${spMetrics}`,
      '--oauth-clients-file': join(dir, 'clients.json'),
      '--internal-token-file': join(dir, 'internal-token'),
    }).map((a) => a.replace('--signing-key-file=/etc/gatehouse/signing-key/', `--signing-key-file=${dir}/`));
    const child = start('sp-server', c, args, writeImpersonatingKubeconfig(kubeconfig, ns, `${release}-gatehouse-sp-server`, dir));
    await child.waitReady(async () => (await httpStatus(`http://127.0.0.1:${spPort}/readyz`)) === 200, 60_000);
    const discovery = (await (await fetch(`http://127.0.0.1:${spPort}/.well-known/openid-configuration`)).json()) as { issuer: string; id_token_signing_alg_values_supported: string[] };
    expect(discovery.issuer.startsWith(`http://127.0.0.1:${spPort}`)).toBe(true);
    expect(discovery.id_token_signing_alg_values_supported).toEqual(['RS256', 'ES256']);
    expect(await httpStatus(`http://127.0.0.1:${spMetrics}/metrics`)).toBe(200);
    expect(await httpStatus(`http://127.0.0.1:${spPort}/metrics`)).toBe(404);
    expect(logOf('sp-server')).not.toMatch(/forbidden/i);
  });

  it('the portal comes up, mints and redeems a setup link, writes as gatehouse-portal and reads activity, unrefused', async () => {
    const c = container(objs, `${release}-gatehouse-portal`);
    portalPort = await freePort();
    const portalMetrics = await freePort();
    const args = localArgs(c.args, {
      '--public-url': `http://127.0.0.1:${portalPort}`,
      '--listen-address': `127.0.0.1:${portalPort}`,
      '--metrics-address': `127.0.0.1:${portalMetrics}`,
      '--oauth-clients-file': join(dir, 'clients.json'),
      '--oidc-client-secret-file': await writeSecretKey(`${release}-gatehouse-portal-oidc`, 'client-secret', 'portal-client-secret'),
      '--internal-token-file': join(dir, 'internal-token'),
      '--activity-url': `http://127.0.0.1:${spMetricsPort}`,
    });
    const saKubeconfig = writeImpersonatingKubeconfig(kubeconfig, ns, `${release}-gatehouse-portal`, dir);
    const child = start('portal', { ...c, env: [...(c.env ?? []), { name: 'POD_NAMESPACE', value: ns }] }, args, saKubeconfig);
    await child.waitReady(async () => (await httpStatus(`http://127.0.0.1:${portalMetrics}/readyz`)) === 200, 60_000);
    // The documented kubectl path: the mint script with the portal's ServiceAccount and environment.
    const mint = ManagedProcess.spawn({
      name: 'mint-link',
      command: process.execPath,
      args: [join(root, 'portal', 'setup-links', 'mint-link.ts'), `--namespace=${org}`, '--ttl=10m', '--for=it@acme.com'],
      cwd: root,
      env: { ...process.env, KUBECONFIG: saKubeconfig, POD_NAMESPACE: ns, GATEHOUSE_PORTAL_PUBLIC_URL: `http://127.0.0.1:${portalPort}` },
    });
    expect((await mint.exited).code).toBe(0);
    const link = mint.output().split('\n').find((l) => l.startsWith(`http://127.0.0.1:${portalPort}/setup/`)) ?? '';
    expect(link).not.toBe('');
    const admin = new PortalClient(`http://127.0.0.1:${portalPort}`);
    expect((await admin.get(new URL(link).pathname)).status).toBe(200);
    expect((await admin.post('/setup', { link: new URL(link).pathname.slice('/setup/'.length) }, { csrf: false })).status).toBe(303);
    await admin.get('/domains');
    expect((await admin.post('/domains', { domain: 'procs-portal.example.com' })).status).toBe(303);
    const vd = JSON.parse(await ok(['get', 'vd', '-n', org, 'procs-portal-example-com', '-o', 'json', '--show-managed-fields'])) as { metadata: { managedFields: { manager: string }[] } };
    expect(vd.metadata.managedFields.map((m) => m.manager)).toContain('gatehouse-portal');
    const activity = await admin.get('/activity');
    expect(activity.status).toBe(200);
    expect(activity.body).not.toContain('unavailable');
    // Sign-in through Gatehouse: discovery at the sp-server and a redirect to its /authorize.
    const signin = await new PortalClient(`http://127.0.0.1:${portalPort}`).post('/signin', { email: 'alice@acme.com' }, { csrf: false });
    expect(signin.status).toBe(200);
    expect(signin.headers.get('refresh')).toMatch(new RegExp(`^0;url=http://127.0.0.1:${spPort}/authorize\\?.*client_id=gatehouse-portal`));
    expect(logOf('portal')).not.toMatch(/forbidden/i);
  });
});
