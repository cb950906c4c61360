// The SSOProfile SP key step: keep the key pair in the profile's entry of the organization's
// shared gatehouse-sp-keys Secret, drop entries of deleted profiles, retry a lost race, and
// refuse to take over a Secret of that name that Gatehouse did not create.
import { describe, expect, it } from 'vitest';
import { KubeApiError } from '../../../kube/client.ts';
import type { Context, SecretObject } from '../../context.ts';
import { forgetSPKeyEntry, SP_KEYS_LABEL } from '../../sp-key-store.ts';
import { cacheOf } from '../../test-doubles.ts';
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
    expect(r.status.test?.url).toBe(`https://sso.example/test/${r.keys.testToken}`);
    const again = reconcileOf(ctx, p);
    await spKeyStep.run(again, again.conditions);
    expect(calls).toHaveLength(1);
    expect(again.keys.testToken).toBe(r.keys.testToken);
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
});
