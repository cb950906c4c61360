// The validation pool's wait queue, shared fairly between organizations: tasks wait per
// organization and the worker threads take them round-robin, one organization at a time, so a
// flood of expensive responses posted at one organization's ACS delays that organization's queue,
// not every other organization's logins behind it. Each organization may hold only a share of the
// queue (validation-pool.ts), so one cannot fill it and leave the others SERVER_BUSY.
export class TenantFairQueue<T> {
  /** Waiting tasks per tenant, oldest first. */
  private readonly waiting = new Map<string, T[]>();
  /** Tenants with waiting tasks, in the order they get the next free thread. */
  private readonly turn: string[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Tasks the tenant has waiting. */
  waitingFor(tenant: string): number {
    return this.waiting.get(tenant)?.length ?? 0;
  }

  push(tenant: string, task: T): void {
    const queue = this.waiting.get(tenant);
    if (queue) queue.push(task);
    else {
      this.waiting.set(tenant, [task]);
      this.turn.push(tenant);
    }
    this.count++;
  }

  /** The oldest task of the tenant whose turn it is; that tenant goes to the back of the turn. */
  shift(): T | undefined {
    const tenant = this.turn.shift();
    if (tenant === undefined) return undefined;
    const queue = this.waiting.get(tenant) as T[];
    const task = queue.shift() as T;
    if (queue.length > 0) this.turn.push(tenant);
    else this.waiting.delete(tenant);
    this.count--;
    return task;
  }

  /** Empties the queue, returning every task it held. */
  drain(): T[] {
    const all = [...this.waiting.values()].flat();
    this.waiting.clear();
    this.turn.length = 0;
    this.count = 0;
    return all;
  }
}
