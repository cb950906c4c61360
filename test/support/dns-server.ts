// A real DNS server for tests: dnsmasq on a loopback port answering the TXT records the test
// sets (NXDOMAIN for anything else). dnsmasq re-reads hosts files on SIGHUP but not txt-record
// lines, so changing a record restarts it on the same port with the new configuration.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resolver } from 'node:dns/promises';
import { freePort } from '../controlplane/controlplane.ts';
import { ManagedProcess } from './managed-process.ts';
import { waitFor } from './wait.ts';

/** What a resolver gets from a DNS server that is up but has no record: it answers, so it is ready. */
const ANSWERED = new Set(['ENOTFOUND', 'ENODATA', 'EREFUSED', 'ESERVFAIL']);

export class DnsServer {
  readonly port: number;
  private readonly dir: string;
  private dnsmasq: ManagedProcess | undefined;
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
    await this.waitUntilServed(name, values);
  }

  private async restart(): Promise<void> {
    await this.dnsmasq?.stop();
    const conf = [...this.records].flatMap(([name, values]) => values.map((v) => `txt-record=${name},"${v.replace(/"/g, '')}"`));
    writeFileSync(join(this.dir, 'dnsmasq.conf'), conf.join('\n') + '\n');
    this.dnsmasq = ManagedProcess.spawn({
      name: 'dnsmasq',
      command: 'dnsmasq',
      args: [
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
      ].filter((a) => a !== '--user='),
      outputLimitBytes: 64 * 1024,
    });
    const r = new Resolver({ timeout: 200, tries: 1 });
    r.setServers([this.address]);
    await this.dnsmasq.waitReady(
      () => r.resolveTxt('ready.probe.invalid').then(() => true, (err: { code?: string }) => ANSWERED.has(err.code ?? '')),
      5000,
      50,
    );
  }

  private async waitUntilServed(name: string, values: string[]): Promise<void> {
    const r = new Resolver({ timeout: 300, tries: 1 });
    r.setServers([this.address]);
    await waitFor(`dnsmasq to serve ${name} TXT ${JSON.stringify(values)}`, async () => {
      const got = await r.resolveTxt(name).then((rs) => rs.map((c) => c.join('')), () => [] as string[]);
      return values.every((v) => got.includes(v)) && got.length === values.length;
    }, 5000, undefined, 50);
  }

  /** Stops answering (SIGSTOP) until resume(): lookups hang until the resolver's timeout. */
  pause(): void {
    if (this.dnsmasq?.pid) process.kill(this.dnsmasq.pid, 'SIGSTOP');
  }

  resume(): void {
    if (this.dnsmasq?.pid) process.kill(this.dnsmasq.pid, 'SIGCONT');
  }

  async stop(): Promise<void> {
    this.resume();
    await this.dnsmasq?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
