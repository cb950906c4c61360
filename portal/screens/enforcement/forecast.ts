// What enforcing a proposed spec.enforcement would do, computed with the operator's own decision
// function over the organization's users: the count the confirmation page states is the count the
// operator then reports (status.enforcement.enforcedUsers), and the reasons it would be Blocked.
// The portal cannot check the operator's signature on a domain verification (the key never leaves
// the operator), so a domain counts as verified here by its Verified condition and lapse time: a
// forecast for the admin, never a decision anything trusts.
import type { ManagedUser, SSOProfile, UnmanagedUserPolicy, VerifiedDomain } from '../../../crds/api/index.ts';
import { isTrue } from '../../../operator/conditions.ts';
import { byAge, decide, emailDomain } from '../../../operator/decisions.ts';
import { domainOwners, isDeleting, isTested, profileView, servedDomains } from '../../../operator/organization.ts';

export interface EnforcementProposal {
  profile: string;
  domains: string[];
  exempt: string[];
  unmanagedUsers: UnmanagedUserPolicy;
}

/** Why the operator would hold enforcement in phase Blocked (its reasons, in the admin's words). */
export interface Blocker {
  reason: 'IdPConfigInvalid' | 'ClientSecretUnavailable' | 'TestNotPassed' | 'DomainNotVerified';
  message: string;
}

export interface Forecast {
  /** Users of the proposed domains (status.enforcement.matchedUsers). */
  matched: number;
  /** Of those, users the operator will require to sign in with SSO (status.enforcement.enforcedUsers). */
  enforced: number;
  /** Users of the proposed domains who keep password login, by decision reason. */
  kept: Partial<Record<string, number>>;
  blockers: Blocker[];
}

/** Verified now as the operator last published it (Verified=True and not past its lapse time). */
export function verifiedNow(domains: readonly VerifiedDomain[], now = Date.now()): Set<string> {
  const out = new Set<string>();
  for (const d of domains) {
    const lapse = Date.parse(d.status?.verification?.lapseTime ?? '');
    if (isTrue(d.status?.conditions, 'Verified') && !(lapse <= now)) out.add(d.spec.domain);
  }
  return out;
}

export function withProposal(p: SSOProfile, proposal: EnforcementProposal): SSOProfile {
  return { ...p, spec: { ...p.spec, enforcement: { domains: proposal.domains, exempt: proposal.exempt, unmanagedUsers: proposal.unmanagedUsers } } };
}

export function forecastEnforcement(all: { profiles: readonly SSOProfile[]; domains: readonly VerifiedDomain[]; users: readonly ManagedUser[] }, proposal: EnforcementProposal): Forecast {
  const verified = verifiedNow(all.domains);
  const profiles = all.profiles.filter((p) => !isDeleting(p)).map((p) => (p.metadata.name === proposal.profile ? withProposal(p, proposal) : p)).sort(byAge);
  const target = profiles.find((p) => p.metadata.name === proposal.profile);
  if (!target) return { matched: 0, enforced: 0, kept: {}, blockers: [] };
  const org = { verified, owners: domainOwners(profiles) };
  const served = servedDomains(target, org);
  const blockers = blockersOf(target, proposal.domains, served);
  // Entering takes every wanted domain at once: counted as the operator counts once it has entered.
  const valid = isTrue(target.status?.conditions, 'IdPConfigValid') && isTrue(target.status?.conditions, 'CertificateValid');
  const entering = proposal.domains.filter((d) => served.includes(d));
  const views = profiles.map((p) => (p === target ? profileView(p, org, { valid, enforcingDomains: entering }) : profileView(p, org)));
  const wanted = new Set(proposal.domains);
  let matched = 0;
  let enforced = 0;
  const kept: Forecast['kept'] = {};
  for (const u of all.users) {
    if (!wanted.has(emailDomain(u.spec.email))) continue;
    matched++;
    const d = decide(u, verified, views, false);
    if (d.enforced && d.profile === target.metadata.name) enforced++;
    else kept[d.reason] = (kept[d.reason] ?? 0) + 1;
  }
  return { matched, enforced, kept, blockers };
}

function blockersOf(p: SSOProfile, wanted: readonly string[], served: readonly string[]): Blocker[] {
  const out: Blocker[] = [];
  const c = p.status?.conditions;
  if (!isTrue(c, 'IdPConfigValid') || !isTrue(c, 'CertificateValid'))
    out.push({ reason: 'IdPConfigInvalid', message: 'The identity provider configuration or its certificate is not valid yet. Fix the connection first.' });
  if (c?.find((x) => x.type === 'ClientSecretReady')?.status === 'False') out.push({ reason: 'ClientSecretUnavailable', message: 'The OpenID Connect client secret of this connection cannot be read.' });
  if (!isTested(p))
    out.push({
      reason: 'TestNotPassed',
      message: p.spec.test ? `The connection has not passed a test yet: ${p.spec.test.email} must complete a test sign-in first.` : 'The connection has not passed a test yet: run "Test connection" first.',
    });
  const bad = wanted.filter((d) => !served.includes(d));
  if (bad.length > 0) out.push({ reason: 'DomainNotVerified', message: `Not verified (or served by another connection): ${bad.join(', ')}.` });
  return out;
}

/** The operator's Blocked reasons in plain words. */
export const BLOCKED_REASON_WORDS: Readonly<Record<string, string>> = {
  IdPConfigInvalid: 'the identity provider configuration or its certificate is not valid',
  ClientSecretUnavailable: 'the OpenID Connect client secret cannot be read',
  TestNotPassed: 'the connection has not passed a test yet',
  DomainNotVerified: 'a domain to enforce is not verified (or is served by another connection)',
};
