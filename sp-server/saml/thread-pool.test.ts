// The thread pool under the validation pool: tasks spread over the threads, a bounded queue served
// round-robin by tenant, a thread that crashes fails only its own tasks and is replaced, a module
// that cannot load fails every task instead of restarting threads forever, and idle threads do not
// keep the process alive.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { PoolTestTask } from '../../test/support/thread-pool-tasks.ts';
import { QueueFullError, ThreadPool, type ThreadPoolOptions } from './thread-pool.ts';

const TASKS = new URL('../../test/support/thread-pool-tasks.ts', import.meta.url).href;
const BROKEN = new URL('../../test/support/thread-pool-broken.ts', import.meta.url).href;
// Threads start and load their module first; a loaded machine makes that slow, not wrong.
const SLOW = { timeout: 30_000 };

async function withPool<T>(options: Partial<ThreadPoolOptions>, use: (pool: ThreadPool<PoolTestTask, unknown>) => Promise<T>): Promise<T> {
  const pool = new ThreadPool<PoolTestTask, unknown>({ module: TASKS, threads: 2, tasksPerThread: 2, maxQueue: 16, niceIncrement: 0, ...options });
  try {
    return await use(pool);
  } finally {
    await pool.close();
  }
}

const failure = (run: Promise<unknown>): Promise<unknown> => run.then(
  (value) => ({ resolved: value }),
  (err: unknown) => err,
);

describe('ThreadPool', SLOW, () => {
  it('runs tasks on every thread, holds tasksPerThread per thread and queues the rest', () =>
    withPool({}, async (pool) => {
      const runs = Array.from({ length: 8 }, () => pool.run({ op: 'wait', ms: 100 }, 'a') as Promise<{ thread: number }>);
      expect(pool.queueSize).toBe(4);
      const threads = new Set((await Promise.all(runs)).map((r) => r.thread));
      expect([...threads].sort()).toEqual([...pool.threadIds].sort());
      expect(threads.size).toBe(2);
      expect(pool.queueSize).toBe(0);
      expect(pool.utilization).toBeGreaterThan(0);
    }));

  it('hands the task module its data, and a task that throws rejects with its message while the thread serves on', () =>
    withPool({ threads: 1, data: { gate: 7 } }, async (pool) => {
      expect(await pool.run({ op: 'data' }, 'a')).toEqual({ gate: 7 });
      const err = await failure(pool.run({ op: 'throw', message: 'no such profile' }, 'a'));
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toBe('no such profile');
      const before = pool.threadIds;
      expect(await pool.run({ op: 'echo', value: [1, new Date(0)] }, 'a')).toEqual({ value: [1, new Date(0)], thread: before[0] });
    }));

  it('refuses past maxQueue at once with QueueFullError', () =>
    withPool({ threads: 1, tasksPerThread: 1, maxQueue: 1 }, async (pool) => {
      const held = pool.run({ op: 'wait', ms: 200 }, 'a');
      const queued = pool.run({ op: 'echo', value: 1 }, 'b');
      expect(() => pool.run({ op: 'echo', value: 2 }, 'c')).toThrow(QueueFullError);
      await expect(held).resolves.toBeDefined();
      await expect(queued).resolves.toMatchObject({ value: 1 });
    }));

  it('serves waiting tasks round-robin by tenant', () =>
    withPool({ threads: 1, tasksPerThread: 1 }, async (pool) => {
      const order: string[] = [];
      const run = (tenant: string, label: string) => pool.run({ op: 'wait', ms: label === 'held' ? 200 : 1 }, tenant).then(() => order.push(label));
      const all = [run('a', 'held'), run('a', 'a1'), run('a', 'a2'), run('a', 'a3'), run('b', 'b1')];
      await Promise.all(all);
      expect(order).toEqual(['held', 'a1', 'b1', 'a2', 'a3']);
    }));

  it('fails only the tasks of a thread that crashed, replaces the thread and serves on', () =>
    withPool({ threads: 2, tasksPerThread: 1 }, async (pool) => {
      const first = pool.threadIds;
      const crashed = failure(pool.run({ op: 'crash', message: 'parser blew up' }, 'a'));
      const other = pool.run({ op: 'wait', ms: 300 }, 'b');
      expect((await crashed) as Error).toMatchObject({ message: 'parser blew up' });
      await expect(other).resolves.toBeDefined();
      const exited = await failure(pool.run({ op: 'exit', code: 3 }, 'a'));
      expect((exited as Error).message).toBe('a worker thread exited with code 3');
      const answers = await Promise.all(Array.from({ length: 4 }, (_, i) => pool.run({ op: 'echo', value: i }, 'a')));
      expect(answers.map((a) => (a as { value: number }).value)).toEqual([0, 1, 2, 3]);
      expect(pool.threadIds).toHaveLength(2);
      expect(pool.threadIds.filter((t) => first.includes(t)).length).toBeLessThan(2);
    }));

  it('fails every task when the task module does not load, without restarting threads', async () => {
    const pool = new ThreadPool<PoolTestTask, unknown>({ module: BROKEN, threads: 2, tasksPerThread: 1, maxQueue: 16, niceIncrement: 0 });
    try {
      const runs = Array.from({ length: 4 }, () => failure(pool.run({ op: 'echo', value: 1 }, 'a')));
      for (const err of await Promise.all(runs)) expect((err as Error).message).toContain('this task module does not load');
      expect(pool.threadIds).toEqual([]);
      expect(((await failure(pool.run({ op: 'echo', value: 1 }, 'a'))) as Error).message).toContain('this task module does not load');
    } finally {
      await pool.close();
    }
  });

  it('rejects the waiting tasks when closed', async () => {
    const pool = new ThreadPool<PoolTestTask, unknown>({ module: TASKS, threads: 1, tasksPerThread: 1, maxQueue: 16, niceIncrement: 0 });
    const held = failure(pool.run({ op: 'wait', ms: 5_000 }, 'a'));
    const waiting = failure(pool.run({ op: 'echo', value: 1 }, 'a'));
    await pool.close();
    expect(((await waiting) as Error).message).toBe('the thread pool is closed');
    expect(((await held) as Error).message).toBe('the thread pool is closed');
    expect(((await failure(pool.run({ op: 'echo', value: 1 }, 'a'))) as Error).message).toBe('the thread pool is closed');
  });

  it('lets the process exit once its threads are idle, without close()', async () => {
    const script = `import { ThreadPool } from ${JSON.stringify(new URL('./thread-pool.ts', import.meta.url).href)};
const pool = new ThreadPool({ module: ${JSON.stringify(TASKS)}, threads: 2, tasksPerThread: 2, maxQueue: 4, niceIncrement: 0 });
console.log(JSON.stringify(await pool.run({ op: 'wait', ms: 200 }, 'a') !== undefined));`;
    const dir = mkdtempSync(join(tmpdir(), 'thread-pool-'));
    const file = join(dir, 'idle.mjs');
    writeFileSync(file, script);
    const { stdout } = await promisify(execFile)(process.execPath, [file], { timeout: 20_000 }).finally(() => rmSync(dir, { recursive: true }));
    // The answer arrived although the pending task alone kept the process alive, and the process ended on its own.
    expect(stdout.trim()).toBe('true');
  });
});
