// The managed child process every test wrapper is built on: bounded output, readiness that
// fails fast with the child's last words, and a stop that does not hang on a stubborn child.
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ManagedProcess, OutputRing, tcpProbe } from '../support/managed-process.ts';

const node = (name: string, script: string, extra: Partial<Parameters<typeof ManagedProcess.spawn>[0]> = {}) =>
  ManagedProcess.spawn({ name, command: process.execPath, args: ['-e', script], ...extra });

describe('OutputRing', { timeout: 20_000 }, () => {
  it('keeps only the last limitBytes bytes, across and within chunks', () => {
    const ring = new OutputRing(10);
    ring.push('abcdefgh');
    expect(ring.text()).toBe('abcdefgh');
    ring.push('ijklmnop');
    expect(ring.text()).toBe('ghijklmnop');
    expect(ring.bytes).toBe(10);
    ring.push('0123456789ABCDEFGHIJ');
    expect(ring.text()).toBe('ABCDEFGHIJ');
    expect(ring.bytes).toBe(10);
    expect(ring.text(3)).toBe('HIJ');
  });

  it('bounds a chatty child\'s output', async () => {
    const p = node('chatty', "console.log('FIRST-LINE'); for (let i = 0; i < 2000; i++) process.stdout.write('x'.repeat(99) + '\\n'); console.log('LAST-LINE');", { outputLimitBytes: 1024 });
    await p.exited;
    expect(Buffer.byteLength(p.output())).toBeLessThanOrEqual(1024);
    expect(p.output()).toContain('LAST-LINE');
    expect(p.output()).not.toContain('FIRST-LINE');
  });
});

describe('ManagedProcess', { timeout: 20_000 }, () => {
  it('fails waitReady at once when the child exits early, with its output in the error', async () => {
    const p = node('doomed', "console.error('missing --important-flag'); process.exit(3)");
    const started = Date.now();
    const err = await p.waitReady(async () => false, 60_000).then(() => undefined, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(err?.message).toContain('doomed exited (code 3');
    expect(err?.message).toContain('missing --important-flag');
    // Long before the 60 s timeout, however slow the machine is to start node.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('reports a command that cannot be spawned', async () => {
    const p = ManagedProcess.spawn({ name: 'ghost', command: '/nonexistent/gatehouse-ghost', args: [] });
    await expect(p.waitReady(async () => true, 5000)).rejects.toThrow(/ghost could not be started.*ENOENT/);
  });

  it('times out with the probe\'s last error and the output', async () => {
    const p = node('slow', "console.log('still warming up'); setInterval(() => {}, 1000)");
    try {
      await p.waitReady(async () => p.output().includes('warming'), 10_000, 20);
      await expect(p.waitReady(async () => { throw new Error('connection refused'); }, 600, 50)).rejects.toThrow(/timed out.*slow to be ready.*connection refused[\s\S]*still warming up/);
    } finally {
      await p.stop();
    }
  });

  it('resolves waitReady once the probe passes (TCP probe)', async () => {
    const server: Server = createServer();
    const port = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as { port: number }).port)));
    const p = node('listener', 'setInterval(() => {}, 1000)');
    try {
      await p.waitReady(tcpProbe(port), 5000);
      expect(p.running).toBe(true);
    } finally {
      await p.stop();
      server.close();
    }
  });

  it('stops a child that ignores SIGTERM with SIGKILL after the grace period', async () => {
    const p = node('stubborn', "process.on('SIGTERM', () => console.log('ignoring SIGTERM')); console.log('up'); setInterval(() => {}, 1000)");
    await p.waitReady(async () => p.output().includes('up'), 10_000, 20);
    const started = Date.now();
    await p.stop(400);
    const status = await p.exited;
    expect(status.signal).toBe('SIGKILL');
    expect(p.output()).toContain('ignoring SIGTERM');
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(p.running).toBe(false);
  });

  it('stops a well-behaved child with SIGTERM alone', async () => {
    const p = node('polite', "process.on('SIGTERM', () => process.exit(0)); console.log('up'); setInterval(() => {}, 1000)");
    await p.waitReady(async () => p.output().includes('up'), 10_000, 20);
    expect(await p.stop(10_000)).toBe(0);
    expect(p.output()).not.toContain('exited unexpectedly');
  });

  it('hands each complete line to onLine', async () => {
    const lines: string[] = [];
    const p = node('liner', "process.stdout.write('one\\ntw'); setTimeout(() => process.stdout.write('o\\nthree\\n'), 50)", { onLine: (l) => lines.push(l) });
    await p.exited;
    expect(lines).toEqual(['one', 'two', 'three']);
  });
});
