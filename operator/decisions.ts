// Pure policy: what the operator decides for each ManagedUser, given the organization's
// verified domains and profiles. Shared by the ManagedUser reconciler (which writes the
// decision) and the SSOProfile reconciler (which counts how many users should be enforced).
import type { ManagedUser, ManagedUserStatus, SSODecisionReason, SSOOverride } from '../crds/api/index.ts';

/** What a user decision needs to know about one profile of the organization. */
export interface ProfileView {
  name: string;
  creationTimestamp: string;
  /** IdP configuration and certificates are valid. */
  valid: boolean;
  /** Domains this profile serves: listed, verified in the namespace, not claimed by an older profile. */
  servedDomains: ReadonlySet<string>;
  tested: boolean;
  /** Domains whose users are enforced: latched by the profile's enforcement (see organization.ts). */
  enforcingDomains: ReadonlySet<string>;
  /** Lower-cased exempt emails. */
  exempt: ReadonlySet<string>;
}

export type Decision = Required<Pick<NonNullable<ManagedUserStatus['sso']>, 'available' | 'enforced' | 'reason' | 'message'>> & { profile?: string };

export const emailDomain = (email: string): string => email.slice(email.lastIndexOf('@') + 1).toLowerCase();

/** `explain: false` skips the human-readable message (counting thousands of users needs none). */
export function decide(user: Pick<ManagedUser, 'spec'>, verifiedDomains: ReadonlySet<string>, profiles: readonly ProfileView[], explain = true): Decision {
  const email = user.spec.email.toLowerCase();
  const domain = emailDomain(email);
  const no = (reason: SSODecisionReason, message: () => string): Decision => ({ available: false, enforced: false, reason, message: explain ? message() : '' });
  if (user.spec.active === false) return no('Inactive', () => 'the user is deprovisioned (spec.active is false): no login of any kind');
  if (!verifiedDomains.has(domain)) {
    // A lapsed (or lost) verification never gives a latched domain its passwords back: the
    // latch lives in the profile and only the spec lifts it; SSO is unavailable meanwhile.
    const latchedBy = profiles.find((p) => p.enforcingDomains.has(domain));
    if (latchedBy && user.spec.sso !== 'Disabled' && !latchedBy.exempt.has(email)) {
      return { available: false, enforced: true, reason: 'DomainEnforced', message: explain ? `SSO is enforced on ${domain} by SSOProfile ${latchedBy.name}, but ${domain} is not Verified any more (its verification lapsed): SSO sign-in is unavailable until it is verified again; password login stays refused` : '', profile: latchedBy.name };
    }
    return no('DomainNotVerified', () => `${domain} is not a Verified domain of this organization`);
  }
  const profile = profiles.find((p) => p.servedDomains.has(domain));
  if (!profile) return no('NoProfile', () => `no valid SSOProfile of this organization serves ${domain}`);
  if (!profile.valid) return decideWithoutSSO(user.spec.sso, email, domain, profile, explain);
  const yes = (enforced: boolean, reason: SSODecisionReason, message: () => string): Decision => ({ available: true, enforced, reason, message: explain ? message() : '', profile: profile.name });
  if (user.spec.sso === 'Disabled') return yes(false, 'OverrideDisabled', () => 'spec.sso is Disabled: password login stays allowed, SSO is available');
  if (profile.exempt.has(email)) return yes(false, 'ExemptAdmin', () => `${email} is exempt from enforcement in SSOProfile ${profile.name}`);
  if (user.spec.sso === 'Enabled' && profile.tested) return yes(true, 'OverrideEnabled', () => `spec.sso is Enabled and SSOProfile ${profile.name} passed its test`);
  if (profile.enforcingDomains.has(domain)) return yes(true, 'DomainEnforced', () => `SSO is enforced on ${domain} by SSOProfile ${profile.name}`);
  return yes(false, 'NotEnforced', () => `SSO is available through SSOProfile ${profile.name} but not enforced on ${domain}`);
}

/**
 * The serving profile's IdP configuration or certificates are not valid, so SSO is unavailable.
 * A user it enforced stays enforced (fail closed: a broken IdP never re-allows passwords); the
 * others keep password login as if no profile served the domain.
 */
function decideWithoutSSO(sso: SSOOverride | undefined, email: string, domain: string, profile: ProfileView, explain: boolean): Decision {
  const unavailable = `SSO sign-in is unavailable until an administrator fixes SSOProfile ${profile.name} (its IdP configuration or certificates are not valid); password login stays refused`;
  const held = sso !== 'Disabled' && !profile.exempt.has(email);
  const enforced = (reason: SSODecisionReason, why: string): Decision => ({ available: false, enforced: true, reason, message: explain ? `${why}. ${unavailable}` : '', profile: profile.name });
  if (held && profile.enforcingDomains.has(domain)) return enforced('DomainEnforced', `SSO is enforced on ${domain} by SSOProfile ${profile.name}`);
  if (held && sso === 'Enabled' && profile.tested) return enforced('OverrideEnabled', `spec.sso is Enabled and SSOProfile ${profile.name} passed its test`);
  return { available: false, enforced: false, reason: 'NoProfile', message: explain ? `no valid SSOProfile of this organization serves ${domain}` : '' };
}

/** Orders profiles so that the oldest claim on a domain wins, deterministically. */
export function byAge<T extends { metadata: { creationTimestamp?: string | Date; name: string } }>(a: T, b: T): number {
  const ta = timestamp(a.metadata.creationTimestamp);
  const tb = timestamp(b.metadata.creationTimestamp);
  return ta < tb ? -1 : ta > tb ? 1 : a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

/** metav1.Time arrives as an RFC 3339 string; client-node's types call it a Date. */
export function timestamp(t: string | Date | undefined): string {
  return t === undefined ? '' : typeof t === 'string' ? t : t.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
