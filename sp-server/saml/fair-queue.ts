// The validation pool's wait queue, shared fairly between organizations: tasks wait per
// organization and the worker threads take them round-robin, one organization at a time, so a
// flood of expensive responses posted at one organization's ACS delays that organization's queue,
// not every other organization's logins behind it. Each organization may hold only a share of the
// queue, so one cannot fill it and leave the others SERVER_BUSY.
import { Piscina, type TaskQueue } from 'piscina';

type Task = Parameters<TaskQueue['push']>[0];

/** What the pool attaches to a task so the queue knows whose it is (never sent to the worker). */
export interface TenantTag {
  tenant: string;
}

/** The tag as piscina carries it: a symbol-keyed property, which structured cloning drops. */
export function tagged<T extends object>(task: T, tenant: string): T {
  return Object.assign(task, { [Piscina.queueOptionsSymbol]: { tenant } satisfies TenantTag });
}

function tenantOf(task: Task): string {
  const options = task[Piscina.queueOptionsSymbol as never] as Partial<TenantTag> | null;
  return options?.tenant ?? '';
}

export class TenantFairQueue implements TaskQueue {
  /** Waiting tasks per tenant, oldest first. */
  private readonly waiting = new Map<string, Task[]>();
  /** Tenants with waiting tasks, in the order they get the next free thread. */
  private turn: string[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Tasks the tenant has waiting. */
  waitingFor(tenant: string): number {
    return this.waiting.get(tenant)?.length ?? 0;
  }

  push(task: Task): void {
    const tenant = tenantOf(task);
    const queue = this.waiting.get(tenant);
    if (queue) queue.push(task);
    else {
      this.waiting.set(tenant, [task]);
      this.turn.push(tenant);
    }
    this.count++;
  }

  shift(): Task | null {
    const tenant = this.turn.shift();
    if (tenant === undefined) return null;
    const queue = this.waiting.get(tenant) as Task[];
    const task = queue.shift() as Task;
    if (queue.length > 0) this.turn.push(tenant);
    else this.waiting.delete(tenant);
    this.count--;
    return task;
  }

  /** A task piscina took but could not hand to a thread goes back first in line, turn included. */
  unshift(task: Task): void {
    const tenant = tenantOf(task);
    const queue = this.waiting.get(tenant);
    if (queue) {
      queue.unshift(task);
      this.turn = [tenant, ...this.turn.filter((t) => t !== tenant)];
    } else {
      this.waiting.set(tenant, [task]);
      this.turn.unshift(tenant);
    }
    this.count++;
  }

  remove(task: Task): void {
    const tenant = tenantOf(task);
    const queue = this.waiting.get(tenant);
    const i = queue?.indexOf(task) ?? -1;
    if (!queue || i < 0) return;
    queue.splice(i, 1);
    this.count--;
    if (queue.length === 0) {
      this.waiting.delete(tenant);
      this.turn = this.turn.filter((t) => t !== tenant);
    }
  }
}
