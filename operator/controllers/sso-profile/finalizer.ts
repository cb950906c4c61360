// The enforcement finalizer: held by an SSOProfile only while its enforcement is latched, so
// that deleting it lifts enforcement in order — every user's decision recomputed without the
// profile (the ManagedUser controller leaves a profile being deleted out), an Event recorded —
// before the object goes.
import { API_VERSION, ENFORCEMENT_FINALIZER, ssoProfileKind, type SSOProfile } from '../../../crds/api/index.ts';
import { isNotFound } from '../../../kube/client.ts';
import { pathOf } from '../../../kube/resources.ts';
import { FIELD_MANAGER, type Context, type ReconcileResult } from '../../context.ts';
import { latchedDomains } from '../../organization.ts';
import { queueKey } from '../../queue-key.ts';
import { FRAGMENT_DEBOUNCE_MS } from '../watch.ts';

/** How soon a deletion checks again whether every user's decision left the profile. */
const LIFT_RECHECK_MS = 1000;

const hasFinalizer = (p: SSOProfile) => p.metadata.finalizers?.includes(ENFORCEMENT_FINALIZER) ?? false;

/**
 * Adds or removes the finalizer by server-side apply of metadata.finalizers (a set: other
 * controllers' finalizers are untouched). The uid makes the apply fail on a re-created object.
 */
async function applyFinalizer(ctx: Pick<Context, 'client'>, p: SSOProfile, hold: boolean): Promise<void> {
  const { name, namespace, uid } = p.metadata;
  const metadata = { name, namespace, uid, ...(hold ? { finalizers: [ENFORCEMENT_FINALIZER] } : {}) };
  try {
    await ctx.client.apply(pathOf('SSOProfile', namespace, name), { apiVersion: API_VERSION, kind: ssoProfileKind.kind, metadata }, FIELD_MANAGER, { discardBody: true });
  } catch (err) {
    if (!(isNotFound(err) && !hold)) throw err;
  }
}

/** Holds the finalizer exactly while `latched` is non-empty. */
export async function syncEnforcementFinalizer(ctx: Pick<Context, 'client'>, p: SSOProfile, latched: readonly string[]): Promise<void> {
  const hold = latched.length > 0;
  if (hold !== hasFinalizer(p)) await applyFinalizer(ctx, p, hold);
}

/**
 * A profile being deleted: out of the rendered config at once; with the finalizer, waits until no
 * user's decision names it any more, records the lift, then lets the object go.
 */
export async function finishDeletion(ctx: Context, p: SSOProfile): Promise<ReconcileResult> {
  const { namespace, name } = p.metadata;
  const fragKey = `${namespace}/${name}`;
  ctx.metadata.forget(fragKey);
  ctx.metrics.enforcementDegraded.remove({ namespace, profile: name });
  const gone = 'the SSOProfile is being deleted';
  const prev = ctx.fragments.get(fragKey);
  if (!prev || prev.ok || prev.reason !== gone) {
    ctx.fragments.set(fragKey, { ok: false, reason: gone });
    ctx.queue.addAfter(queueKey.config, FRAGMENT_DEBOUNCE_MS);
  }
  if (!hasFinalizer(p)) return {};
  let still = 0;
  for (const u of ctx.users.inNamespace(namespace)) if (u.status?.sso?.profile === name) still++;
  if (still > 0) return { requeueAfterMs: LIFT_RECHECK_MS };
  const domains = latchedDomains(p);
  ctx.events.record(p, 'Normal', 'EnforcementLifted', `the SSOProfile is being deleted: SSO enforcement lifted${domains.length ? ` on ${domains.join(', ')}` : ''}; every user's decision was recomputed without it`);
  ctx.log.info({ kind: 'SSOProfile', namespace, name, domains }, 'enforcement lifted: profile deleted');
  await applyFinalizer(ctx, p, false);
  return {};
}
