// Step 4, the test login: reads the result the sp-server wrote into status.test. Owns Tested.
import { isTested } from '../../organization.ts';
import type { Step } from '../steps.ts';
import type { ProfileReconcile } from './state.ts';

export const testedStep: Step<ProfileReconcile, 'Tested'> = {
  name: 'test',
  owns: ['Tested'],
  run(r, conditions) {
    const { profile: p, old } = r;
    if (!p.spec.test) conditions.set({ type: 'Tested', status: 'False', reason: 'NotConfigured', message: 'set spec.test.email to test the connection' });
    else if (isTested(p)) conditions.set({ type: 'Tested', status: 'True', reason: 'Succeeded', message: `${old.test?.email} signed in through the IdP${old.test?.completedTime ? ` at ${old.test.completedTime}` : ''}` });
    else if (old.test?.result === 'Failed' && (old.test.email ?? '').toLowerCase() === p.spec.test.email.toLowerCase()) conditions.set({ type: 'Tested', status: 'False', reason: 'TestFailed', message: `${old.test.errorCode ?? 'error'}: ${old.test.message ?? 'the test login failed'}` });
    else conditions.set({ type: 'Tested', status: 'False', reason: 'TestPending', message: `waiting for ${p.spec.test.email} to sign in through the test link` });
    return {};
  },
};
