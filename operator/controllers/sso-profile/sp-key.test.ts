// The SSOProfile SP key step: keep the key pair in the profile's entry of the organization's
// shared gatehouse-sp-keys Secret, drop entries of deleted profiles, retry a lost race, refuse
// to take over a Secret of that name that Gatehouse did not create, and issue test links that
// expire and are renewed.
import { describe, expect, it } from 'vitest';
import { RENEW_TEST_LINK_ANNOTATION, type SSOProfile } from '../../../crds/api/index.ts';
import { KubeApiError } from '../../../kube/client.ts';
import type { Context, SecretObject } from '../../context.ts';
import { forgetSPKeyEntry, SP_KEYS_LABEL } from '../../sp-key-store.ts';
import { cacheOf, type ApiCall } from '../../test-doubles.ts';
import { contextWith, NS, profile, reconcileOf } from './fixtures.ts';
import { spKeyStep } from './sp-key.ts';

type SecretBody = { metadata: { name: string; resourceVersion?: string; labels: Record<string, string>; ownerReferences: { uid: string; controller?: boolean }[] }; data: Record<string, string> };
const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString();
const withSecret = (ctx: Context, secret: SecretObject) => Object.assign(ctx, { spKeySecrets: cacheOf([secret]) });
const PATH = `/api/v1/namespaces/${NS}/secrets`;

