// Step 4, the test login: reads the result the sp-server wrote into status.test, and keeps the
// last passed test (status.test.lastPassed, the operator's own field) so that a later pending or
// failed attempt cannot erase it. Owns Tested, which reflects the last passed test.
import type { SSOProfileStatus } from '../../../crds/api/index.ts';
import { rfc3339 } from '../../conditions.ts';
import type { Step } from '../steps.ts';
import type { ProfileReconcile } from './state.ts';

type LastPassed = NonNullable<NonNullable<SSOProfileStatus['test']>['lastPassed']>;

/** The last passed test after this reconcile: the sp-server's current success for spec.test.email, when newer. */
export function nextLastPassed(r: Pick<ProfileReconcile, 'profile' | 'old' | 'now'>): LastPassed | undefined {
  const { profile: p, old, now } = r;
  const kept = old.test?.lastPassed;
  const want = p.spec.test?.email.toLowerCase();
  const t = old.test;
  if (!want || t?.result !== 'Succeeded' || (t.email ?? '').toLowerCase() !== want) return kept;
  const time = t.completedTime ?? t.attemptedTime ?? rfc3339(now);
  const newer = !kept || kept.email.toLowerCase() !== want || Date.parse(kept.time) < Date.parse(time);
  return newer ? { email: t.email ?? want, time } : kept;
}

export const testedStep: Step<ProfileReconcile, 'Tested'> = {
  name: 'test',
  owns: ['Tested'],
  run(r, conditions) {
    const { profile: p, old } = r;
    const lastPassed = nextLastPassed(r);
    if (lastPassed) r.status.test = { ...r.status.test, lastPassed };
    const want = p.spec.test?.email.toLowerCase();
    const current = old.test;
    const currentIsMine = !!want && (current?.email ?? '').toLowerCase() === want;
    if (!p.spec.test) conditions.set({ type: 'Tested', status: 'False', reason: 'NotConfigured', message: 'set spec.test.email to test the connection' });
    else if (lastPassed && lastPassed.email.toLowerCase() === want) {
      // Still True: the last passed test is what entering enforcement needs; the failure is told apart by its reason.
      const failed = currentIsMine && current?.result === 'Failed';
      const latest = failed ? `; the latest attempt failed: ${current?.errorCode ?? 'error'}: ${current?.message ?? 'the test login failed'}` : currentIsMine && current?.result === 'Pending' ? '; a new attempt is pending' : '';
      conditions.set({ type: 'Tested', status: 'True', reason: failed ? 'LatestAttemptFailed' : 'Succeeded', message: `${lastPassed.email} signed in through the IdP at ${lastPassed.time}${latest}` });
    } else if (currentIsMine && current?.result === 'Failed') conditions.set({ type: 'Tested', status: 'False', reason: 'TestFailed', message: `${current.errorCode ?? 'error'}: ${current.message ?? 'the test login failed'}` });
    else conditions.set({ type: 'Tested', status: 'False', reason: 'TestPending', message: `waiting for ${p.spec.test.email} to sign in through the test link` });
    return {};
  },
};
