// Step 5, enforcement: blocked until the IdP, its test login and the domains are in order, then
// counted from the per-user decisions, so status.enforcement is resumable after any restart.
// Owns Enforced and status.enforcement.
import type { ManagedUser, SSOProfileStatus } from '../../../crds/api/index.ts';
import { decide, emailDomain } from '../../decisions.ts';
import { isTested, profileView } from '../../organization.ts';
import type { Step } from '../steps.ts';
import type { ProfileReconcile } from './state.ts';

type Enforcement = NonNullable<SSOProfileStatus['enforcement']>;

/** How soon an enforcement in progress counts its users again. */
const IN_PROGRESS_RECHECK_MS = 2000;

function plan(r: ProfileReconcile): Enforcement {
  const { profile: p, org, served } = r;
  const wanted = [...(p.spec.enforcement?.domains ?? [])].sort();
  if (wanted.length === 0) return { phase: 'NotRequested' };
  const idp = r.conditions.get('IdPConfigValid');
  const cert = r.conditions.get('CertificateValid');
  const idpValid = idp?.status === 'True';
  if (!idpValid || cert?.status !== 'True') {
    return { phase: 'Blocked', reason: 'IdPConfigInvalid', message: `the IdP configuration or its certificates are not valid: ${!idpValid ? idp?.message : cert?.message}`, domains: wanted };
  }
  if (!isTested(p)) {
    return { phase: 'Blocked', reason: 'TestNotPassed', message: p.spec.test ? `${p.spec.test.email} has not completed a successful test login yet` : 'set spec.test.email and complete a test login first', domains: wanted };
  }
  const bad = wanted.filter((d) => !served.includes(d));
  if (bad.length > 0) return { phase: 'Blocked', reason: 'DomainNotVerified', message: `not Verified (or served by another profile): ${bad.join(', ')}`, domains: wanted };
  // Count with the decisions users will get once this status is published.
  const views = org.profiles.map((s) => (s.metadata.name === p.metadata.name ? profileView(p, org, { valid: true, enforcingDomains: wanted }) : profileView(s, org)));
  const wantedSet = new Set(wanted);
  let matched = 0;
  let enforced = 0;
  let pending = 0;
  for (const u of r.ctx.users.inNamespace(p.metadata.namespace) as Iterable<ManagedUser>) {
    if (!wantedSet.has(emailDomain(u.spec.email))) continue;
    matched++;
    const d = decide(u, org.verified, views, false);
    const s = u.status?.sso;
    if (s?.enforced && s.profile === p.metadata.name) enforced++;
    if (!s || s.enforced !== d.enforced || s.profile !== d.profile || s.reason !== d.reason) pending++;
  }
  return {
    phase: pending === 0 ? 'Enforced' : 'InProgress',
    domains: wanted,
    matchedUsers: matched,
    enforcedUsers: enforced,
    message: pending === 0 ? `${enforced} of ${matched} users of ${wanted.join(', ')} enforced; the others are exempt or overridden` : `${pending} users still to update`,
  };
}

export const enforcementStep: Step<ProfileReconcile, 'Enforced'> = {
  name: 'enforcement',
  owns: ['Enforced'],
  run(r, conditions) {
    const e = plan(r);
    r.status.enforcement = e;
    if (e.phase === 'Enforced') conditions.set({ type: 'Enforced', status: 'True', reason: 'Enforced', message: e.message ?? '' });
    else conditions.set({ type: 'Enforced', status: 'False', reason: e.phase === 'Blocked' ? (e.reason ?? 'Blocked') : e.phase, message: e.message ?? (e.phase === 'NotRequested' ? 'spec.enforcement.domains is empty' : '') });
    return e.phase === 'InProgress' ? { requeueAfterMs: IN_PROGRESS_RECHECK_MS } : {};
  },
};
