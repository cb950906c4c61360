// Tasks for the tests of sp-server/saml/thread-pool.ts, run on its worker threads: answer, throw,
// end the thread with an uncaught error, or exit it.
import { threadId, workerData } from 'node:worker_threads';
import type { ThreadData } from '../../sp-server/saml/thread-entry.ts';

export type PoolTestTask = { op: 'echo'; value: unknown } | { op: 'throw'; message: string } | { op: 'crash'; message: string } | { op: 'exit'; code: number } | { op: 'data' } | { op: 'wait'; ms: number };

export default async function poolTestTask(task: PoolTestTask): Promise<unknown> {
  switch (task.op) {
    case 'echo':
      return { value: task.value, thread: threadId };
    case 'throw':
      throw new Error(task.message);
    case 'crash':
      // Uncaught, outside the task's own promise: the thread ends.
      setImmediate(() => {
        throw new Error(task.message);
      });
      return new Promise(() => {});
    case 'exit':
      process.exit(task.code);
    case 'data':
      return (workerData as ThreadData).data;
    case 'wait':
      await new Promise((resolve) => setTimeout(resolve, task.ms));
      return { thread: threadId };
  }
}
