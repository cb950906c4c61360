import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { fromKubeConfig, type Credentials } from './kubeconfig.ts';
import { inCluster, inClusterCredentials, SERVICE_ACCOUNT_DIR, staticKubeconfigCredentials } from './kubeconfig-static.ts';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-kc-static-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const b64 = (s: string) => Buffer.from(s).toString('base64');

writeFileSync(join(dir, 'ca.pem'), 'CA-FROM-FILE');
writeFileSync(join(dir, 'client.crt'), 'CERT-FROM-FILE');
writeFileSync(join(dir, 'client.key'), 'KEY-FROM-FILE');

/** A kubeconfig with two contexts; the current one uses `cluster` and `user`. */
function kubeconfig(name: string, cluster: string, user: string): string {
  const file = join(dir, name);
  writeFileSync(file, [
    'apiVersion: v1',
    'kind: Config',
    'current-context: b',
    'clusters:',
    '- {name: other, cluster: {server: "https://other:6443"}}',
    `- {name: c, cluster: ${cluster}}`,
    'users:',
    '- {name: other, user: {token: not-this-one}}',
    `- {name: u, user: ${user}}`,
    'contexts:',
    '- {name: a, context: {cluster: other, user: other}}',
    '- {name: b, context: {cluster: c, user: u}}',
  ].join('\n'));
  return file;
}

async function plain(c: Credentials) {
  const { headers, ca, cert, key, ...rest } = c;
  return { ...rest, ca: ca?.toString(), cert: cert?.toString(), key: key?.toString(), headers: await headers() };
}

async function viaClientNode(file: string) {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return plain(await fromKubeConfig(kc, file));
}

describe('staticKubeconfigCredentials', () => {
  // Each reads as client-node reads it: the same server, TLS material, SNI name and headers.
  const cases: [string, string, string][] = [
    ['token and inline CA', `{server: "https://api:6443/", certificate-authority-data: ${b64('CA-DATA')}}`, '{token: abc}'],
    ['client certificate files, relative to the kubeconfig, and a CA file', '{server: "https://api:6443", certificate-authority: ca.pem}', '{client-certificate: client.crt, client-key: client.key}'],
    ['inline client certificate; a CA file wins over inline data', `{server: "https://api:6443", certificate-authority: ca.pem, certificate-authority-data: ${b64('IGNORED')}}`, `{client-certificate-data: ${b64('CERT-DATA')}, client-key-data: ${b64('KEY-DATA')}}`],
    ['insecure, with a TLS server name', '{server: "https://10.0.0.1:6443", insecure-skip-tls-verify: true, tls-server-name: api.internal}', '{token: "  padded  "}'],
    ['basic auth', '{server: "https://api:6443"}', '{username: admin, password: s3cret}'],
    ['kubectl tokenFile over a token', '{server: "https://api:6443"}', '{token: stale, tokenFile: token}'],
    ['no credentials at all, and a proxy (ignored, as before)', '{server: "https://api:6443", proxy-url: "http://proxy:3128"}', '{}'],
    ['plain HTTP when insecure-skip-tls-verify says so', '{server: "http://127.0.0.1:8080", insecure-skip-tls-verify: true}', '{token: abc}'],
  ];
  writeFileSync(join(dir, 'token'), 'from-file\n');
  for (const [name, cluster, user] of cases) {
    it(`reads ${name} as client-node does`, async () => {
      const file = kubeconfig(name.replace(/\W+/g, '-'), cluster, user);
      const direct = staticKubeconfigCredentials(file);
      expect(direct).toBeDefined();
      expect(await plain(direct as Credentials)).toEqual(await viaClientNode(file));
    });
  }

  it('the values it reads are the right ones, not only the same as client-node', async () => {
    const file = kubeconfig('checked', `{server: "https://api:6443/", certificate-authority-data: ${b64('CA-DATA')}}`, '{token: abc, client-certificate: client.crt, client-key: client.key}');
    expect(await plain(staticKubeconfigCredentials(file) as Credentials)).toEqual({
      server: 'https://api:6443',
      ca: 'CA-DATA',
      cert: 'CERT-FROM-FILE',
      key: 'KEY-FROM-FILE',
      insecureSkipTLSVerify: false,
      headers: { authorization: 'Bearer abc' },
    });
  });

  it('leaves every other user to client-node: exec plugins, auth providers, impersonation, token-file', () => {
    for (const user of ['{exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/true}}', '{auth-provider: {name: oidc, config: {}}}', '{token: a, as: someone}', '{token-file: token}']) {
      expect(staticKubeconfigCredentials(kubeconfig('dynamic', '{server: "https://api:6443"}', user))).toBeUndefined();
    }
  });

  it('leaves what it cannot read to client-node, which reports it', async () => {
    writeFileSync(join(dir, 'broken'), 'current-context: x\nclusters: [}');
    expect(staticKubeconfigCredentials(join(dir, 'broken'))).toBeUndefined();
    expect(staticKubeconfigCredentials(kubeconfig('no-server', '{certificate-authority-data: eA==}', '{token: a}'))).toBeUndefined();
    writeFileSync(join(dir, 'no-context'), 'current-context: missing\nclusters: []\nusers: []\ncontexts: []\n');
    expect(staticKubeconfigCredentials(join(dir, 'no-context'))).toBeUndefined();
    // client-node refuses to send credentials over plain HTTP unless told to skip TLS.
    const http = kubeconfig('plain-http', '{server: "http://127.0.0.1:8080"}', '{token: abc}');
    expect(staticKubeconfigCredentials(http)).toBeUndefined();
    await expect(viaClientNode(http)).rejects.toThrow(/HTTP protocol is not allowed/);
  });
});

