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

/** Which profile of the namespace owns each domain: the oldest one that lists it. */
export function domainOwners(profiles: readonly SSOProfile[]): Map<string, string> {
  const owners = new Map<string, string>();
  for (const p of [...profiles].sort(byAge)) for (const d of p.spec.domains) if (!owners.has(d)) owners.set(d, p.metadata.name);
  return owners;
}

/** The sp-server recorded a successful test login by the address spec.test names now. */
export function isTested(p: SSOProfile): boolean {
  const t = p.status?.test;
  return !!p.spec.test && t?.result === 'Succeeded' && (t.email ?? '').toLowerCase() === p.spec.test.email.toLowerCase();
}

/** One namespace's verified domains and profiles (oldest first) with their domain owners. */
export interface Organization {
  namespace: string;
  verified: ReadonlySet<string>;
  profiles: readonly SSOProfile[];
  owners: ReadonlyMap<string, string>;
}

export function organizationOf(caches: { domains: KindCache<VerifiedDomain>; profiles: KindCache<SSOProfile>; domainProofKey: Buffer }, namespace: string): Organization {
  const profiles = [...caches.profiles.inNamespace(namespace)].sort(byAge);
  return { namespace, verified: verifiedDomainsOf(caches.domains, namespace, caches.domainProofKey), profiles, owners: domainOwners(profiles) };
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
 * The profile as ManagedUser decisions see it: from its published status (enforcement counts
 * only for the generation it was computed from), or from `pending` when given.
 */
export function profileView(p: SSOProfile, org: Pick<Organization, 'verified' | 'owners'>, pending?: PendingPublication): ProfileView {
  const st = p.status;
  const wanted = p.spec.enforcement?.domains ?? [];
  let enforcing: string[] = [];
  if (pending) enforcing = [...pending.enforcingDomains];
  else if (st?.observedGeneration === p.metadata.generation && st?.enforcement && ENFORCING.includes(st.enforcement.phase)) enforcing = (st.enforcement.domains ?? []).filter((d) => wanted.includes(d));
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
 * Everything `profileView` reads from the profile itself (its spec through the generation), as
 * bytes: when it is unchanged, no user's decision can have changed because of this profile.
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
      e: p.status?.enforcement?.phase,
      ed: p.status?.enforcement?.domains,
    })
  );
}
