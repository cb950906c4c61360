// Step 2, domains: each listed domain must be Verified in this organization and claimed by no
// older profile of it. Owns DomainsVerified; hands the served domains to later steps.
import { servedDomains } from '../../organization.ts';
import type { Step } from '../steps.ts';
import type { ProfileReconcile } from './state.ts';

export const domainsStep: Step<ProfileReconcile, 'DomainsVerified'> = {
  name: 'domains',
  owns: ['DomainsVerified'],
  run(r, conditions) {
    const { profile: p, org } = r;
    const name = p.metadata.name;
    const unverified = p.spec.domains.filter((d) => !org.verified.has(d));
    const claimed = p.spec.domains.filter((d) => org.verified.has(d) && org.owners.get(d) !== name);
    r.served = servedDomains(p, org).sort();
    if (unverified.length > 0) conditions.set({ type: 'DomainsVerified', status: 'False', reason: 'DomainNotVerified', message: `not Verified in this organization: ${unverified.join(', ')}` });
    else if (claimed.length > 0) conditions.set({ type: 'DomainsVerified', status: 'False', reason: 'DomainClaimed', message: claimed.map((d) => `${d} is served by SSOProfile ${org.owners.get(d)}`).join('; ') });
    else conditions.set({ type: 'DomainsVerified', status: 'True', reason: 'Verified', message: `serving ${r.served.join(', ')}` });
    return {};
  },
};
