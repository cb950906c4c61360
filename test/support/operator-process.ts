// Runs the operator as its own process (node operator/main.ts) against the test control plane,
// the way it runs in a cluster. Captures its JSON logs, waits for /readyz, stops it cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../controlplane/controlplane.ts';

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
  readonly child: ChildProcess;
  readonly healthURL: string;
  readonly metricsURL: string;
  private readonly lines: string[] = [];
  private readonly exited: Promise<void>;

  private constructor(child: ChildProcess, healthPort: number, metricsPort: number) {
    this.child = child;
    this.healthURL = `http://127.0.0.1:${healthPort}`;
    this.metricsURL = `http://127.0.0.1:${metricsPort}`;
    this.exited = new Promise((r) => child.once('exit', () => r()));
    let partial = '';
    const collect = (d: string) => {
      partial += d;
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const l of parts) if (l) this.lines.push(l);
      if (this.lines.length > 20_000) this.lines.splice(0, this.lines.length - 20_000);
      if (process.env.GATEHOUSE_OPERATOR_LOGS) for (const l of parts) process.stderr.write(`[operator ${child.pid}] ${l}\n`);
    };
    child.stdout?.setEncoding('utf8').on('data', collect);
    child.stderr?.setEncoding('utf8').on('data', collect);
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
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
    const op = new OperatorProcess(child, healthPort, metricsPort);
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
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The operator's log lines, parsed (non-JSON lines are kept as { msg }). */
  logs(): Record<string, unknown>[] {
    return this.lines.map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return { msg: l };
      }
    });
  }

  logText(last = 40): string {
    return this.lines.slice(-last).join('\n');
  }

  async waitReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`operator exited (code ${this.child.exitCode}):\n${this.logText()}`);
      try {
        const res = await fetch(`${this.healthURL}/readyz`);
        if (res.ok) return;
        last = await res.text();
      } catch (err) {
        last = String(err);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`operator not ready after ${timeoutMs} ms (${last}):\n${this.logText()}`);
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
  async stop(timeoutMs = 15_000): Promise<number | null> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.child.exitCode;
  }

  /** SIGKILL: the crash a pod gets when its node dies. */
  async kill(): Promise<void> {
    if (this.running) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}
