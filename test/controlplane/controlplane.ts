// A real Kubernetes control plane for tests and the local demo: etcd and kube-apiserver (no
// kubelet, no controller-manager), on free loopback ports, with an admin kubeconfig.
// Binaries come from hack/build-controlplane.sh (GATEHOUSE_BIN).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess } from '../support/managed-process.ts';

export interface ControlPlaneOptions {
  /** Folder with etcd, kube-apiserver and kubectl. Defaults to $GATEHOUSE_BIN. */
  binDir?: string;
  /** Where data, certificates and logs go. Defaults to a new temporary folder, removed on stop. */
  workDir?: string;
  /** How long to wait for /readyz. */
  startTimeoutMs?: number;
}

export interface ControlPlaneInfo {
  server: string;
  kubeconfigPath: string;
  workDir: string;
  binDir: string;
}

/** Asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') return reject(new Error('no port'));
      srv.close(() => resolve(addr.port));
    });
  });
}

export function controlPlaneBinDir(explicit?: string): string {
  const dir = explicit ?? process.env.GATEHOUSE_BIN;
  if (!dir) throw new Error('GATEHOUSE_BIN is not set: run through `make test` or hack/env.sh, which build the control plane first');
  for (const bin of ['etcd', 'kube-apiserver', 'kubectl']) {
    if (!existsSync(join(dir, bin))) throw new Error(`${bin} missing in ${dir}: run hack/build-controlplane.sh`);
  }
  return dir;
}

export class ControlPlane implements ControlPlaneInfo {
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly workDir: string;
  readonly binDir: string;
  private etcd: ManagedProcess | undefined;
  private apiServer: ManagedProcess | undefined;
  private apiServerArgs: string[] = [];
  private adminToken = '';
  private readonly ownsWorkDir: boolean;

  private constructor(server: string, workDir: string, binDir: string, ownsWorkDir: boolean) {
    this.server = server;
    this.workDir = workDir;
    this.binDir = binDir;
    this.kubeconfigPath = join(workDir, 'kubeconfig');
    this.ownsWorkDir = ownsWorkDir;
  }

  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const binDir = controlPlaneBinDir(options.binDir);
    const workDir = options.workDir ?? mkdtempSync(join(tmpdir(), 'gatehouse-cp-'));
    const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
    const cp = new ControlPlane(`https://127.0.0.1:${apiPort}`, workDir, binDir, options.workDir === undefined);
    const exitHook = () => cp.killNow();
    process.once('exit', exitHook);
    try {
      await cp.boot(etcdClient, etcdPeer, apiPort, options.startTimeoutMs ?? 90_000);
    } catch (err) {
      await cp.stop();
      throw err;
    }
    return cp;
  }

  /** etcd or kube-apiserver, its output also in WORKDIR/NAME.log for whoever debugs a run. */
  private spawn(name: 'etcd' | 'kube-apiserver', args: string[]): ManagedProcess {
    return ManagedProcess.spawn({ name, command: join(this.binDir, name), args, logFile: join(this.workDir, `${name}.log`), stopGraceMs: 10_000 });
  }

  private async boot(etcdClient: number, etcdPeer: number, apiPort: number, timeoutMs: number): Promise<void> {
    const dir = this.workDir;
    const etcdURL = `http://127.0.0.1:${etcdClient}`;
    this.etcd = this.spawn('etcd', [
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdURL}`,
      `--advertise-client-urls=${etcdURL}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ]);

    // Service-account tokens need a signing key; the admin authenticates with a static token
    // in system:masters, so no client certificate authority is needed.
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const adminToken = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'tokens.csv'), `${adminToken},admin,admin-uid,"system:masters"\n`, { mode: 0o600 });

    this.adminToken = adminToken;
    this.apiServerArgs = [
      `--etcd-servers=${etcdURL}`,
      `--secure-port=${apiPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      // No kubelets or Services to reach: keep the apiserver from publishing a loopback endpoint.
      '--endpoint-reconciler-type=none',
      `--cert-dir=${join(dir, 'certs')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--service-account-issuer=https://gatehouse-test.local',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--disable-admission-plugins=ServiceAccount',
      '--allow-privileged=false',
      '--v=1',
    ];
    this.apiServer = this.spawn('kube-apiserver', this.apiServerArgs);

    await this.waitReady(timeoutMs);
    const ca = readFileSync(join(dir, 'certs', 'apiserver.crt'));
    writeFileSync(this.kubeconfigPath, kubeconfigYaml(this.server, ca.toString('base64'), adminToken), { mode: 0o600 });
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const apiServer = this.apiServer as ManagedProcess;
    const certPath = join(this.workDir, 'certs', 'apiserver.crt');
    await apiServer.waitReady(async () => {
      // Without etcd the apiserver never gets ready: say so at once, with etcd's last words.
      this.etcd?.assertRunning();
      if (!existsSync(certPath)) return false;
      const res = await fetchWithCA(`${this.server}/readyz`, this.adminToken, readFileSync(certPath));
      if (res.status !== 200) throw new Error(`readyz ${res.status}: ${res.body.slice(0, 200)}`);
      return true;
    }, timeoutMs, 250);
  }

  /**
   * Stops kube-apiserver and starts it again on the same port with the same etcd, the way an
   * upgrade or a crash does to every client's watches. Resolves once /readyz answers again.
   */
  async restartApiServer(): Promise<void> {
    await this.apiServer?.stop();
    this.apiServer = this.spawn('kube-apiserver', this.apiServerArgs);
    await this.waitReady(90_000);
  }

  private killNow(): void {
    this.apiServer?.killNow();
    this.etcd?.killNow();
  }

  /** Stops kube-apiserver, then etcd, and removes the folder it created. Safe to call twice. */
  async stop(): Promise<void> {
    await this.apiServer?.stop();
    await this.etcd?.stop();
    if (this.ownsWorkDir) rmSync(this.workDir, { recursive: true, force: true });
  }
}

function kubeconfigYaml(server: string, caBase64: string, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: gatehouse-test',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${caBase64}`,
    'users:',
    '- name: admin',
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: gatehouse-test',
    '  context:',
    '    cluster: gatehouse-test',
    '    user: admin',
    '    namespace: default',
    'current-context: gatehouse-test',
    '',
  ].join('\n');
}

async function fetchWithCA(url: string, token: string, ca: Buffer): Promise<{ status: number; body: string }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
