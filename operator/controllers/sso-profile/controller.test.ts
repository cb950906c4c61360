// The SSOProfile reconcile end to end over fake caches and API: every step, and the deferred status write.
import { describe, expect, it } from 'vitest';
import { ENFORCEMENT_FINALIZER, type SSOProfileStatus } from '../../../crds/api/index.ts';
import { KubeApiError } from '../../../kube/client.ts';
import { queueKey } from '../../queue-key.ts';
import type { ApiCall } from '../../test-doubles.ts';
import { reconcileSSOProfile } from './controller.ts';
import { contextWith, NS, profile, user } from './fixtures.ts';

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

  describe('enforcement finalizer', () => {
    const okAnswer = (c: ApiCall) => (c.method === 'GET' ? notFound() : {});
    const finalizerApplies = (calls: ApiCall[]) => calls.filter((c) => c.method === 'PATCH' && c.path === `/apis/sso.gatehouse.dev/v1alpha1/namespaces/${NS}/ssoprofiles/okta`).map((c) => (c.body as { metadata: { finalizers?: string[]; uid?: string } }).metadata);
    const latchedStatus: SSOProfileStatus = { test: { lastPassed: { email: 'admin@acme.com', time: '2026-01-01T00:00:00Z' } }, enforcement: { phase: 'Enforced', domains: ['acme.com'], latchedDomains: ['acme.com'] } };
    const enforcedSpec = { test: { email: 'admin@acme.com' }, enforcement: { domains: ['acme.com'] } };

    it('is added once enforcement latches, with the degraded gauge at 0', async () => {
      const p = profile('okta', enforcedSpec, { test: { result: 'Succeeded', email: 'admin@acme.com' } });
      const { ctx, calls } = contextWith({ profiles: [p], users: [user('a@acme.com')], answer: okAnswer });
      await reconcileSSOProfile(ctx, queueKey.ssoProfile(NS, 'okta'));
      expect(finalizerApplies(calls)).toEqual([{ name: 'okta', namespace: NS, uid: 'uid-okta', finalizers: [ENFORCEMENT_FINALIZER] }]);
      const [status] = statusWrites(calls);
      expect(status?.enforcement?.latchedDomains).toEqual(['acme.com']);
      expect(status?.test?.lastPassed).toMatchObject({ email: 'admin@acme.com' });
      expect(status?.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({ status: 'False' });
      expect(await ctx.metrics.registry.getSingleMetricAsString('gatehouse_operator_enforcement_degraded')).toContain(`gatehouse_operator_enforcement_degraded{namespace="${NS}",profile="okta"} 0`);
    });

    it('is removed when the spec lifts enforcement, with an Event', async () => {
      const p = profile('okta', { test: { email: 'admin@acme.com' } }, latchedStatus);
      p.metadata.finalizers = [ENFORCEMENT_FINALIZER];
      const { ctx, calls, events } = contextWith({ profiles: [p], answer: okAnswer });
      await reconcileSSOProfile(ctx, queueKey.ssoProfile(NS, 'okta'));
      expect(finalizerApplies(calls)).toEqual([{ name: 'okta', namespace: NS, uid: 'uid-okta' }]);
      expect(events).toContainEqual({ type: 'Normal', reason: 'EnforcementLifted', message: 'SSO enforcement lifted on acme.com: removed from spec.enforcement.domains' });
    });

    it('records degradation as a Warning Event and in the gauge', async () => {
      const p = profile('okta', enforcedSpec, { ...latchedStatus, test: { ...latchedStatus.test, result: 'Failed', email: 'admin@acme.com', errorCode: 'UNTRUSTED_CERTIFICATE', message: 'unknown signer' } });
      p.metadata.finalizers = [ENFORCEMENT_FINALIZER];
      const { ctx, calls, events } = contextWith({ profiles: [p], answer: okAnswer });
      await reconcileSSOProfile(ctx, queueKey.ssoProfile(NS, 'okta'));
      expect(finalizerApplies(calls)).toEqual([]);
      expect(statusWrites(calls)[0]?.enforcement).toMatchObject({ phase: 'Enforced', latchedDomains: ['acme.com'] });
      expect(events.find((e) => e.reason === 'EnforcementDegraded')).toMatchObject({ type: 'Warning', message: expect.stringMatching(/^TestFailed: SSO stays enforced on acme.com/) });
      expect(await ctx.metrics.registry.getSingleMetricAsString('gatehouse_operator_enforcement_degraded')).toContain(`gatehouse_operator_enforcement_degraded{namespace="${NS}",profile="okta"} 1`);
    });

    it('holds a deleted profile until no user\'s decision names it, then records the lift and lets go', async () => {
      const p = profile('okta', enforcedSpec, latchedStatus);
      p.metadata.finalizers = [ENFORCEMENT_FINALIZER];
      (p.metadata as { deletionTimestamp?: string }).deletionTimestamp = '2026-04-01T00:00:00Z';
      const still = user('a@acme.com', { available: true, enforced: true, reason: 'DomainEnforced', profile: 'okta', message: '', since: '2026-01-01T00:00:00Z' });
      const waiting = contextWith({ profiles: [p], users: [still], answer: okAnswer });
      waiting.ctx.fragments.set(`${NS}/okta`, { ok: false, reason: 'x' });
      expect(await reconcileSSOProfile(waiting.ctx, queueKey.ssoProfile(NS, 'okta'))).toEqual({ requeueAfterMs: 1000 });
      expect(waiting.calls).toEqual([]);
      expect(waiting.ctx.fragments.get(`${NS}/okta`)).toEqual({ ok: false, reason: 'the SSOProfile is being deleted' });
      const lifted = user('a@acme.com', { available: false, enforced: false, reason: 'NoProfile', message: '', since: '2026-04-01T00:00:00Z' });
      const done = contextWith({ profiles: [p], users: [lifted], answer: okAnswer });
      expect(await reconcileSSOProfile(done.ctx, queueKey.ssoProfile(NS, 'okta'))).toEqual({});
      expect(finalizerApplies(done.calls)).toEqual([{ name: 'okta', namespace: NS, uid: 'uid-okta' }]);
      expect(done.events).toEqual([{ type: 'Normal', reason: 'EnforcementLifted', message: "the SSOProfile is being deleted: SSO enforcement lifted on acme.com; every user's decision was recomputed without it" }]);
    });
  });
});
