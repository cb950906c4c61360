// Debian's redis-server on a free loopback port, without persistence, for tests.
import { createConnection } from 'node:net';
import { freePort } from '../controlplane/controlplane.ts';
import { ManagedProcess } from './managed-process.ts';

export class RedisServer {
  readonly port: number;
  readonly url: string;
  private readonly process: ManagedProcess;

  private constructor(port: number, proc: ManagedProcess) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.process = proc;
  }

  static async start(): Promise<RedisServer> {
    const port = await freePort();
    const proc = ManagedProcess.spawn({
      name: 'redis-server',
      command: process.env.REDIS_SERVER ?? 'redis-server',
      args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
      outputLimitBytes: 20_000,
    });
    const r = new RedisServer(port, proc);
    try {
      await proc.waitReady(() => r.ping(), 10_000, 50);
    } catch (err) {
      await r.stop();
      throw err;
    }
    return r;
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
    await this.process.stop();
  }
}
