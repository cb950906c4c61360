// Runs sp-server/main.ts as a child process on a free loopback port, for end-to-end tests.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../controlplane/controlplane.ts';
import type { RateLimitsInput } from '../../sp-server/limits/settings.ts';
import { TEST_RATE_LIMITS } from './limits.ts';
import { httpProbe, ManagedProcess } from './managed-process.ts';

export interface SpServerClient {
  client_id: string;
  redirect_uris: string[];
  client_secret_sha256?: string;
  initiate_login_uri?: string;
  idp_initiated_default?: boolean;
  id_token_signed_response_alg?: 'RS256' | 'ES256';
  allowed_scopes?: string[];
}

/** A fresh RSA and EC P-256 signing key (PKCS#8 PEM), as an installation holds them. */
export function testSigningKeyPems(): string[] {
  return [generateKeyPairSync('rsa', { modulusLength: 2048 }), generateKeyPairSync('ec', { namedCurve: 'P-256' })].map((k) => k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
}

export interface SpServerProcessOptions {
  kubeconfig?: string;
  configNamespace?: string;
  configSecret?: string;
  /** Rendered config as a file instead of the Secret (no Kubernetes for the config). */
  configFile?: string;
  clients: SpServerClient[];
  /** PEM or JWK texts, one per key (testSigningKeyPems); generated in dev mode when absent. */
  signingKeys?: string[];
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
  /**
   * --rate-limits. Tests and benches send everything from 127.0.0.1, one client address: the
   * default here lifts the limits (TEST_RATE_LIMITS); pass {} for the production defaults.
   */
  rateLimits?: RateLimitsInput;
  /** The metrics listener's port; default: a free one. */
  metricsPort?: number;
  /** --trusted-proxies (default: none). */
  trustedProxies?: string;
  /**
   * --allow-private-idp-addresses (default true): test and local OpenID Providers listen on
   * loopback, which the sp-server refuses otherwise.
   */
  allowPrivateIdPAddresses?: boolean;
  /** --internal-token-file: the bearer token of the internal activity endpoint (the portal's). */
  internalToken?: string;
  /** Further command-line flags, appended as given. */
  extraArgs?: string[];
}


const root = join(import.meta.dirname, '..', '..');

export class SpServerProcess {
  readonly url: string;
  readonly port: number;
  /** Where /metrics is served (not on the public port). */
  readonly metricsURL: string;
  private readonly process: ManagedProcess;
  private readonly dir: string;

  private constructor(proc: ManagedProcess, port: number, url: string, metricsPort: number, dir: string) {
    this.process = proc;
    this.port = port;
    this.url = url;
    this.metricsURL = `http://127.0.0.1:${metricsPort}/metrics`;
    this.dir = dir;
  }

  /** The process id (benchmarks read its CPU time from /proc). */
  get pid(): number | undefined {
    return this.process.pid;
  }

  /** The Prometheus exposition from the metrics listener. */
  async metrics(): Promise<string> {
    return (await fetch(this.metricsURL)).text();
  }

  /** What the process logged (pino JSON lines), its last 2 MiB. */
  get logs(): string {
    return this.process.output();
  }

  logLines(): Array<Record<string, unknown>> {
    return this.logs
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
    const metricsPort = o.metricsPort ?? (await freePort());
    const url = o.publicURL ?? `http://127.0.0.1:${port}`;
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sp-'));
    const clientsPath = join(dir, 'clients.json');
    writeFileSync(clientsPath, JSON.stringify({ clients: o.clients }));
    const args = [
      join(root, 'sp-server', 'main.ts'),
      `--listen-address=127.0.0.1:${port}`,
      `--metrics-address=127.0.0.1:${metricsPort}`,
      `--public-url=${url}`,
      `--oauth-clients-file=${clientsPath}`,
      `--rate-limits=${JSON.stringify(o.rateLimits ?? TEST_RATE_LIMITS)}`,
    ];
    if (o.trustedProxies) args.push(`--trusted-proxies=${o.trustedProxies}`);
    if (o.signingKeys?.length) {
      o.signingKeys.forEach((key, i) => {
        const keyPath = join(dir, key.trim().startsWith('{') ? `signing-${i}.jwk` : `signing-${i}.pem`);
        writeFileSync(keyPath, key, { mode: 0o600 });
        args.push(`--signing-key-file=${keyPath}`);
      });
    } else args.push('--dev');
    if (o.jitProvisioning ?? true) args.push('--jit-provisioning');
    if (o.scim) args.push('--scim');
    if (o.allowPrivateIdPAddresses ?? true) args.push('--allow-private-idp-addresses');
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
    if (o.internalToken) {
      const tokenPath = join(dir, 'internal-token');
      writeFileSync(tokenPath, o.internalToken, { mode: 0o600 });
      args.push(`--internal-token-file=${tokenPath}`);
    }
    if (o.extraArgs) args.push(...o.extraArgs);
    const proc = ManagedProcess.spawn({ name: 'sp-server', command: process.execPath, args, env: { ...process.env, ...o.env }, outputLimitBytes: 2 * 1024 * 1024 });
    const sp = new SpServerProcess(proc, port, url, metricsPort, dir);
    try {
      await sp.waitReady(30_000);
    } catch (err) {
      await sp.stop();
      throw err;
    }
    return sp;
  }

  async waitReady(timeoutMs: number): Promise<void> {
    await this.process.waitReady(httpProbe(`http://127.0.0.1:${this.port}/readyz`), timeoutMs);
  }

  async stop(): Promise<void> {
    await this.process.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
