// ManagedUser: write the operator's SSO decision into status.sso.
import type { ManagedUserStatus, SSOProfile } from '../../crds/api/index.ts';
import { mergeConditions, rfc3339 } from '../conditions.ts';
import { applyStatus, stableStringify, type Context, type ReconcileResult } from '../context.ts';
import { byAge, decide } from '../decisions.ts';
import { domainOwners, profileViewFromStatus, verifiedDomainsOf } from './sso-profile.ts';

export async function reconcileManagedUser(ctx: Context, namespace: string, name: string): Promise<ReconcileResult> {
  const u = ctx.users.get(namespace, name);
  if (!u) return {};
  const verified = verifiedDomainsOf(ctx, namespace);
  const profiles = ([...ctx.profiles.inNamespace(namespace)] as SSOProfile[]).sort(byAge);
  const owners = domainOwners(profiles);
  const views = profiles.map((p) => profileViewFromStatus(p, verified, owners));
  const d = decide(u, verified, views);
  const old = u.status ?? {};
  const now = new Date();
  const since = old.sso && old.sso.enforced === d.enforced && old.sso.since ? old.sso.since : rfc3339(now);
  const sso: NonNullable<ManagedUserStatus['sso']> = { available: d.available, enforced: d.enforced, reason: d.reason, message: d.message, since };
  if (d.profile) sso.profile = d.profile;
  const status: ManagedUserStatus = {
    observedGeneration: u.metadata.generation,
    conditions: mergeConditions(old.conditions, [{ type: 'Ready', status: 'True', reason: d.reason, message: d.message }], u.metadata.generation, now),
    sso,
  };
  if (stableStringify(status) !== stableStringify(old)) {
    await applyStatus(ctx, 'ManagedUser', namespace, name, status);
    ctx.log.debug({ kind: 'ManagedUser', namespace, name, enforced: d.enforced, reason: d.reason, profile: d.profile }, 'decision updated');
  }
  return {};
}