describe('SP key step', () => {
  it('creates the shared key Secret with the profile as an owner, publishes the endpoints and the test link, then serves from memory', async () => {
    const p = profile('okta', { test: { email: 'Admin@acme.com' } });
    const { ctx, calls } = contextWith({ profiles: [p] });
    const r = reconcileOf(ctx, p);
    await spKeyStep.run(r, r.conditions);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([`POST ${PATH}`]);
    const secret = calls[0]?.body as SecretBody;
    expect(secret.metadata.name).toBe('gatehouse-sp-keys');
    expect(secret.metadata.labels[SP_KEYS_LABEL]).toBe('true');
    expect(secret.metadata.ownerReferences).toEqual([{ apiVersion: 'sso.gatehouse.dev/v1alpha1', kind: 'SSOProfile', name: 'okta', uid: 'uid-okta' }]);
    expect(unb64(secret.data['okta.test-email'])).toBe('admin@acme.com');
    expect(unb64(secret.data['okta.uid'])).toBe('uid-okta');
    expect(unb64(secret.data['okta.tls.crt'])).toContain('BEGIN CERTIFICATE');
    expect(r.conditions.get('SPKeyReady')).toMatchObject({ status: 'True', reason: 'Ready', message: 'SP key pair kept in Secret gatehouse-sp-keys' });
    expect(r.status.sp?.acsURL).toBe(`https://sso.example/saml/${NS}/okta/acs`);
    expect(r.status.test?.url).toBe(`https://sso.example/test/${r.keys.test?.token}`);
    const again = reconcileOf(ctx, p);
    await spKeyStep.run(again, again.conditions);
    expect(calls).toHaveLength(1);
    expect(again.keys.test?.token).toBe(r.keys.test?.token);
  });

  it('adds its entry next to a sibling profile\'s, drops entries of deleted or re-created profiles, and keeps a stored key', async () => {
    const okta = profile('okta');
    const entra = profile('entra');
    const { ctx, calls } = contextWith({ profiles: [okta, entra] });
    const stored = { 'entra.tls.key': b64('KEY'), 'entra.tls.crt': b64('CRT'), 'entra.uid': b64('uid-entra'), 'gone.tls.key': b64('x'), 'gone.uid': b64('uid-gone'), 'okta.tls.key': b64('OLD'), 'okta.uid': b64('uid-of-a-deleted-okta') };
    withSecret(ctx, { metadata: { name: 'gatehouse-sp-keys', namespace: NS, resourceVersion: '7', labels: { [SP_KEYS_LABEL]: 'true' } }, data: stored });
    const r = reconcileOf(ctx, okta);
    await spKeyStep.run(r, r.conditions);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([`PUT ${PATH}/gatehouse-sp-keys`]);
    const body = calls[0]?.body as SecretBody;
    expect(body.metadata.resourceVersion).toBe('7');
    expect(Object.keys(body.data).sort()).toEqual(['entra.tls.crt', 'entra.tls.key', 'entra.uid', 'okta.tls.crt', 'okta.tls.key', 'okta.uid']);
    expect(unb64(body.data['okta.tls.key'])).not.toBe('OLD');
    expect(body.metadata.ownerReferences.map((o) => o.uid).sort()).toEqual(['uid-entra', 'uid-okta']);
    // The sibling's key is served from the Secret as it is: no write.
    const e = reconcileOf(ctx, entra);
    await spKeyStep.run(e, e.conditions);
    expect(calls).toHaveLength(1);
    expect(e.keys.pair).toEqual({ privateKeyPem: 'KEY', certificatePem: 'CRT' });
  });

  it('retries a write that lost a race with a sibling on a fresh read', async () => {
    const p = profile('okta');
    let posts = 0;
    const { ctx, calls } = contextWith({
      profiles: [p],
      answer: (c) => {
        if (c.method === 'POST' && posts++ === 0) throw new KubeApiError(409, 'AlreadyExists', 'exists', undefined);
        if (c.method === 'GET') return { metadata: { name: 'gatehouse-sp-keys', resourceVersion: '3', labels: { [SP_KEYS_LABEL]: 'true' } }, data: { 'entra.uid': b64('uid-entra') } };
        return {};
      },
    });
    const r = reconcileOf(ctx, p);
    await spKeyStep.run(r, r.conditions);
    expect(calls.map((c) => c.method)).toEqual(['POST', 'GET', 'PUT']);
    expect(r.conditions.get('SPKeyReady')?.status).toBe('True');
  });

  it('forgets a deleted profile\'s entry', async () => {
    const entra = profile('entra');
    const { ctx, calls } = contextWith({ profiles: [entra] });
    withSecret(ctx, { metadata: { name: 'gatehouse-sp-keys', namespace: NS, resourceVersion: '9', labels: { [SP_KEYS_LABEL]: 'true' } }, data: { 'entra.uid': b64('uid-entra'), 'entra.tls.key': b64('K'), 'okta.uid': b64('uid-okta'), 'okta.tls.key': b64('K') } });
    await forgetSPKeyEntry(ctx, NS, 'okta');
    expect(Object.keys((calls[0]?.body as SecretBody).data).sort()).toEqual(['entra.tls.key', 'entra.uid']);
    await forgetSPKeyEntry(ctx, NS, 'never-existed');
    expect(calls).toHaveLength(1);
  });

  it('refuses a Secret of the same name that is not Gatehouse\'s', async () => {
    const p = profile('okta');
    const { ctx, calls } = contextWith({ profiles: [p] });
    withSecret(ctx, { metadata: { name: 'gatehouse-sp-keys', namespace: NS, labels: {} }, data: {} });
    const r = reconcileOf(ctx, p);
    await spKeyStep.run(r, r.conditions);
    expect(calls).toEqual([]);
    expect(r.conditions.get('SPKeyReady')).toMatchObject({ status: 'False', reason: 'SecretNameTaken' });
    expect(r.keys).toEqual({});
    expect(r.status.test).toBeUndefined();
  });

  describe('the test link', () => {
    const T0 = new Date('2026-03-01T12:00:00Z');
    /** The shared Secret kept like the API server and the by-name informer would, so a restart (an empty memory) reads it back. */
    function secretStore() {
      let secret: SecretObject | undefined;
      return {
        answer: (c: ApiCall) => {
          const body = structuredClone(c.body) as SecretObject;
          secret = { ...body, metadata: { ...body.metadata, resourceVersion: String(Number(secret?.metadata.resourceVersion ?? 0) + 1) } };
          return secret;
        },
        sync: (ctx: Context) => (secret ? withSecret(ctx, secret) : ctx),
        data: (key: string) => (secret?.data?.[`okta.${key}`] ? unb64(secret.data[`okta.${key}`]) : undefined),
        drop: (key: string) => secret?.data && delete secret.data[`okta.${key}`],
      };
    }
    const withAnnotation = (p: SSOProfile, value: string): SSOProfile => ({ ...p, metadata: { ...p.metadata, annotations: { [RENEW_TEST_LINK_ANNOTATION]: value } } });

    async function step(ctx: Context, store: ReturnType<typeof secretStore>, p: SSOProfile, now: Date) {
      store.sync(ctx);
      const r = reconcileOf(ctx, p);
      r.now = now;
      const result = await spKeyStep.run(r, r.conditions);
      store.sync(ctx);
      return { r, result };
    }

    it('expires after the installation\'s lifetime, published in status.test.expiresAt, and comes back when it does', async () => {
      const p = profile('okta', { test: { email: 'admin@acme.com' } });
      const store = secretStore();
      const { ctx } = contextWith({ profiles: [p], answer: store.answer });
      const { r, result } = await step(ctx, store, p, T0);
      expect(r.status.test).toEqual({ url: `https://sso.example/test/${r.keys.test?.token}`, expiresAt: '2026-03-02T12:00:00Z' });
      expect(store.data('test-expires-at')).toBe('2026-03-02T12:00:00Z');
      expect(result.requeueAfterMs).toBe(24 * 3_600_000 + 1000);
      // After the expiry the same link stays (the sp-server refuses it with its code) and the condition says how to renew it.
      const later = await step(ctx, store, p, new Date('2026-03-02T12:00:01Z'));
      expect(later.r.keys.test?.token).toBe(r.keys.test?.token);
      expect(later.result.requeueAfterMs).toBeUndefined();
      expect(later.r.conditions.get('SPKeyReady')).toMatchObject({ status: 'True', message: expect.stringContaining(`the test link expired at 2026-03-02T12:00:00Z: set or change the annotation ${RENEW_TEST_LINK_ANNOTATION}`) });
    });

    it('is renewed when the renew annotation is set or changed, not when it stays, and survives a restart', async () => {
      const p = profile('okta', { test: { email: 'admin@acme.com' } });
      const store = secretStore();
      const { ctx } = contextWith({ profiles: [p], answer: store.answer });
      const first = (await step(ctx, store, p, T0)).r.keys.test;
      const renewedAt = new Date('2026-03-03T00:00:00Z');
      const second = (await step(ctx, store, withAnnotation(p, 'a'), renewedAt)).r.keys.test;
      expect(second?.token).not.toBe(first?.token);
      expect(second?.expiresAt).toBe('2026-03-04T00:00:00Z');
      ctx.spKeys.clear();
      expect((await step(ctx, store, withAnnotation(p, 'a'), new Date('2026-03-03T01:00:00Z'))).r.keys.test?.token).toBe(second?.token);
      const third = (await step(ctx, store, withAnnotation(p, 'b'), renewedAt)).r.keys.test;
      expect(third?.token).not.toBe(second?.token);
      expect(store.data('test-renewal')).toBe('b');
    });

    it('is renewed when spec.test changes, dropped when it is removed, and replaced when stored without an expiry', async () => {
      const p = profile('okta', { test: { email: 'admin@acme.com' } });
      const store = secretStore();
      const { ctx } = contextWith({ profiles: [p], answer: store.answer });
      const first = (await step(ctx, store, p, T0)).r.keys.test;
      const other = (await step(ctx, store, profile('okta', { test: { email: 'other@acme.com' } }), T0)).r.keys.test;
      expect(other).toMatchObject({ email: 'other@acme.com' });
      expect(other?.token).not.toBe(first?.token);
      const none = await step(ctx, store, profile('okta'), T0);
      expect(none.r.keys.test).toBeUndefined();
      expect(none.r.status.test).toBeUndefined();
      expect(store.data('test-token')).toBeUndefined();
      // An entry written before links expired: token and address, no expiry.
      const legacy = secretStore();
      const { ctx: ctx2 } = contextWith({ profiles: [p], answer: legacy.answer });
      await step(ctx2, legacy, p, T0);
      legacy.drop('test-expires-at');
      ctx2.spKeys.clear();
      const replaced = (await step(ctx2, legacy, p, T0)).r.keys.test;
      expect(replaced?.expiresAt).toBe('2026-03-02T12:00:00Z');
      expect(legacy.data('test-expires-at')).toBe('2026-03-02T12:00:00Z');
    });
  });
});
