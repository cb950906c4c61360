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
