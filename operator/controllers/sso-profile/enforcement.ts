// Step 5, enforcement: entered once the IdP, its test login and the domains are in order, then
// latched (status.enforcement.latchedDomains) so that nothing but the spec lifts it; counted from
// the per-user decisions, so status.enforcement is resumable after any restart. While latched,
// a broken prerequisite is reported as Degraded instead of giving passwords back.
// Owns Enforced, Degraded and status.enforcement.
import type { ManagedUser, SSOProfileStatus } from '../../../crds/api/index.ts';
import type { DesiredCondition } from '../../conditions.ts';
import { stableStringify } from '../../context.ts';
import { decide, emailDomain, type Decision, type ProfileView } from '../../decisions.ts';
import { isTested, latchedDomains, profileView } from '../../organization.ts';
import type { Step } from '../steps.ts';
import { countDebounceMs } from '../watch.ts';
import type { ProfileReconcile } from './state.ts';

type Enforcement = NonNullable<SSOProfileStatus['enforcement']>;
type Blocker = { reason: string; message: string };

/** How soon an enforcement in progress counts its users again. */
const IN_PROGRESS_RECHECK_MS = 2000;

const isTrue = (r: ProfileReconcile, type: string) => r.conditions.get(type)?.status === 'True';

/** Why enforcement cannot be entered now (on the domains not latched yet), if it cannot. */
function entryBlocker(r: ProfileReconcile, wanted: readonly string[]): Blocker | undefined {
  const { profile: p, served } = r;
  if (!isTrue(r, 'IdPConfigValid') || !isTrue(r, 'CertificateValid')) {
    const bad = !isTrue(r, 'IdPConfigValid') ? r.conditions.get('IdPConfigValid') : r.conditions.get('CertificateValid');
    return { reason: 'IdPConfigInvalid', message: `the IdP configuration or its certificates are not valid: ${bad?.message}` };
  }
  const secret = r.conditions.get('ClientSecretReady');
  if (secret?.status === 'False') return { reason: 'ClientSecretUnavailable', message: secret.message };
  if (!isTested(p)) return { reason: 'TestNotPassed', message: p.spec.test ? `${p.spec.test.email} has not completed a successful test login yet` : 'set spec.test.email and complete a test login first' };
  const bad = wanted.filter((d) => !served.includes(d));
  if (bad.length > 0) return { reason: 'DomainNotVerified', message: `not Verified (or served by another profile): ${bad.join(', ')}` };
  return undefined;
}

/** What is broken about latched enforcement: SSO sign-in fails while passwords stay refused. */
export function degradation(r: ProfileReconcile): Blocker | undefined {
  const idp = r.conditions.get('IdPConfigValid');
  const cert = r.conditions.get('CertificateValid');
  const key = r.conditions.get('SPKeyReady');
  const want = r.profile.spec.test?.email.toLowerCase();
  const attempt = r.old.test;
  if (idp?.status === 'False') return { reason: idp.reason === 'MetadataFetchFailed' ? 'MetadataFetchFailed' : 'IdPConfigInvalid', message: idp.message };
  if (cert?.status === 'False') return { reason: cert.reason === 'Expired' ? 'CertificateExpired' : 'CertificateInvalid', message: cert.message };
  if (key?.status === 'False') return { reason: 'SPKeyUnavailable', message: key.message };
  // OIDC only (absent for SAML); a secret read before that still serves keeps sign-in working.
  const secret = r.conditions.get('ClientSecretReady');
  if (secret?.status === 'False' && r.clientSecret === undefined) return { reason: 'ClientSecretUnavailable', message: secret.message };
  if (want && attempt?.result === 'Failed' && (attempt.email ?? '').toLowerCase() === want) return { reason: 'TestFailed', message: `the latest test login failed: ${attempt.errorCode ?? 'error'}: ${attempt.message ?? ''}` };
  return undefined;
}

/**
 * A user's domain and decision as last counted, by user object (the cache replaces an object on
 * change, never mutates it) and decision inputs: while enforcement is in progress the profile
 * counts every user twice a second, and only the users changed since need deciding again.
 */
type Counted = Pick<Decision, 'enforced' | 'reason' | 'profile'> & { domain: string; inputs: string };
const counted = new WeakMap<ManagedUser, Counted>();
let lastInputs = '';

/** The decision inputs as one string; an unchanged one is the same string, so comparing it is cheap. */
function inputsKey(verified: ReadonlySet<string>, views: readonly ProfileView[]): string {
  const sets = (v: ProfileView) => ({ ...v, servedDomains: [...v.servedDomains].sort(), enforcingDomains: [...v.enforcingDomains].sort(), exempt: [...v.exempt].sort() });
  const key = stableStringify({ verified: [...verified].sort(), views: views.map(sets) });
  if (key !== lastInputs) lastInputs = key;
  return lastInputs;
}

