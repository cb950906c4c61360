// Runs the operator as its own process (node operator/main.ts) against the test control plane,
// the way it runs in a cluster. Captures its JSON logs, waits for /readyz, stops it cleanly.
import { join } from 'node:path';
import { freePort } from '../controlplane/controlplane.ts';
import { httpProbe, ManagedProcess } from './managed-process.ts';

const root = join(import.meta.dirname, '..', '..');

export interface OperatorProcessOptions {
  kubeconfig: string;
  /** Gatehouse's own namespace (rendered config Secret, Lease). Must exist. */
  namespace: string;
  /** Organizations' namespaces to watch; all when empty. Tests sharing a control plane set it. */
  watchNamespaces?: string[];
  spPublicUrl?: string;
  dnsServers?: string[];
  /** Extra flags, e.g. ['--leader-elect', '--lease-duration=3s']. */
  args?: string[];
  env?: Record<string, string>;
  /** Wait for /readyz before resolving (default true). */
  waitReady?: boolean;
}

export class OperatorProcess {
  readonly process: ManagedProcess;
  readonly healthURL: string;
  readonly metricsURL: string;

  private constructor(proc: ManagedProcess, healthPort: number, metricsPort: number) {
    this.process = proc;
    this.healthURL = `http://127.0.0.1:${healthPort}`;
    this.metricsURL = `http://127.0.0.1:${metricsPort}`;
  }

  static async start(o: OperatorProcessOptions): Promise<OperatorProcess> {
    const [healthPort, metricsPort] = [await freePort(), await freePort()];
    const args = [
      join(root, 'operator', 'main.ts'),
      `--kubeconfig=${o.kubeconfig}`,
      `--namespace=${o.namespace}`,
      `--sp-public-url=${o.spPublicUrl ?? 'https://sso.test.example'}`,
      `--health-address=127.0.0.1:${healthPort}`,
      `--metrics-address=127.0.0.1:${metricsPort}`,
      ...(o.watchNamespaces?.length ? [`--watch-namespaces=${o.watchNamespaces.join(',')}`] : []),
      ...(o.dnsServers?.length ? [`--dns-servers=${o.dnsServers.join(',')}`] : []),
      ...(o.args ?? []),
    ];
    const echo = process.env.GATEHOUSE_OPERATOR_LOGS;
    const proc = ManagedProcess.spawn({
      name: 'operator',
      command: process.execPath,
      args,
      cwd: root,
      env: { ...process.env, ...o.env },
      // Tests read the operator's logs back (which events it logged), so keep plenty.
      outputLimitBytes: 16 * 1024 * 1024,
      stopGraceMs: 15_000,
      ...(echo ? { onLine: (l: string) => void process.stderr.write(`[operator ${proc.pid}] ${l}\n`) } : {}),
    });
    const op = new OperatorProcess(proc, healthPort, metricsPort);
    if (o.waitReady !== false) {
      try {
        await op.waitReady();
      } catch (err) {
        await op.kill();
        throw err;
      }
    }
    return op;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get running(): boolean {
    return this.process.running;
  }

  /** The operator's log lines, parsed (non-JSON lines are kept as { msg }). */
  logs(): Record<string, unknown>[] {
    return this.process.output().split('\n').filter(Boolean).map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return { msg: l };
      }
    });
  }

  logText(last = 40): string {
    return this.process.output().trimEnd().split('\n').slice(-last).join('\n');
  }

  async waitReady(timeoutMs = 30_000): Promise<void> {
    await this.process.waitReady(httpProbe(`${this.healthURL}/readyz`), timeoutMs);
  }

  async metrics(): Promise<string> {
    const res = await fetch(`${this.metricsURL}/metrics`);
    return res.text();
  }

  /** Sum of a metric's samples whose labels contain all of `labels`. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    let sum = 0;
    for (const line of (await this.metrics()).split('\n')) {
      if (!line.startsWith(name)) continue;
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? ([^ ]+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const labelText = m[3] ?? '';
      if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) sum += Number(m[4]);
    }
    return sum;
  }

  /** SIGTERM and wait for a clean exit (SIGKILL after the timeout). */
  async stop(timeoutMs?: number): Promise<number | null> {
    return this.process.stop(timeoutMs);
  }

  /** SIGKILL: the crash a pod gets when its node dies. */
  async kill(): Promise<void> {
    await this.process.kill();
  }
}
