// Debian's redis-server on a free loopback port, without persistence, for tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { freePort } from '../controlplane/controlplane.ts';

export class RedisServer {
  readonly port: number;
  readonly url: string;
  private readonly child: ChildProcess;
  private output = '';

  private constructor(port: number, child: ChildProcess) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.child = child;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (this.output = (this.output + d).slice(-20_000)));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.output = (this.output + d).slice(-20_000)));
  }

  static async start(): Promise<RedisServer> {
    const port = await freePort();
    const child = spawn(process.env.REDIS_SERVER ?? 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const r = new RedisServer(port, child);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`redis-server exited: ${r.output}`);
      if (await r.ping()) return r;
      await new Promise((res) => setTimeout(res, 50));
    }
    await r.stop();
    throw new Error(`redis-server not ready: ${r.output}`);
  }

  ping(): Promise<boolean> {
    return new Promise((resolve) => {
      const sock = createConnection({ host: '127.0.0.1', port: this.port });
      sock.setTimeout(500, () => (sock.destroy(), resolve(false)));
      sock.on('error', () => resolve(false));
      sock.on('connect', () => sock.write('PING\r\n'));
      sock.on('data', (d) => {
        sock.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}
