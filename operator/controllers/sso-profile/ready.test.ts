// Ready and Reconciling summarised from the steps' conditions.
import { describe, expect, it } from 'vitest';
import type { DesiredCondition } from '../../conditions.ts';
import { ConditionBook } from '../steps.ts';
import { summariseReady } from './ready.ts';

const book = (...conditions: [string, DesiredCondition['status'], string][]) => {
  const b = new ConditionBook(undefined);
  for (const [type, status, reason] of conditions) b.set({ type, status, reason, message: `${type} is ${reason}` });
  return b;
};
const allValid = (): [string, DesiredCondition['status'], string][] => [
  ['IdPConfigValid', 'True', 'Valid'],
  ['CertificateValid', 'True', 'Valid'],
  ['DomainsVerified', 'True', 'Verified'],
  ['SPKeyReady', 'True', 'Ready'],
];

describe('summariseReady', () => {
  it('is True when every prerequisite holds and enforcement is not requested', () => {
    expect(summariseReady(book(...allValid(), ['Enforced', 'False', 'NotRequested']))).toEqual({ ready: { type: 'Ready', status: 'True', reason: 'Ready', message: 'the profile is valid and in effect' } });
  });

  it('takes the first prerequisite that does not hold', () => {
    const b = book(['IdPConfigValid', 'True', 'Valid'], ['CertificateValid', 'False', 'Expired'], ['DomainsVerified', 'False', 'DomainNotVerified'], ['SPKeyReady', 'True', 'Ready']);
    expect(summariseReady(b).ready).toEqual({ type: 'Ready', status: 'False', reason: 'Expired', message: 'CertificateValid is Expired' });
  });

  it('is False while enforcement is blocked, and Reconciling while it is in progress', () => {
    expect(summariseReady(book(...allValid(), ['Enforced', 'False', 'TestNotPassed'])).ready).toMatchObject({ status: 'False', reason: 'EnforcementBlocked', message: 'Enforced is TestNotPassed' });
    const inProgress = summariseReady(book(...allValid(), ['Enforced', 'False', 'InProgress']));
    expect(inProgress.ready).toMatchObject({ status: 'False', reason: 'EnforcementInProgress' });
    expect(inProgress.reconciling).toMatchObject({ type: 'Reconciling', status: 'True', reason: 'EnforcementInProgress' });
    expect(summariseReady(book(...allValid(), ['Enforced', 'True', 'Enforced'])).ready.status).toBe('True');
  });

  it('is False while latched enforcement is Degraded', () => {
    expect(summariseReady(book(...allValid(), ['Enforced', 'True', 'Enforced'], ['Degraded', 'True', 'TestFailed'])).ready).toEqual({ type: 'Ready', status: 'False', reason: 'EnforcementDegraded', message: 'Degraded is TestFailed' });
    expect(summariseReady(book(...allValid(), ['Enforced', 'True', 'Enforced'], ['Degraded', 'False', 'AsExpected'])).ready.status).toBe('True');
  });

  it('says which step failed', () => {
    const r = summariseReady(book(...allValid()), { step: 'SP key', error: new Error('GET secrets: 500') });
    expect(r.ready).toEqual({ type: 'Ready', status: 'False', reason: 'ReconcileError', message: 'SP key failed: GET secrets: 500' });
  });
});
