// Recognises the watch event that a ManagedUser status write of this operator comes back as, so
// that it is not reconciled a second time: an enforcement writes every user once, and
// re-deciding each echo (queue, decision, comparison, metrics) was work with a known outcome.
import type { ManagedUser, ManagedUserStatus } from '../crds/api/index.ts';
import { jsonEqual } from './context.ts';

export class OwnStatusWrites {
  /** The status last sent for each user (namespace/name) whose echo has not arrived yet. */
  private readonly pending = new Map<string, ManagedUserStatus>();

  /** Before the write: its echo may arrive before the write's own answer. */
  sending(namespace: string, name: string, status: ManagedUserStatus): void {
    this.pending.set(`${namespace}/${name}`, status);
  }

  /** The write failed: nothing is on its way back. */
  failed(namespace: string, name: string, status: ManagedUserStatus): void {
    const key = `${namespace}/${name}`;
    if (this.pending.get(key) === status) this.pending.delete(key);
  }

  /**
   * Whether this update is the echo of the last write for the user: only the status changed,
   * and to exactly what was sent. Anything else (a spec edit, a deletion, another writer's
   * status) is not, and is reconciled as before. A change of what decisions read (domains,
   * profiles) re-queues the namespace through its own event, never through this one.
   */
  isEcho(u: ManagedUser, old: ManagedUser | undefined): boolean {
    const key = `${u.metadata.namespace}/${u.metadata.name}`;
    const sent = this.pending.get(key);
    if (sent === undefined) return false;
    this.pending.delete(key);
    if (!old) return false;
    const a = u.metadata;
    const b = old.metadata;
    return a.generation === b.generation && a.deletionTimestamp === b.deletionTimestamp && jsonEqual(u.spec, old.spec) && jsonEqual(u.status, sent);
  }

  forget(u: ManagedUser): void {
    this.pending.delete(`${u.metadata.namespace}/${u.metadata.name}`);
  }

  get size(): number {
    return this.pending.size;
  }
}
