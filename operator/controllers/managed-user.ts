// ManagedUser: write the operator's SSO decision into status.sso. Users are re-queued only when
// something their decision reads changes: a domain's verification or a profile's view.
import type { ManagedUserStatus } from '../../crds/api/index.ts';
import { mergeConditions, rfc3339 } from '../conditions.ts';
import { applyStatus, jsonEqual, type Context, type Enqueuer, type ReconcileResult } from '../context.ts';
import { decisionInputs } from '../decision-inputs.ts';
import { decide } from '../decisions.ts';
import { profileViewFingerprint } from '../organization.ts';
import { OwnStatusWrites } from '../own-echo.ts';
import { queueKey, type KeyOf } from '../queue-key.ts';
import type { Controller } from './controller.ts';
import { verificationChanged } from './watch.ts';

/** One per ManagedUser cache (an operator, or a test's context): the writes whose echo is on its way. */
const ownWrites = new WeakMap<Context['users'], OwnStatusWrites>();
function ownWritesOf(ctx: Pick<Context, 'users'>): OwnStatusWrites {
  let w = ownWrites.get(ctx.users);
  if (!w) ownWrites.set(ctx.users, (w = new OwnStatusWrites()));
  return w;
}

export async function reconcileManagedUser(ctx: Context, key: KeyOf<'ManagedUser'>): Promise<ReconcileResult> {
  const { namespace, name } = key;
  const u = ctx.users.get(namespace, name);
  if (!u) return {};
  const now = new Date();
  const { org, views } = decisionInputs(ctx, namespace, now);
  const d = decide(u, org.verified, views);
  const old = u.status ?? {};
  const since = old.sso && old.sso.enforced === d.enforced && old.sso.since ? old.sso.since : rfc3339(now);
  const sso: NonNullable<ManagedUserStatus['sso']> = { available: d.available, enforced: d.enforced, reason: d.reason, message: d.message, since };
  if (d.profile) sso.profile = d.profile;
  const status: ManagedUserStatus = {
    observedGeneration: u.metadata.generation,
    conditions: mergeConditions(old.conditions, [{ type: 'Ready', status: 'True', reason: d.reason, message: d.message }], u.metadata.generation, now),
    sso,
  };
  if (!jsonEqual(status, old)) {
    const writes = ownWritesOf(ctx);
    writes.sending(namespace, name, status);
    try {
      await applyStatus(ctx, 'ManagedUser', namespace, name, status);
    } catch (err) {
      // Retried by the queue with backoff; the cached status stays the old one until then.
      writes.failed(namespace, name, status);
      throw err;
    }
    ctx.log.debug({ kind: 'ManagedUser', namespace, name, enforced: d.enforced, reason: d.reason, profile: d.profile }, 'decision updated');
  }
  return {};
}

function enqueueNamespace(ctx: Context, queue: Enqueuer, namespace: string): void {
  for (const u of ctx.users.inNamespace(namespace)) queue.add(queueKey.managedUser(namespace, u.metadata.name));
}

export const managedUserController: Controller<'ManagedUser'> = {
  kind: 'ManagedUser',
  queue: 'users',
  watch(ctx, queue) {
    const writes = ownWritesOf(ctx);
    ctx.users.on((event, u, old) => {
      if (event === 'delete') writes.forget(u);
      else if (event === 'update' && writes.isEcho(u, old)) return;
      queue.add(queueKey.managedUser(u.metadata.namespace, u.metadata.name));
    });
    ctx.domains.on((event, vd, old) => {
      if (verificationChanged(event, vd, old)) enqueueNamespace(ctx, queue, vd.metadata.namespace);
    });
    ctx.profiles.on((event, p, old) => {
      if (event === 'resync') return;
      if (event !== 'update' || profileViewFingerprint(p) !== profileViewFingerprint(old)) enqueueNamespace(ctx, queue, p.metadata.namespace);
    });
  },
  *initialKeys(ctx) {
    for (const u of ctx.users.all()) yield queueKey.managedUser(u.metadata.namespace, u.metadata.name);
  },
  reconcile: reconcileManagedUser,
};
