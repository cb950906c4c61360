// The contract between the manager (operator.ts) and a controller: which queue runs it, which
// cache events map to which keys, what to queue once the caches synced, and the reconcile.
import type { Context, Enqueuer, ReconcileResult } from '../context.ts';
import type { KeyOf, QueueKey, QueueKind } from '../queue-key.ts';

/** ManagedUsers have their own queue and workers so thousands of them never delay the rest. */
export type QueueName = 'users' | 'control';

export interface Controller<K extends QueueKind = QueueKind> {
  kind: K;
  queue: QueueName;
  /** Subscribes to the caches: each event queues the keys whose reconcile it may change. */
  watch(ctx: Context, queue: Enqueuer): void;
  /** Keys to reconcile once the caches synced: objects cached before this replica led are not re-delivered. */
  initialKeys(ctx: Context): Iterable<KeyOf<K>>;
  reconcile(ctx: Context, key: KeyOf<K>): Promise<ReconcileResult>;
}

export type ControllerRegistry = { readonly [K in QueueKind]: Controller<K> };

/** Runs the controller of the key's kind (the one place the key's kind picks the controller). */
export function reconcileKey(registry: ControllerRegistry, ctx: Context, key: QueueKey): Promise<ReconcileResult> {
  const controller = registry[key.kind] as Controller;
  return controller.reconcile(ctx, key as never);
}
