// A fixed set of worker threads running one module's tasks, each thread holding at most a few
// tasks at a time, the rest waiting in a queue shared fairly by tenants (fair-queue.ts).
//
// Written for the validation pool instead of taken from a pool library: what the ACS needs is
// small (fixed threads, one task module, a tenant-fair queue, restart of a crashed thread), and
// the hand-off is the pool's whole cost. Each task is one structured-cloned message each way on
// the thread's own port and one Promise; an idle thread waits in its event loop. Against piscina
// 5.3.2 doing the same job (its queue interface, task records, timing histograms, Atomics
// signalling), in one bench:acs-workers run with both pools taking turns: 2 workers validated
// 9,241 against 7,284 responses/s, at 200 against 247 µs of the process's CPU each.
import { Worker } from 'node:worker_threads';
import { TenantFairQueue } from './fair-queue.ts';
import type { TaskMessage, ThreadData, ThreadMessage } from './thread-entry.ts';

export interface ThreadPoolOptions {
  /** URL of the module whose default export runs a task (in the worker thread). */
  module: string;
  threads: number;
  /** Tasks one thread holds at a time; the rest wait in the fair queue. */
  tasksPerThread: number;
  /** Tasks that may wait in the queue; past it run() throws QueueFullError. */
  maxQueue: number;
  /** Added to the threads' nice value. */
  niceIncrement: number;
  /** Handed to the task module as workerData.data. */
  data?: unknown;
}

/** The queue holds maxQueue tasks already. */
export class QueueFullError extends Error {
  readonly queued: number;
  constructor(queued: number) {
    super(`${queued} tasks are already waiting for a worker thread`);
    this.name = 'QueueFullError';
    this.queued = queued;
  }
}

interface Pending {
  task: unknown;
  resolve(outcome: unknown): void;
  reject(err: Error): void;
}

interface Thread {
  worker: Worker;
  /** worker.threadId, kept: the worker reports -1 once it has stopped. */
  id: number;
  /** The thread loaded the task module (a thread that exits before that is not replaced). */
  ready: boolean;
  inFlight: Map<number, Pending>;
  /** The uncaught error that ended the thread, reported before its 'exit'. */
  exitError?: Error;
}

const ENTRY = new URL('./thread-entry.ts', import.meta.url);

export class ThreadPool<Task, Outcome> {
  private readonly live = new Set<Thread>();
  private ids: readonly number[] = [];
  private readonly queue = new TenantFairQueue<Pending>();
  private nextId = 0;
  private closing = false;
  /** Why the last thread went, once none is left to run tasks. */
  private broken: Error | undefined;
  private busyMs = 0;
  private readonly started = performance.now();

  private readonly options: ThreadPoolOptions;

  constructor(options: ThreadPoolOptions) {
    this.options = options;
    for (let i = 0; i < options.threads; i++) this.spawn();
  }

  /** Runs the task on a thread, or queues it under the tenant; throws QueueFullError past maxQueue. */
  run(task: Task, tenant: string): Promise<Outcome> {
    if (this.closing) return Promise.reject(new Error('the thread pool is closed'));
    if (this.broken) return Promise.reject(this.broken);
    const thread = this.queue.size === 0 ? this.leastBusy() : undefined;
    if (thread === undefined && this.queue.size >= this.options.maxQueue) throw new QueueFullError(this.queue.size);
    return new Promise<Outcome>((resolve, reject) => {
      const pending: Pending = { task, resolve: resolve as (outcome: unknown) => void, reject };
      if (thread) this.send(thread, pending);
      else this.queue.push(tenant, pending);
    });
  }

  get queueSize(): number {
    return this.queue.size;
  }

  waitingFor(tenant: string): number {
    return this.queue.waitingFor(tenant);
  }

  /** The live threads' IDs (a new array only when a thread starts or ends: every task asks). */
  get threadIds(): readonly number[] {
    return this.ids;
  }

  /** Share of the threads' time spent running tasks since the pool started (0–1). */
  get utilization(): number {
    const capacity = (performance.now() - this.started) * this.options.threads;
    return capacity > 0 ? Math.min(1, this.busyMs / capacity) : 0;
  }

  async close(): Promise<void> {
    this.closing = true;
    const closed = new Error('the thread pool is closed');
    for (const p of this.queue.drain()) p.reject(closed);
    await Promise.all([...this.live].map((t) => t.worker.terminate()));
  }

  private leastBusy(): Thread | undefined {
    let best: Thread | undefined;
    for (const t of this.live) if (t.inFlight.size < this.options.tasksPerThread && (best === undefined || t.inFlight.size < best.inFlight.size)) best = t;
    return best;
  }

  private send(thread: Thread, pending: Pending): void {
    const id = this.nextId++;
    thread.inFlight.set(id, pending);
    // A thread with work keeps the process alive; an idle one does not.
    if (thread.inFlight.size === 1) thread.worker.ref();
    thread.worker.postMessage({ id, task: pending.task } satisfies TaskMessage);
  }

  private spawn(): void {
    const workerData: ThreadData = { module: this.options.module, niceIncrement: this.options.niceIncrement, data: this.options.data };
    const worker = new Worker(ENTRY, { workerData });
    const thread: Thread = { worker, id: worker.threadId, ready: false, inFlight: new Map() };
    thread.worker.on('message', (m: ThreadMessage) => this.answer(thread, m));
    // An uncaught error ends the thread; 'exit' follows and settles its tasks.
    thread.worker.on('error', (err) => (thread.exitError = err));
    thread.worker.on('exit', (code) => this.exited(thread, code));
    // After the listeners: adding one refs the thread's port again.
    thread.worker.unref();
    this.live.add(thread);
    this.ids = [...this.ids, thread.id];
  }

  private answer(thread: Thread, m: ThreadMessage): void {
    if ('ready' in m) {
      thread.ready = true;
      return;
    }
    const pending = thread.inFlight.get(m.id);
    if (pending === undefined) return;
    thread.inFlight.delete(m.id);
    this.busyMs += m.ms;
    if (m.ok) pending.resolve(m.outcome);
    else pending.reject(Object.assign(new Error(m.message), m.stack === undefined ? {} : { stack: m.stack }));
    const next = this.queue.shift();
    if (next) this.send(thread, next);
    else if (thread.inFlight.size === 0) thread.worker.unref();
  }

  private exited(thread: Thread, code: number): void {
    this.live.delete(thread);
    this.ids = this.ids.filter((id) => id !== thread.id);
    if (this.closing) {
      const closed = new Error('the thread pool is closed');
      for (const p of thread.inFlight.values()) p.reject(closed);
      return;
    }
    const err = thread.exitError ?? new Error(`a worker thread exited with code ${code}`);
    for (const p of thread.inFlight.values()) p.reject(err);
    // A thread that never loaded its module would fail the same way again: no endless restarts.
    if (thread.ready) this.spawn();
    if (this.live.size > 0) {
      for (let t = this.leastBusy(); t !== undefined && this.queue.size > 0; t = this.leastBusy()) this.send(t, this.queue.shift() as Pending);
      return;
    }
    this.broken = err;
    for (const p of this.queue.drain()) p.reject(err);
  }
}
