// A long-running child process for tests and the local system: spawned with its arguments and
// environment, its output kept in a bounded ring (and optionally a log file), a readiness probe
// that gives up as soon as the child dies, and a stop that escalates from SIGTERM to SIGKILL.
// Every process wrapper (control plane, operator, sp-server, IdP, Redis, DNS) is built on it, so
// a process that fails to start always says why, with its last output.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createConnection } from 'node:net';
import { GiveUp, waitFor } from './wait.ts';

/** The last `limitBytes` bytes written to it: a child's output without unbounded memory. */
export class OutputRing {
  readonly limitBytes: number;
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(limitBytes: number) {
    this.limitBytes = limitBytes;
  }

  push(data: Buffer | string): void {
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limitBytes) {
      const first = this.chunks[0] as Buffer;
      const excess = this.size - this.limitBytes;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
    }
  }

  get bytes(): number {
    return this.size;
  }

  /** The buffered output, or only its last `lastBytes` bytes. */
  text(lastBytes = this.size): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - lastBytes)).toString('utf8');
  }
}

export interface ManagedProcessOptions {
  /** How the process is called in messages. */
  name: string;
  command: string;
  args: string[];
  /** The whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Size of the output ring (stdout and stderr interleaved). Default 256 KiB. */
  outputLimitBytes?: number;
  /** Also append all output to this file (it outlives the ring, for people debugging). */
  logFile?: string;
  /** Called with each complete line of output. */
  onLine?: (line: string) => void;
  /** How long stop() waits after SIGTERM before SIGKILL. Default 5 s. */
  stopGraceMs?: number;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** How much of the output an error message carries. */
const ERROR_TAIL_BYTES = 4096;

export class ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Settles when the process has exited (or could not be spawned at all). */
  readonly exited: Promise<ExitStatus>;
  private readonly ring: OutputRing;
  private readonly log: WriteStream | undefined;
  private readonly stopGraceMs: number;
  private status: ExitStatus | undefined;
  private spawnError: Error | undefined;
  private stopRequested = false;

  private constructor(o: ManagedProcessOptions) {
    this.name = o.name;
    this.stopGraceMs = o.stopGraceMs ?? 5000;
    this.ring = new OutputRing(o.outputLimitBytes ?? 256 * 1024);
    this.log = o.logFile ? createWriteStream(o.logFile, { flags: 'a' }) : undefined;
    this.child = spawn(o.command, o.args, { cwd: o.cwd, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    const collect = (d: Buffer) => {
      this.ring.push(d);
      this.log?.write(d);
      if (!o.onLine) return;
      partial += d.toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line) o.onLine(line);
    };
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    this.exited = new Promise<ExitStatus>((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.status = { code, signal };
        if (!this.stopRequested) this.note(`${this.name} exited unexpectedly: code=${code} signal=${signal}`);
        resolve(this.status);
      });
      // ENOENT and friends: no 'exit' follows an 'error' for a process that never started.
      this.child.once('error', (err) => {
        if (this.child.pid !== undefined) return;
        this.spawnError = err;
        this.status = { code: null, signal: null };
        this.note(`${this.name} could not be started: ${err.message}`);
        resolve(this.status);
      });
    }).then((s) => {
      this.log?.end();
      return s;
    });
  }

  static spawn(o: ManagedProcessOptions): ManagedProcess {
    return new ManagedProcess(o);
  }

  private note(line: string): void {
    this.ring.push(`\n${line}\n`);
    this.log?.write(`\n${line}\n`);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.status === undefined;
  }

  get exitCode(): number | null {
    return this.status?.code ?? null;
  }

  /** The buffered output (the last `lastBytes` of it when given). */
  output(lastBytes?: number): string {
    return this.ring.text(lastBytes);
  }

  private exitedMessage(): string {
    const how = this.spawnError ? `could not be started (${this.spawnError.message})` : `exited (code ${this.status?.code ?? null}, signal ${this.status?.signal ?? null})`;
    return `${this.name} ${how}:\n${this.output(ERROR_TAIL_BYTES)}`;
  }

  /** Throws (GiveUp, with the last output) when the process is no longer running. */
  assertRunning(): void {
    if (!this.running) throw new GiveUp(this.exitedMessage());
  }

  /**
   * Polls `probe` until it returns true (or any value but false/undefined). Fails at once with the
   * buffered output when the process exits first, and with it and the probe's last error on timeout.
   */
  async waitReady(probe: () => Promise<unknown>, timeoutMs = 30_000, intervalMs = 100): Promise<void> {
    // A command that cannot be spawned reports so on the next turn of the event loop.
    await new Promise((r) => setImmediate(r));
    await waitFor(
      `${this.name} to be ready`,
      async () => {
        this.assertRunning();
        const ready = await probe();
        // Something else may be answering on the port: only a live child counts as ready.
        this.assertRunning();
        return ready === undefined || ready === false ? undefined : true;
      },
      timeoutMs,
      () => `${this.name} output:\n${this.output(ERROR_TAIL_BYTES)}`,
      intervalMs,
    );
  }

  /** SIGTERM, then SIGKILL if it is still running after the grace period. Resolves with the exit code. */
  async stop(graceMs = this.stopGraceMs): Promise<number | null> {
    this.stopRequested = true;
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exitCode;
  }

  /** SIGKILL at once: the crash a pod gets when its node dies. */
  async kill(): Promise<void> {
    this.stopRequested = true;
    if (this.running) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  /** SIGKILL without waiting, for process 'exit' hooks where nothing asynchronous runs. */
  killNow(): void {
    this.stopRequested = true;
    if (this.running) this.child.kill('SIGKILL');
  }
}

/** A readiness probe: an HTTP GET answered with 200 (and, if given, a body `accept` likes). */
export function httpProbe(url: string, accept: (body: string) => boolean = () => true): () => Promise<boolean> {
  return async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`${url}: ${res.status} ${body.slice(0, 300)}`);
    return accept(body);
  };
}

/** A readiness probe: something accepts TCP connections on the port. */
export function tcpProbe(port: number, host = '127.0.0.1'): () => Promise<boolean> {
  return () =>
    new Promise((resolve) => {
      const sock = createConnection({ host, port });
      sock.setTimeout(500, () => (sock.destroy(), resolve(false)));
      sock.on('error', () => resolve(false));
      sock.on('connect', () => (sock.destroy(), resolve(true)));
    });
}
