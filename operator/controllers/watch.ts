// What the controllers' watches share: the predicates that say when an event matters to
// objects other than its own, and the debounce delays that batch bursts of events.
import type { VerifiedDomain } from '../../crds/api/index.ts';
import type { InformerEvent } from '../../kube/informer.ts';
import { findCondition } from '../conditions.ts';

/** Domain and profile changes reach the rendered config after this, batched. */
export const CONFIG_DEBOUNCE_MS = 200;
/** A profile's new piece of the config reaches the rendered config after this. */
export const FRAGMENT_DEBOUNCE_MS = 100;
/** Many user (or sibling) changes batch into one profile reconcile that counts enforcement. */
export const COUNT_DEBOUNCE_MS = 500;

/**
 * The count's delay for a namespace of this many users: a count walks all of them, so its
 * cost per enforced user stays flat only if large namespaces are counted less often (twice a
 * second up to 5,000 users, every 10 s from 100,000).
 */
export const countDebounceMs = (users: number): number => Math.min(10_000, Math.max(COUNT_DEBOUNCE_MS, Math.round(users / 10)));

// The proof and its lapse time are what organizations trust (domain-proof.ts); the condition
// is what the admin reads.
const verificationOf = (vd?: VerifiedDomain) => {
  const c = findCondition(vd?.status?.conditions, 'Verified');
  const v = vd?.status?.verification;
  return `${c?.status}/${c?.reason}/${v?.proof}/${v?.lapseTime}`;
};

/** Whether a VerifiedDomain event may change what its organization (or a rival one) sees. */
export function verificationChanged(event: InformerEvent, vd: VerifiedDomain, old?: VerifiedDomain): boolean {
  if (event === 'resync') return false;
  return event !== 'update' || verificationOf(vd) !== verificationOf(old);
}
