// An organization (one namespace) as every controller sees it: its verified domains, which
// profile owns each domain, a profile's test state, and the one view of a profile that
// ManagedUser decisions read (and the fingerprint that says when that view may have changed).
import type { EnforcementPhase, SSOProfile, VerifiedDomain } from '../crds/api/index.ts';
import { isTrue } from './conditions.ts';
import { stableStringify, type KindCache } from './context.ts';
import { byAge, timestamp, type ProfileView } from './decisions.ts';
import { isProven, provenDomainOwners } from './domain-proof.ts';

const ENFORCING: readonly EnforcementPhase[] = ['InProgress', 'Enforced'];

/**
 * Verified (and not conflicting) domains of a namespace: only verifications the operator signed
 * and that have not lapsed count, whatever the Verified condition says (anyone allowed to write
 * status in the namespace can write that), and a domain counts in one namespace at most.
 */
export function verifiedDomainsOf(domains: KindCache<VerifiedDomain>, namespace: string, proofKey: Buffer, now: Date = new Date()): Set<string> {
  const out = new Set<string>();
  const mine = [...domains.inNamespace(namespace)].filter((vd) => isProven(proofKey, vd, now));
  if (mine.length === 0) return out;
  const owners = provenDomainOwners(proofKey, domains.all(), now);
  for (const vd of mine) if (owners.get(vd.spec.domain)?.metadata.namespace === namespace) out.add(vd.spec.domain);
  return out;
}

/**
 * Which profile of the namespace owns each domain: the one whose enforcement holds it (a latch
 * is not taken away by another profile listing the domain later), else the oldest that lists it.
 */
export function domainOwners(profiles: readonly SSOProfile[]): Map<string, string> {
  const owners = new Map<string, string>();
  const byAgeOrder = [...profiles].sort(byAge);
  for (const p of byAgeOrder) for (const d of latchedDomains(p)) if (!owners.has(d)) owners.set(d, p.metadata.name);
  for (const p of byAgeOrder) for (const d of p.spec.domains) if (!owners.has(d)) owners.set(d, p.metadata.name);
  return owners;
}

/**
 * The domains the profile's enforcement holds: latched in status (by the operator, the only
 * writer) and still in spec.enforcement.domains, whatever the generation: an edit that keeps a
 * domain never lets its users fall back to passwords. A status written before latchedDomains
 * existed latched through its enforcing phase.
 */
export function latchedDomains(p: SSOProfile): string[] {
  const wanted = p.spec.enforcement?.domains ?? [];
  const e = p.status?.enforcement;
  const held = e?.latchedDomains ?? (e && ENFORCING.includes(e.phase) ? (e.domains ?? []) : []);
  return held.filter((d) => wanted.includes(d));
}

export const isDeleting = (p: SSOProfile): boolean => !!p.metadata.deletionTimestamp;

/**
 * A successful test login by the address spec.test names now: the last one passed (kept by the
 * operator, so a later failed or pending attempt does not erase it) or the current attempt.
 */
export function isTested(p: SSOProfile): boolean {
  const want = p.spec.test?.email.toLowerCase();
  if (!want) return false;
  const t = p.status?.test;
  return (t?.lastPassed?.email ?? '').toLowerCase() === want || (t?.result === 'Succeeded' && (t.email ?? '').toLowerCase() === want);
}

/** One namespace's verified domains and profiles (oldest first) with their domain owners. */
export interface Organization {
  namespace: string;
  verified: ReadonlySet<string>;
  profiles: readonly SSOProfile[];
  owners: ReadonlyMap<string, string>;
}

/** A profile being deleted is left out: its users' decisions are made as if it were gone. */
export function organizationOf(caches: { domains: KindCache<VerifiedDomain>; profiles: KindCache<SSOProfile>; domainProofKey: Buffer }, namespace: string, now: Date = new Date()): Organization {
  const profiles = [...caches.profiles.inNamespace(namespace)].filter((p) => !isDeleting(p)).sort(byAge);
  return { namespace, verified: verifiedDomainsOf(caches.domains, namespace, caches.domainProofKey, now), profiles, owners: domainOwners(profiles) };
}

/** Domains the profile lists that are verified here and that no older profile claims. */
export function servedDomains(p: SSOProfile, org: Pick<Organization, 'verified' | 'owners'>): string[] {
  return p.spec.domains.filter((d) => org.verified.has(d) && org.owners.get(d) === p.metadata.name);
}

/**
 * What the profile's own reconcile is about to publish, for the view of a profile whose status
 * is not written yet (the SSOProfile controller counting its own enforcement).
 */
export interface PendingPublication {
  valid: boolean;
  enforcingDomains: readonly string[];
}

/**
 * The profile as ManagedUser decisions see it: from its published status (enforcement as latched,
 * see latchedDomains), or from `pending` when given.
 */
export function profileView(p: SSOProfile, org: Pick<Organization, 'verified' | 'owners'>, pending?: PendingPublication): ProfileView {
  const st = p.status;
  const enforcing = pending ? [...pending.enforcingDomains] : latchedDomains(p);
  return {
    name: p.metadata.name,
    creationTimestamp: timestamp(p.metadata.creationTimestamp),
    valid: pending ? pending.valid : isTrue(st?.conditions, 'IdPConfigValid') && isTrue(st?.conditions, 'CertificateValid'),
    servedDomains: new Set(servedDomains(p, org)),
    tested: isTested(p),
    enforcingDomains: new Set(enforcing),
    exempt: new Set((p.spec.enforcement?.exempt ?? []).map((e) => e.toLowerCase())),
  };
}

/**
 * Everything `profileView` and `organizationOf` read from the profile itself (its spec through
 * the generation), as bytes: when it is unchanged, no user's decision can have changed because of this profile.
 */
export function profileViewFingerprint(p: SSOProfile | undefined): string | undefined {
  return (
    p &&
    stableStringify({
      gen: p.metadata.generation,
      og: p.status?.observedGeneration,
      c: (p.status?.conditions ?? []).filter((c) => c.type === 'IdPConfigValid' || c.type === 'CertificateValid').map((c) => c.status),
      t: p.status?.test?.result,
      te: p.status?.test?.email,
      tp: p.status?.test?.lastPassed?.email,
      // What the view reads of the enforcement status, not its raw fields: phase and domains only
      // matter to a status without latchedDomains, so InProgress → Enforced re-decides nobody.
      held: latchedDomains(p),
      del: isDeleting(p),
    })
  );
}
