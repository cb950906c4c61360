// The operator's two work queues behind one typed Enqueuer: ManagedUsers (thousands of keys
// during an enforcement) and everything else, each with its own workers, so profile progress,
// domains and the config never wait behind users.
import type { Enqueuer } from './context.ts';
import type { QueueName } from './controllers/controller.ts';
import type { OperatorMetrics } from './metrics.ts';
import { encodeKey, type QueueKey } from './queue-key.ts';
import { WorkQueue } from './queue.ts';

export class Queues implements Enqueuer {
  readonly byName: Readonly<Record<QueueName, WorkQueue>>;
  private readonly queueOf: (key: QueueKey) => QueueName;

  constructor(metrics: OperatorMetrics, queueOf: (key: QueueKey) => QueueName) {
    this.queueOf = queueOf;
    const report = () => metrics.queueDepth.set(this.byName.users.depth + this.byName.control.depth);
    this.byName = {
      users: new WorkQueue({ onDepthChange: report, metrics: metrics.workqueueSink('users') }),
      control: new WorkQueue({ onDepthChange: report, metrics: metrics.workqueueSink('control') }),
    };
  }

  add(key: QueueKey): void {
    this.byName[this.queueOf(key)].add(encodeKey(key));
  }

  addAfter(key: QueueKey, delayMs: number): void {
    this.byName[this.queueOf(key)].addAfter(encodeKey(key), delayMs);
  }

  shutdown(): void {
    for (const q of Object.values(this.byName)) q.shutdown();
  }
}
