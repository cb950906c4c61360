// What every ManagedUser decision of a namespace reads — its verified domains and the views of its
// profiles — computed once and shared by all of its users until a VerifiedDomain or SSOProfile
// event (or the earliest lapse of a proof) can change it. Enforcing 100,000 users then costs one
// organization, not 100,000.
import type { SSOProfile, VerifiedDomain } from '../crds/api/index.ts';
import type { KindCache } from './context.ts';
import type { ProfileView } from './decisions.ts';
import { isProven } from './domain-proof.ts';
import { organizationOf, profileView, type Organization } from './organization.ts';

export interface DecisionInputs {
  org: Organization;
  views: readonly ProfileView[];
}

interface Caches {
  domains: KindCache<VerifiedDomain>;
  profiles: KindCache<SSOProfile>;
  domainProofKey: Buffer;
}

class DecisionInputsCache {
  private readonly byNamespace = new Map<string, DecisionInputs>();
  /** When the earliest proof of any namespace lapses: ownership of a domain may move then. */
  private validUntil = 0;
  private readonly caches: Caches;

  constructor(caches: Caches) {
    this.caches = caches;
    // A proof in one namespace decides who owns a domain in all of them: any domain event clears all.
    caches.domains.on(() => this.byNamespace.clear());
    caches.profiles.on((_event, p) => this.byNamespace.delete(p.metadata.namespace));
  }

  get(namespace: string, now: Date): DecisionInputs {
    if (now.getTime() >= this.validUntil) {
      this.byNamespace.clear();
      this.validUntil = this.earliestLapse(now);
    }
    let inputs = this.byNamespace.get(namespace);
    if (!inputs) {
      const org = organizationOf(this.caches, namespace, now);
      inputs = { org, views: org.profiles.map((p) => profileView(p, org)) };
      this.byNamespace.set(namespace, inputs);
    }
    return inputs;
  }

  private earliestLapse(now: Date): number {
    let earliest = Infinity;
    for (const vd of this.caches.domains.all()) {
      if (!isProven(this.caches.domainProofKey, vd, now)) continue;
      earliest = Math.min(earliest, Date.parse(vd.status?.verification?.lapseTime ?? ''));
    }
    return earliest;
  }
}

const perCaches = new WeakMap<KindCache<VerifiedDomain>, DecisionInputsCache>();

/**
 * The namespace's decision inputs at `now`. The cache lives as long as the caches it reads and
 * subscribes to them on first use (reconciles run only after every watch is registered).
 */
export function decisionInputs(caches: Caches, namespace: string, now: Date = new Date()): DecisionInputs {
  let cache = perCaches.get(caches.domains);
  if (!cache) perCaches.set(caches.domains, (cache = new DecisionInputsCache(caches)));
  return cache.get(namespace, now);
}