describe('inClusterCredentials', () => {
  // client-node reads the service account under a path prefix; the same files serve both.
  const root = join(dir, 'root');
  const sa = join(root, SERVICE_ACCOUNT_DIR);
  mkdirSync(sa, { recursive: true });
  writeFileSync(join(sa, 'ca.crt'), 'CLUSTER-CA');
  writeFileSync(join(sa, 'namespace'), 'gatehouse-system');

  async function viaClientNodeInCluster(env: Record<string, string>) {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const kc = new KubeConfig();
      kc.loadFromCluster(root);
      return await plain(await fromKubeConfig(kc));
    } finally {
      process.env = saved;
    }
  }

  it('reads the service account as client-node does', async () => {
    writeFileSync(join(sa, 'token'), 'sa-token\n');
    for (const env of [{ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '6443' }]) {
      expect(await plain(inClusterCredentials(env, sa))).toEqual(await viaClientNodeInCluster(env));
    }
    // Both refuse to send the token to what client-go takes for a plain-HTTP port.
    const plainPort = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '8080' };
    expect(() => inClusterCredentials(plainPort, sa)).toThrow(/over TLS only/);
    await expect(viaClientNodeInCluster(plainPort)).rejects.toThrow(/HTTP protocol is not allowed/);
    expect(await plain(inClusterCredentials({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, sa))).toEqual({
      server: 'https://[fd00::1]:443',
      ca: 'CLUSTER-CA',
      insecureSkipTLSVerify: false,
      headers: { authorization: 'Bearer sa-token' },
    });
  });

  it('re-reads the token kubelet rotates, and is chosen only with the service host and the token', async () => {
    writeFileSync(join(sa, 'token'), 'sa-token-1');
    const c = inClusterCredentials({ KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, sa);
    expect(await c.headers()).toEqual({ authorization: 'Bearer sa-token-1' });
    writeFileSync(join(sa, 'token'), 'sa-token-2');
    expect(await c.headers()).toEqual({ authorization: 'Bearer sa-token-2' });
    expect(inCluster({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, sa)).toBe(true);
    expect(inCluster({}, sa)).toBe(false);
    expect(inCluster({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, join(dir, 'nowhere'))).toBe(false);
  });
});

describe('loadCredentials', () => {
  it('does not load client-node for a static kubeconfig, and does for an exec plugin', () => {
    const file = kubeconfig('loaded', '{server: "https://api:6443"}', '{token: abc}');
    const exec = kubeconfig('loaded-exec', '{server: "https://api:6443"}', '{exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/true}}');
    // A plain Node process (not the test runner's module graph) that records every module resolved.
    const loads = (config: string): boolean => {
      const script = [
        "import { registerHooks } from 'node:module';",
        'let seen = false;',
        "registerHooks({ resolve(s, c, next) { if (s.startsWith('@kubernetes/client-node')) seen = true; return next(s, c); } });",
        `const { loadCredentials } = await import(${JSON.stringify(new URL('./kubeconfig.ts', import.meta.url).href)});`,
        `await loadCredentials(${JSON.stringify(config)}, {}).catch(() => {});`,
        'process.stdout.write(String(seen));',
      ].join('\n');
      return execFileSync(process.execPath, ['--input-type=module', '--eval', script], { encoding: 'utf8' }) === 'true';
    };
    expect(loads(file)).toBe(false);
    expect(loads(exec)).toBe(true);
  });
});
