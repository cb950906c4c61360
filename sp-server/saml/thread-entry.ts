// The worker-thread side of thread-pool.ts: lowers this thread's CPU priority, loads the task
// module named in workerData and answers every task message with what its default export returns
// (or the error it threw), and how long that took.
import { getPriority, setPriority } from 'node:os';
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';

export interface ThreadData {
  /** URL of the module whose default export runs each task. */
  module: string;
  /** Added to this thread's nice value (0: the event loop's priority). */
  niceIncrement: number;
  /** For the task module (test workers read it); the pool does not look at it. */
  data?: unknown;
}

export interface TaskMessage {
  id: number;
  task: unknown;
}

export type ThreadMessage =
  | { ready: true }
  | { id: number; ok: true; outcome: unknown; ms: number }
  | { id: number; ok: false; message: string; stack?: string; ms: number };

/**
 * On Linux the nice value belongs to the thread, and setpriority() with pid 0 sets the calling
 * thread's: the workers yield a saturated machine to the event loop without a native module.
 * Where the platform refuses, the thread keeps the event loop's priority.
 */
function lowerPriority(increment: number): void {
  try {
    setPriority(Math.min(19, getPriority() + increment));
  } catch {
    // Same priority as the event loop: slower probes under a flood, nothing less safe.
  }
}

/** Loads the task module and answers the pool's task messages on `port` until the thread ends. */
export async function serveTasks(port: MessagePort, data: ThreadData): Promise<void> {
  if (data.niceIncrement !== 0) lowerPriority(data.niceIncrement);
  const run = ((await import(data.module)) as { default: (task: unknown) => unknown }).default;
  port.on('message', async ({ id, task }: TaskMessage) => {
    const started = performance.now();
    let answer: ThreadMessage;
    try {
      answer = { id, ok: true, outcome: await run(task), ms: performance.now() - started };
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      answer = { id, ok: false, message: e.message, ...(e.stack === undefined ? {} : { stack: e.stack }), ms: performance.now() - started };
    }
    port.postMessage(answer);
  });
  port.postMessage({ ready: true } satisfies ThreadMessage);
}

const startedByPool = (data: unknown): data is ThreadData => typeof data === 'object' && data !== null && typeof (data as Partial<ThreadData>).module === 'string';

// A thread a ThreadPool started serves; imported anywhere else (the image's compile-cache fill) nothing runs.
if (!isMainThread && parentPort !== null && startedByPool(workerData)) await serveTasks(parentPort, workerData);
