// The SSOProfile SP key step: create the owned Secret once, refuse to take over a Secret of the
// same name that Gatehouse did not create, and issue test links that expire and are renewed.
import { describe, expect, it } from 'vitest';
import { RENEW_TEST_LINK_ANNOTATION, type SSOProfile } from '../../../crds/api/index.ts';
import { KubeApiError } from '../../../kube/client.ts';
import type { ApiCall } from '../../test-doubles.ts';
import { contextWith, NS, profile, reconcileOf } from './fixtures.ts';
import { spKeyStep } from './sp-key.ts';

describe('SP key step', () => {
  it('creates the key Secret owned by the profile, publishes the endpoints and the test link, then serves from memory', async () => {
    const p = profile('okta', { test: { email: 'Admin@acme.com' } });
    const { ctx, calls } = contextWith({
      profiles: [p],
      answer: (c) => {
        if (c.method === 'GET') throw new KubeApiError(404, 'NotFound', 'not found', undefined);
        return {};
      },
    });
    const r = reconcileOf(ctx, p);
    await spKeyStep.run(r, r.conditions);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([`GET /api/v1/namespaces/${NS}/secrets/okta-sp-key`, `POST /api/v1/namespaces/${NS}/secrets`]);
    const secret = calls[1]?.body as { metadata: { ownerReferences: { uid: string }[] }; data: Record<string, string> };
    expect(secret.metadata.ownerReferences[0]?.uid).toBe('uid-okta');
    expect(Buffer.from(secret.data['test-email'] ?? '', 'base64').toString()).toBe('admin@acme.com');
    expect(r.conditions.get('SPKeyReady')).toMatchObject({ status: 'True', reason: 'Ready', message: 'SP key pair kept in Secret okta-sp-key' });
    expect(r.status.sp?.acsURL).toBe(`https://sso.example/saml/${NS}/okta/acs`);
    expect(r.status.test?.url).toBe(`https://sso.example/test/${r.keys.test?.token}`);
    const again = reconcileOf(ctx, p);
    await spKeyStep.run(again, again.conditions);
    expect(calls).toHaveLength(2);
    expect(again.keys.test?.token).toBe(r.keys.test?.token);
  });

  it('refuses a Secret of the same name that is not Gatehouse\'s for this profile', async () => {
    const p = profile('okta');
    const { ctx, calls } = contextWith({ profiles: [p], answer: () => ({ metadata: { labels: {} }, data: {} }) });
    const r = reconcileOf(ctx, p);
    await spKeyStep.run(r, r.conditions);
    expect(calls.map((c) => c.method)).toEqual(['GET']);
    expect(r.conditions.get('SPKeyReady')).toMatchObject({ status: 'False', reason: 'SecretNameTaken' });
    expect(r.keys).toEqual({});
    expect(r.status.test).toBeUndefined();
  });

  describe('the test link', () => {
    const T0 = new Date('2026-03-01T12:00:00Z');
    /** One Secret kept like the API server would, so a restart (an empty cache) reads it back. */
    function secretStore() {
      let secret: { metadata: Record<string, unknown>; data: Record<string, string> } | undefined;
      return {
        answer: (c: ApiCall) => {
          if (c.method === 'GET') {
            if (!secret) throw new KubeApiError(404, 'NotFound', 'not found', undefined);
            return secret;
          }
          secret = structuredClone(c.body) as typeof secret;
          return secret;
        },
        data: (key: string) => (secret?.data[key] ? Buffer.from(secret.data[key], 'base64').toString() : undefined),
      };
    }
    const withAnnotation = (p: SSOProfile, value: string): SSOProfile => ({ ...p, metadata: { ...p.metadata, annotations: { [RENEW_TEST_LINK_ANNOTATION]: value } } });

    async function step(ctx: ReturnType<typeof contextWith>['ctx'], p: SSOProfile, now: Date) {
      const r = reconcileOf(ctx, p);
      r.now = now;
      const result = await spKeyStep.run(r, r.conditions);
      return { r, result };
    }

    it('expires after the installation\'s lifetime, published in status.test.expiresAt, and comes back when it does', async () => {
      const p = profile('okta', { test: { email: 'admin@acme.com' } });
      const store = secretStore();
      const { ctx } = contextWith({ profiles: [p], answer: store.answer });
      const { r, result } = await step(ctx, p, T0);
      expect(r.status.test).toEqual({ url: `https://sso.example/test/${r.keys.test?.token}`, expiresAt: '2026-03-02T12:00:00Z' });
      expect(store.data('test-expires-at')).toBe('2026-03-02T12:00:00Z');
      expect(result.requeueAfterMs).toBe(24 * 3_600_000 + 1000);
      // After the expiry the same link stays (the sp-server refuses it with its code) and the condition says how to renew it.
      const later = await step(ctx, p, new Date('2026-03-02T12:00:01Z'));
      expect(later.r.keys.test?.token).toBe(r.keys.test?.token);
      expect(later.result.requeueAfterMs).toBeUndefined();
      expect(later.r.conditions.get('SPKeyReady')).toMatchObject({ status: 'True', message: expect.stringContaining(`the test link expired at 2026-03-02T12:00:00Z: set or change the annotation ${RENEW_TEST_LINK_ANNOTATION}`) });
    });

    it('is renewed when the renew annotation is set or changed, not when it stays, and survives a restart', async () => {
      const p = profile('okta', { test: { email: 'admin@acme.com' } });
      const store = secretStore();
      const { ctx } = contextWith({ profiles: [p], answer: store.answer });
      const first = (await step(ctx, p, T0)).r.keys.test;
      const renewedAt = new Date('2026-03-03T00:00:00Z');
      const second = (await step(ctx, withAnnotation(p, 'a'), renewedAt)).r.keys.test;
      expect(second?.token).not.toBe(first?.token);
      expect(second?.expiresAt).toBe('2026-03-04T00:00:00Z');
      ctx.spKeys.clear();
      expect((await step(ctx, withAnnotation(p, 'a'), new Date('2026-03-03T01:00:00Z'))).r.keys.test?.token).toBe(second?.token);
      const third = (await step(ctx, withAnnotation(p, 'b'), renewedAt)).r.keys.test;
      expect(third?.token).not.toBe(second?.token);
      expect(store.data('test-renewal')).toBe('b');
    });

    it('is renewed when spec.test changes, dropped when it is removed, and replaced when stored without an expiry', async () => {
      const p = profile('okta', { test: { email: 'admin@acme.com' } });
      const store = secretStore();
      const { ctx } = contextWith({ profiles: [p], answer: store.answer });
      const first = (await step(ctx, p, T0)).r.keys.test;
      const other = (await step(ctx, profile('okta', { test: { email: 'other@acme.com' } }), T0)).r.keys.test;
      expect(other).toMatchObject({ email: 'other@acme.com' });
      expect(other?.token).not.toBe(first?.token);
      const none = await step(ctx, profile('okta'), T0);
      expect(none.r.keys.test).toBeUndefined();
      expect(none.r.status.test).toBeUndefined();
      expect(store.data('test-token')).toBeUndefined();
      // A Secret written before links expired: token and address, no expiry.
      const legacy = secretStore();
      const { ctx: ctx2 } = contextWith({ profiles: [p], answer: legacy.answer });
      await step(ctx2, p, T0);
      const body = legacy.answer({ method: 'GET', path: '' }) as { data: Record<string, string> };
      delete body.data['test-expires-at'];
      ctx2.spKeys.clear();
      const replaced = (await step(ctx2, p, T0)).r.keys.test;
      expect(replaced?.expiresAt).toBe('2026-03-02T12:00:00Z');
      expect(legacy.data('test-expires-at')).toBe('2026-03-02T12:00:00Z');
    });
  });
});
