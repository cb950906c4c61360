// What the login path writes to the sign-in activity: one entry per completed sign-in, test or
// refusal of a known organization, with the refusal table's words for the user and the
// administrator (never the hint, which may quote what the IdP sent).
import { isOIDCProfile } from '../../crds/api/index.ts';
import type { ProfileRef } from '../config/store.ts';
import { REFUSALS, type RefusalCode } from '../refusals.ts';
import type { ActivityEntry, ActivityStore } from './store.ts';

function base(ref: ProfileRef, outcome: ActivityEntry['outcome'], assertedEmail: string | undefined): ActivityEntry {
  return {
    time: new Date().toISOString(),
    outcome,
    ...(assertedEmail ? { email: assertedEmail } : {}),
    profile: ref.profile.name,
    protocol: isOIDCProfile(ref.profile) ? 'oidc' : 'saml',
  };
}

/** A sign-in (or test sign-in) that succeeded, as the IdP asserted it. */
export function recordSuccess(store: ActivityStore, ref: ProfileRef, outcome: 'signed-in' | 'test-passed', assertedEmail: string): void {
  store.record(ref.org.namespace, base(ref, outcome, assertedEmail));
}

/** A refused sign-in (or failed test) with its code; `assertedEmail` only when the IdP said who signed in. */
export function recordRefusal(store: ActivityStore, ref: ProfileRef, code: RefusalCode, outcome: 'refused' | 'test-failed', assertedEmail?: string): void {
  const refusal = REFUSALS[code];
  store.record(ref.org.namespace, { ...base(ref, outcome, assertedEmail), code, message: refusal.userMessage, advice: refusal.adminAdvice });
}
