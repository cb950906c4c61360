// The SSOProfile IdP step: inline, incomplete and still-loading IdP configurations.
import { describe, expect, it } from 'vitest';
import { contextWith, profile, reconcileOf } from './fixtures.ts';
import { idpStep } from './idp.ts';

describe('IdP step', () => {
  it('accepts an inline IdP, judges its certificates and publishes them', async () => {
    const p = profile('okta');
    const { ctx } = contextWith({ profiles: [p] });
    const r = reconcileOf(ctx, p);
    const result = await idpStep.run(r, r.conditions);
    expect(r.conditions.get('IdPConfigValid')).toMatchObject({ status: 'True', reason: 'Valid' });
    expect(r.conditions.get('CertificateValid')).toMatchObject({ status: 'True', reason: 'Valid' });
    expect(r.status.idp).toMatchObject({ entityID: 'https://idp.example/entity', ssoURL: 'https://idp.example/sso' });
    expect(r.status.idp?.certificates).toHaveLength(1);
    // Judged again before the expiry warning starts, at most a day later.
    expect(result.requeueAfterMs).toBeGreaterThan(0);
    expect(result.requeueAfterMs).toBeLessThanOrEqual(24 * 3_600_000);
  });

  it('refuses an incomplete IdP; its certificates are then Unknown', async () => {
    const p = profile('okta', { idp: { entityID: 'https://idp.example/entity' } });
    const { ctx } = contextWith({ profiles: [p] });
    const r = reconcileOf(ctx, p);
    await idpStep.run(r, r.conditions);
    expect(r.conditions.get('IdPConfigValid')).toMatchObject({ status: 'False', reason: 'IdPIncomplete' });
    expect(r.conditions.get('CertificateValid')).toMatchObject({ status: 'Unknown', reason: 'IdPConfigInvalid' });
    expect(r.status.idp).toBeUndefined();
    expect(r.idp).toBeUndefined();
  });

  it('is Unknown while a metadata URL is fetched for the first time', async () => {
    const p = profile('okta', { idp: { metadata: { url: 'https://idp.example/metadata', refreshInterval: '1h' } } });
    const { ctx } = contextWith({ profiles: [p], metadata: { get: (_key, { url }) => ({ url, inFlight: true }), forget: () => {} } });
    const r = reconcileOf(ctx, p);
    await idpStep.run(r, r.conditions);
    expect(r.conditions.get('IdPConfigValid')).toMatchObject({ status: 'Unknown', reason: 'MetadataPending' });
    expect(r.idpPending).toBe(true);
  });
});
