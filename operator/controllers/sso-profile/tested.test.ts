// The SSOProfile test step: the Tested condition from the sp-server's status.test.
import { describe, expect, it } from 'vitest';
import { contextWith, profile, reconcileOf } from './fixtures.ts';
import { testedStep } from './tested.ts';

const tested = async (spec: Parameters<typeof profile>[1], status?: Parameters<typeof profile>[2]) => {
  const p = profile('okta', spec, status);
  const { ctx } = contextWith({ profiles: [p] });
  const r = reconcileOf(ctx, p);
  await testedStep.run(r, r.conditions);
  return r.conditions.get('Tested');
};

describe('test step', () => {
  it('asks for a test address when none is set', async () => {
    expect(await tested({})).toMatchObject({ status: 'False', reason: 'NotConfigured' });
  });

  it('is True once the sp-server recorded a success for the same address, in any case', async () => {
    expect(await tested({ test: { email: 'Admin@acme.com' } }, { test: { result: 'Succeeded', email: 'admin@ACME.com', completedTime: '2026-01-02T00:00:00Z' } })).toMatchObject({
      status: 'True',
      reason: 'Succeeded',
      message: 'admin@ACME.com signed in through the IdP at 2026-01-02T00:00:00Z',
    });
  });

  it('reports a failed test login with its error code', async () => {
    expect(await tested({ test: { email: 'admin@acme.com' } }, { test: { result: 'Failed', email: 'admin@acme.com', errorCode: 'SIGNATURE_INVALID', message: 'bad signature' } })).toMatchObject({
      status: 'False',
      reason: 'TestFailed',
      message: 'SIGNATURE_INVALID: bad signature',
    });
  });

  it('waits when the recorded result is for another address', async () => {
    expect(await tested({ test: { email: 'new@acme.com' } }, { test: { result: 'Succeeded', email: 'old@acme.com' } })).toMatchObject({ status: 'False', reason: 'TestPending' });
  });
});

describe('last passed test', () => {
  const reconciled = (status: Parameters<typeof profile>[2]) => {
    const p = profile('okta', { test: { email: 'admin@acme.com' } }, status);
    const { ctx } = contextWith({ profiles: [p] });
    const r = reconcileOf(ctx, p);
    testedStep.run(r, r.conditions);
    return r;
  };

  it('is kept by the operator from the sp-server\'s success', () => {
    const r = reconciled({ test: { result: 'Succeeded', email: 'admin@acme.com', completedTime: '2026-01-02T00:00:00Z' } });
    expect(r.status.test?.lastPassed).toEqual({ email: 'admin@acme.com', time: '2026-01-02T00:00:00Z' });
  });

  it('survives a later failed or pending attempt, and Tested stays True with the failure told apart', () => {
    const lastPassed = { email: 'admin@acme.com', time: '2026-01-02T00:00:00Z' };
    const failed = reconciled({ test: { lastPassed, result: 'Failed', email: 'admin@acme.com', errorCode: 'UNTRUSTED_CERTIFICATE', message: 'unknown signer' } });
    expect(failed.status.test?.lastPassed).toEqual(lastPassed);
    expect(failed.conditions.get('Tested')).toMatchObject({
      status: 'True',
      reason: 'LatestAttemptFailed',
      message: 'admin@acme.com signed in through the IdP at 2026-01-02T00:00:00Z; the latest attempt failed: UNTRUSTED_CERTIFICATE: unknown signer',
    });
    const pending = reconciled({ test: { lastPassed, result: 'Pending', email: 'admin@acme.com' } });
    expect(pending.status.test?.lastPassed).toEqual(lastPassed);
    expect(pending.conditions.get('Tested')).toMatchObject({ status: 'True', reason: 'Succeeded' });
  });

  it('moves to a newer success only', () => {
    const lastPassed = { email: 'admin@acme.com', time: '2026-01-03T00:00:00Z' };
    expect(reconciled({ test: { lastPassed, result: 'Succeeded', email: 'admin@acme.com', completedTime: '2026-01-02T00:00:00.500Z' } }).status.test?.lastPassed).toEqual(lastPassed);
    expect(reconciled({ test: { lastPassed, result: 'Succeeded', email: 'admin@acme.com', completedTime: '2026-01-04T00:00:00.500Z' } }).status.test?.lastPassed).toEqual({ email: 'admin@acme.com', time: '2026-01-04T00:00:00.500Z' });
  });
});
