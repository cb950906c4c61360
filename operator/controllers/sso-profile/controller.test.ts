// The SSOProfile reconcile end to end over fake caches and API: every step, and the deferred status write.
import { describe, expect, it } from 'vitest';
import type { SSOProfileStatus } from '../../../crds/api/index.ts';
import { KubeApiError } from '../../../kube/client.ts';
import { queueKey } from '../../queue-key.ts';
import type { ApiCall } from '../../test-doubles.ts';
import { reconcileSSOProfile } from './controller.ts';
import { contextWith, NS, profile } from './fixtures.ts';

const statusWrites = (calls: ApiCall[]) => calls.filter((c) => c.method === 'PATCH' && c.path.endsWith('/status')).map((c) => (c.body as { status: SSOProfileStatus }).status);
const notFound = () => {
  throw new KubeApiError(404, 'NotFound', 'not found', undefined);
};

describe('SSOProfile reconcile', () => {
  it('runs every step and writes all conditions, in order, for the current generation', async () => {
    const p = profile('okta');
    const { ctx, calls, queue } = contextWith({ profiles: [p], answer: (c) => (c.method === 'GET' ? notFound() : {}) });
    await reconcileSSOProfile(ctx, queueKey.ssoProfile(NS, 'okta'));
    // The key Secret is read from the informer's cache (empty): created, then status written.
    expect(calls.map((c) => c.method)).toEqual(['POST', 'PATCH']);
    const [status] = statusWrites(calls);
    expect(status?.observedGeneration).toBe(1);
    expect(status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual([
      'IdPConfigValid=True/Valid',
      'CertificateValid=True/Valid',
      'DomainsVerified=True/Verified',
      'SPKeyReady=True/Ready',
      'Tested=False/NotConfigured',
      'Enforced=False/NotRequested',
      'Ready=True/Ready',
      'ConfigRendered=True/Rendered',
    ]);
    expect(ctx.fragments.get(`${NS}/okta`)).toMatchObject({ ok: true });
    expect(queue.keys).toContain('Config');
  });

  it('records a step that throws in status instead of losing it, keeps the last observed generation, and fails for a retry', async () => {
    const published: SSOProfileStatus = {
      observedGeneration: 1,
      conditions: [{ type: 'Tested', status: 'False', reason: 'NotConfigured', message: 'set spec.test.email to test the connection', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 1 }],
    };
    const p = { ...profile('okta', {}, published), metadata: { ...profile('okta').metadata, generation: 2 } };
    const { ctx, calls } = contextWith({
      profiles: [p],
      answer: (c) => {
        if (c.method === 'POST') throw new KubeApiError(500, 'InternalError', 'POST secrets: 500 etcdserver: leader changed', undefined);
        return {};
      },
    });
    await expect(reconcileSSOProfile(ctx, queueKey.ssoProfile(NS, 'okta'))).rejects.toThrow('leader changed');
    const [status] = statusWrites(calls);
    const byType = Object.fromEntries((status?.conditions ?? []).map((c) => [c.type, c]));
    expect(byType.IdPConfigValid).toMatchObject({ status: 'True', observedGeneration: 2 });
    expect(byType.SPKeyReady).toMatchObject({ status: 'False', reason: 'ReconcileError', message: 'SP key failed: POST secrets: 500 etcdserver: leader changed' });
    expect(byType.Ready).toMatchObject({ status: 'False', reason: 'ReconcileError', message: 'SP key failed: POST secrets: 500 etcdserver: leader changed' });
    // Steps after the failed one did not run: their conditions keep their last value, or are Unknown.
    expect(byType.Tested).toMatchObject({ status: 'False', reason: 'NotConfigured' });
    expect(byType.Enforced).toMatchObject({ status: 'Unknown', reason: 'NotEvaluated' });
    expect(status?.observedGeneration).toBe(1);
    // The previous piece of the config stays: nothing was rendered from a half-run reconcile.
    expect(ctx.fragments.has(`${NS}/okta`)).toBe(false);
  });

  it('forgets a deleted profile and renders the config without it', async () => {
    const { ctx, queue } = contextWith();
    ctx.fragments.set(`${NS}/gone`, { ok: false, reason: 'x' });
    await reconcileSSOProfile(ctx, queueKey.ssoProfile(NS, 'gone'));
    expect(ctx.fragments.has(`${NS}/gone`)).toBe(false);
    expect(queue.keys).toEqual(['Config']);
  });
});
