// Runs the admin portal (node portal/main.ts) as its own process with the chart's flags, on free
// loopback ports, for the local system and the browser tests; ready when /readyz on its metrics
// listener answers (the API server and the setup links' ConfigMap are reachable).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../controlplane/controlplane.ts';
import { httpProbe, ManagedProcess } from './managed-process.ts';

const root = join(import.meta.dirname, '..', '..');

export interface PortalProcessOptions {
  kubeconfig: string;
  /** The public port; default: a free one. */
  port?: number;
  /** Where the setup links' ConfigMap lives (it must exist: ensureSetupLinksConfigMap). */
  gatehouseNamespace: string;
  /** The sp-server's public URL: admins sign in through it (OIDC), SP and SCIM URLs point at it. */
  oidcIssuer?: string;
  oidcClientID?: string;
  oidcClientSecret?: string;
  /** The sp-server's OAuth clients file: clients with mint_setup_links may mint links. */
  oauthClientsFile?: string;
  adminRoles?: string[];
  smtpURL?: string;
  smtpFrom?: string;
  /** The sp-server's metrics listener (sign-in activity) and its internal token. */
  activityURL?: string;
  internalToken?: string;
  redisURL?: string;
  logLevel?: string;
  /** Echo each log line (make run). */
  onLine?: (line: string) => void;
  extraArgs?: string[];
}

export class PortalProcess {
  readonly url: string;
  readonly metricsURL: string;
  private readonly process: ManagedProcess;
  private readonly dir: string;

  private constructor(proc: ManagedProcess, url: string, metricsURL: string, dir: string) {
    this.process = proc;
    this.url = url;
    this.metricsURL = metricsURL;
    this.dir = dir;
  }

  /** What the process logged (pino JSON lines), its last 1 MiB. */
  get logs(): string {
    return this.process.output();
  }

  static async start(o: PortalProcessOptions): Promise<PortalProcess> {
    const [port, metricsPort] = [o.port ?? (await freePort()), await freePort()];
    const url = `http://127.0.0.1:${port}`;
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-portal-'));
    const secretFile = (name: string, value: string) => {
      const path = join(dir, name);
      writeFileSync(path, value, { mode: 0o600 });
      return path;
    };
    const args = [
      join(root, 'portal', 'main.ts'),
      `--kubeconfig=${o.kubeconfig}`,
      `--public-url=${url}`,
      `--listen-address=127.0.0.1:${port}`,
      `--metrics-address=127.0.0.1:${metricsPort}`,
      `--gatehouse-namespace=${o.gatehouseNamespace}`,
      `--log-level=${o.logLevel ?? 'info'}`,
    ];
    if (o.oidcIssuer) {
      args.push(`--oidc-issuer=${o.oidcIssuer}`, `--oidc-client-id=${o.oidcClientID ?? 'gatehouse-portal'}`, `--oidc-client-secret-file=${secretFile('oidc-client-secret', o.oidcClientSecret ?? '')}`);
      if (o.oidcIssuer.startsWith('http://')) args.push('--allow-insecure-issuer');
    }
    if (o.oauthClientsFile) args.push(`--oauth-clients-file=${o.oauthClientsFile}`);
    if (o.adminRoles) args.push(`--admin-roles=${o.adminRoles.join(',')}`);
    if (o.smtpURL) args.push(`--smtp-url=${o.smtpURL}`, `--smtp-from=${o.smtpFrom ?? 'Gatehouse <sso@gatehouse.test>'}`);
    if (o.activityURL) args.push(`--activity-url=${o.activityURL}`, `--internal-token-file=${secretFile('internal-token', o.internalToken ?? '')}`);
    if (o.redisURL) args.push(`--redis-url=${o.redisURL}`);
    if (o.extraArgs) args.push(...o.extraArgs);
    const proc = ManagedProcess.spawn({ name: 'portal', command: process.execPath, args, cwd: root, outputLimitBytes: 1024 * 1024, ...(o.onLine ? { onLine: o.onLine } : {}) });
    const portal = new PortalProcess(proc, url, `http://127.0.0.1:${metricsPort}`, dir);
    try {
      await proc.waitReady(httpProbe(`${portal.metricsURL}/readyz`), 30_000);
    } catch (err) {
      await portal.stop();
      throw err;
    }
    return portal;
  }

  async stop(): Promise<void> {
    await this.process.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
