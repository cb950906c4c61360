import { describe, expect, it } from 'vitest';
import { OperatorMetrics } from './metrics.ts';
import { WorkQueue } from './queue.ts';

describe('WorkQueue', () => {
  it('deduplicates waiting keys and keeps FIFO order', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.depth).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('never hands a key being processed to a second worker; re-queues it when done', async () => {
    const q = new WorkQueue();
    q.add('a');
    const k = await q.get();
    q.add('a'); // arrives while processing
    expect(q.depth).toBe(0);
    let second: string | undefined;
    void q.get().then((x) => (second = x));
    await new Promise((r) => setTimeout(r, 10));
    expect(second).toBeUndefined();
    q.done(k as string);
    await new Promise((r) => setTimeout(r, 0));
    expect(second).toBe('a');
  });

  it('backs off per key exponentially and forgets on success', () => {
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 100, qps: 1000, burst: 1000 });
    expect([q.addRateLimited('k'), q.addRateLimited('k'), q.addRateLimited('k'), q.addRateLimited('k'), q.addRateLimited('k')]).toEqual([10, 20, 40, 80, 100]);
    expect(q.addRateLimited('other')).toBe(10);
    q.forget('k');
    expect(q.addRateLimited('k')).toBe(10);
    q.shutdown();
  });

  it('bounds the overall retry rate with a token bucket', () => {
    const q = new WorkQueue({ baseDelayMs: 1, qps: 10, burst: 2 });
    expect(q.addRateLimited('a')).toBe(1);
    expect(q.addRateLimited('b')).toBe(1);
    expect(q.addRateLimited('c')).toBeGreaterThanOrEqual(90);
    q.shutdown();
  });

  it('addAfter keeps the earliest pending time', async () => {
    const q = new WorkQueue();
    q.addAfter('x', 10_000);
    q.addAfter('x', 5);
    await new Promise((r) => setTimeout(r, 30));
    expect(q.depth).toBe(1);
    q.shutdown();
    expect(await q.get()).toBe('x');
  });

  it("exports client-go's workqueue metrics by queue name", async () => {
    const metrics = new OperatorMetrics();
    const q = new WorkQueue({ baseDelayMs: 1, metrics: metrics.workqueueSink('users') });
    const value = async (name: string, suffix = '') => {
      const m = (await metrics.registry.getSingleMetric(name)?.get())?.values.find((v) => v.labels.name === 'users' && (suffix === '' || (v as { metricName?: string }).metricName === name + suffix));
      return m?.value ?? 0;
    };
    q.add('a');
    q.add('b');
    q.add('a'); // already pending: not an add
    expect(await value('workqueue_adds_total')).toBe(2);
    expect(await value('workqueue_depth')).toBe(2);
    await new Promise((r) => setTimeout(r, 5));
    const k = await q.get();
    expect(await value('workqueue_depth')).toBe(1);
    expect(await value('workqueue_queue_duration_seconds', '_count')).toBe(1);
    expect(await value('workqueue_queue_duration_seconds', '_sum')).toBeGreaterThan(0.004);
    q.done(k as string);
    expect(await value('workqueue_work_duration_seconds', '_count')).toBe(1);
    q.addRateLimited('c');
    expect(await value('workqueue_retries_total')).toBe(1);
    q.shutdown();
  });
});

