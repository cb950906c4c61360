// The SSOProfile SP key step: create the owned Secret once, and refuse to take over a Secret of
// the same name that Gatehouse did not create.
import { describe, expect, it } from 'vitest';
import { KubeApiError } from '../../../kube/client.ts';
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
});
