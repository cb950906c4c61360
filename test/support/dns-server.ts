// A real DNS server for tests: dnsmasq on a loopback port answering the TXT records the test
// sets (NXDOMAIN for anything else). dnsmasq re-reads hosts files on SIGHUP but not txt-record
// lines, so changing a record restarts it on the same port with the new configuration.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resolver } from 'node:dns/promises';
import { freePort } from '../controlplane/controlplane.ts';

export class DnsServer {
  readonly port: number;
  private readonly dir: string;
  private child: ChildProcess | undefined;
  private records = new Map<string, string[]>();

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(): Promise<DnsServer> {
    const dns = new DnsServer(await freePort(), mkdtempSync(join(tmpdir(), 'gatehouse-dns-')));
    await dns.restart();
    return dns;
  }

  /** Replaces the TXT records of `name` (empty: none) and waits until dnsmasq serves them. */
  async setTxt(name: string, values: string[]): Promise<void> {
    if (values.length === 0) this.records.delete(name);
    else this.records.set(name, values);
    await this.restart();
    await this.waitFor(name, values);
  }

  private async restart(): Promise<void> {
    await this.stopProcess();
    const conf = [...this.records].flatMap(([name, values]) => values.map((v) => `txt-record=${name},"${v.replace(/"/g, '')}"`));
    writeFileSync(join(this.dir, 'dnsmasq.conf'), conf.join('\n') + '\n');
    this.child = spawn('dnsmasq', [
      '--no-daemon',
      '--keep-in-foreground',
      `--port=${this.port}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      '--no-resolv',
      '--no-hosts',
      '--no-poll',
      // Authoritative-like: names without a record are NXDOMAIN, not REFUSED.
      '--local=/#/',
      `--conf-file=${join(this.dir, 'dnsmasq.conf')}`,
      `--pid-file=${join(this.dir, 'pid')}`,
      '--user=' + (process.getuid?.() === 0 ? 'root' : ''),
      '--log-facility=-',
    ].filter((a) => a !== '--user='), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const deadline = Date.now() + 5000;
    const r = new Resolver({ timeout: 200, tries: 1 });
    r.setServers([this.address]);
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`dnsmasq exited: ${stderr}`);
      try {
        await r.resolveTxt('ready.probe.invalid');
        return;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'ENOTFOUND' || code === 'ENODATA' || code === 'EREFUSED' || code === 'ESERVFAIL') return;
      }
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`dnsmasq did not answer on ${this.address}: ${stderr}`);
  }

  private async waitFor(name: string, values: string[]): Promise<void> {
    const r = new Resolver({ timeout: 300, tries: 1 });
    r.setServers([this.address]);
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const got = await r.resolveTxt(name).then((rs) => rs.map((c) => c.join('')), () => [] as string[]);
      if (values.every((v) => got.includes(v)) && got.length === values.length) return;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`dnsmasq does not serve ${name} TXT ${JSON.stringify(values)}`);
  }

  private async stopProcess(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  }

  async stop(): Promise<void> {
    await this.stopProcess();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
