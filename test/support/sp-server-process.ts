// Runs sp-server/main.ts as a child process on a free loopback port, for end-to-end tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../controlplane/controlplane.ts';

export interface SpServerClient {
  client_id: string;
  redirect_uris: string[];
  client_secret_sha256?: string;
  initiate_login_uri?: string;
  idp_initiated_default?: boolean;
}

export interface SpServerProcessOptions {
  kubeconfig?: string;
  configNamespace?: string;
  configSecret?: string;
  /** Rendered config as a file instead of the Secret (no Kubernetes for the config). */
  configFile?: string;
  clients: SpServerClient[];
  /** PEM or JWK text; generated in dev mode when absent. */
  signingKey?: string;
  redisURL?: string;
  port?: number;
  /** Public URL; default http://127.0.0.1:PORT. */
  publicURL?: string;
  statusIntervalMs?: number;
  /** Without kubeconfig: ManagedUser objects for the in-memory directory. */
  users?: unknown[];
  env?: Record<string, string>;
  logLevel?: string;
  /** Pass --jit-provisioning (default true). */
  jitProvisioning?: boolean;
  scim?: boolean;
}

const root = join(import.meta.dirname, '..', '..');

export class SpServerProcess {
  readonly url: string;
  readonly port: number;
  private readonly child: ChildProcess;
  private readonly dir: string;
  private output = '';

  private constructor(child: ChildProcess, port: number, url: string, dir: string) {
    this.child = child;
    this.port = port;
    this.url = url;
    this.dir = dir;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => this.append(d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => this.append(d));
  }

  private append(d: string): void {
    this.output += d;
    if (this.output.length > 2_000_000) this.output = this.output.slice(-1_000_000);
  }

  /** Everything the process logged (pino JSON lines). */
  get logs(): string {
    return this.output;
  }

  logLines(): Array<Record<string, unknown>> {
    return this.output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return {};
        }
      });
  }

  static async start(o: SpServerProcessOptions): Promise<SpServerProcess> {
    const port = o.port ?? (await freePort());
    const url = o.publicURL ?? `http://127.0.0.1:${port}`;
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sp-'));
    const clientsPath = join(dir, 'clients.json');
    writeFileSync(clientsPath, JSON.stringify({ clients: o.clients }));
    const args = [join(root, 'sp-server', 'main.ts'), `--listen-address=127.0.0.1:${port}`, `--public-url=${url}`, `--oauth-clients-file=${clientsPath}`];
    if (o.signingKey) {
      const keyPath = join(dir, o.signingKey.trim().startsWith('{') ? 'signing.jwk' : 'signing.pem');
      writeFileSync(keyPath, o.signingKey, { mode: 0o600 });
      args.push(`--signing-key-file=${keyPath}`);
    } else args.push('--dev');
    if (o.jitProvisioning ?? true) args.push('--jit-provisioning');
    if (o.scim) args.push('--scim');
    if (o.kubeconfig) args.push(`--kubeconfig=${o.kubeconfig}`);
    else {
      args.push('--no-kube');
      if (o.users) {
        const usersPath = join(dir, 'users.json');
        writeFileSync(usersPath, JSON.stringify(o.users));
        args.push(`--users-file=${usersPath}`);
      }
    }
    if (o.configFile) args.push(`--config-file=${o.configFile}`);
    if (o.configNamespace) args.push(`--namespace=${o.configNamespace}`);
    if (o.configSecret) args.push(`--config-secret=${o.configSecret}`);
    if (o.redisURL) args.push(`--redis-url=${o.redisURL}`);
    if (o.logLevel) args.push(`--log-level=${o.logLevel}`);
    if (o.statusIntervalMs !== undefined) args.push(`--status-interval-ms=${o.statusIntervalMs}`);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
    const sp = new SpServerProcess(child, port, url, dir);
    await sp.waitReady(30_000);
    return sp;
  }

  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`sp-server exited (${this.child.exitCode}):\n${this.output.slice(-3000)}`);
      try {
        const res = await fetch(`http://127.0.0.1:${this.port}/readyz`);
        last = `${res.status} ${await res.text()}`;
        if (res.status === 200) return;
      } catch (err) {
        last = String(err);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`sp-server not ready after ${timeoutMs} ms (${last}):\n${this.output.slice(-3000)}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