function countedDecision(u: ManagedUser, inputs: string, decideNow: () => Decision): Counted {
  const known = counted.get(u);
  if (known?.inputs === inputs) return known;
  const d = decideNow();
  const c: Counted = { domain: emailDomain(u.spec.email), inputs, enforced: d.enforced, reason: d.reason, ...(d.profile !== undefined ? { profile: d.profile } : {}) };
  counted.set(u, c);
  return c;
}

function plan(r: ProfileReconcile): Enforcement {
  const { profile: p, org } = r;
  const wanted = [...(p.spec.enforcement?.domains ?? [])].sort();
  if (wanted.length === 0) return { phase: 'NotRequested' };
  const blocker = entryBlocker(r, wanted);
  // Entering takes every wanted domain at once; once latched, a domain stays until the spec drops it.
  const latched = blocker ? latchedDomains(p).sort() : wanted;
  if (latched.length === 0) return { phase: 'Blocked', reason: blocker?.reason, message: blocker?.message, domains: wanted };
  // Count with the decisions users will get once this status is published.
  const valid = isTrue(r, 'IdPConfigValid') && isTrue(r, 'CertificateValid');
  const views = org.profiles.map((s) => (s.metadata.name === p.metadata.name ? profileView(p, org, { valid, enforcingDomains: latched }) : profileView(s, org)));
  const latchedSet = new Set(latched);
  const inputs = inputsKey(org.verified, views);
  let matched = 0;
  let enforced = 0;
  let pending = 0;
  for (const u of r.ctx.users.inNamespace(p.metadata.namespace) as Iterable<ManagedUser>) {
    const d = countedDecision(u, inputs, () => decide(u, org.verified, views, false));
    if (!latchedSet.has(d.domain)) continue;
    matched++;
    const s = u.status?.sso;
    if (s?.enforced && s.profile === p.metadata.name) enforced++;
    if (!s || s.enforced !== d.enforced || s.profile !== d.profile || s.reason !== d.reason) pending++;
  }
  const waiting = wanted.filter((d) => !latchedSet.has(d));
  const notYet = blocker && waiting.length > 0 ? `; not yet enforced on ${waiting.join(', ')}: ${blocker.message}` : '';
  return {
    phase: pending === 0 ? 'Enforced' : 'InProgress',
    ...(notYet ? { reason: blocker?.reason } : {}),
    domains: wanted,
    latchedDomains: latched,
    matchedUsers: matched,
    enforcedUsers: enforced,
    message: (pending === 0 ? `${enforced} of ${matched} users of ${latched.join(', ')} enforced; the others are exempt or overridden` : `${pending} users still to update`) + notYet,
  };
}

function enforcedCondition(e: Enforcement): DesiredCondition & { type: 'Enforced' } {
  const message = e.message ?? (e.phase === 'NotRequested' ? 'spec.enforcement.domains is empty' : '');
  if (e.phase === 'Enforced' && !e.reason) return { type: 'Enforced', status: 'True', reason: 'Enforced', message };
  // Latched and counted, but a newly wanted domain cannot enter: its blocker is the reason.
  const reason = e.phase === 'Blocked' || (e.phase === 'Enforced' && e.reason) ? (e.reason ?? 'Blocked') : e.phase;
  return { type: 'Enforced', status: 'False', reason, message };
}

export const enforcementStep: Step<ProfileReconcile, 'Enforced' | 'Degraded'> = {
  name: 'enforcement',
  owns: ['Enforced', 'Degraded'],
  run(r, conditions) {
    const e = plan(r);
    r.status.enforcement = e;
    conditions.set(enforcedCondition(e));
    if (e.latchedDomains?.length) {
      const broken = degradation(r);
      const held = e.latchedDomains.join(', ');
      if (broken) {
        conditions.set({
          type: 'Degraded',
          status: 'True',
          reason: broken.reason,
          message: `SSO stays enforced on ${held} (password login refused), but SSO sign-in is failing: ${broken.message}. Fix the cause, or remove the domains from spec.enforcement.domains to lift enforcement.`,
        });
      } else conditions.set({ type: 'Degraded', status: 'False', reason: 'AsExpected', message: `enforcement on ${held} is healthy` });
    }
    return e.phase === 'InProgress' ? { requeueAfterMs: Math.max(IN_PROGRESS_RECHECK_MS, countDebounceMs(r.ctx.users.sizeIn(r.profile.metadata.namespace))) } : {};
  },
};
