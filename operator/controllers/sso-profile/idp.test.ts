// The SSOProfile IdP step: inline, incomplete and still-loading IdP configurations; the
// installation's metadata URL policy; the profile's metadata trust, and stale copies.
import { describe, expect, it } from 'vitest';
import { idpKeyPair, metadataXml, signMetadata } from '../../../test/support/idp-fixtures.ts';
import type { MetadataSource, MetadataState } from '../../idp/fetcher.ts';
import { parseIdPMetadata } from '../../idp/metadata.ts';
import { contextWith, idpCertificate, profile, reconcileOf } from './fixtures.ts';
import { recordTransitions } from './events.ts';
import { idpStep } from './idp.ts';

/** A metadata cache stand-in answering `state` and recording what the step asked of it. */
function metadataDouble(state: Omit<MetadataState, 'url' | 'inFlight'>) {
  const asked: MetadataSource[] = [];
  const forgotten: string[] = [];
  return {
    asked,
    forgotten,
    metadata: { get: (_key: string, source: MetadataSource): MetadataState => (asked.push(source), { url: source.url, inFlight: false, ...state }), forget: (key: string) => void forgotten.push(key) },
  };
}

async function runIdP(spec: Parameters<typeof profile>[1], state: Omit<MetadataState, 'url' | 'inFlight'> = {}, allowInsecure = false) {
  const p = profile('okta', spec);
  const double = metadataDouble(state);
  const { ctx, events } = contextWith({ profiles: [p], metadata: double.metadata });
  ctx.config.allowInsecureMetadataUrls = allowInsecure;
  const r = reconcileOf(ctx, p);
  const result = await idpStep.run(r, r.conditions);
  return { r, ctx, result, events, ...double };
}

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

  it('refuses a plain http:// metadata URL without fetching it, unless the installation allows it', async () => {
    const spec = { idp: { metadata: { url: 'http://idp.example/metadata', refreshInterval: '1h' } } };
    const refused = await runIdP(spec);
    expect(refused.r.conditions.get('IdPConfigValid')).toMatchObject({ status: 'False', reason: 'InsecureMetadataURL', message: expect.stringContaining('--allow-insecure-metadata-urls') });
    expect(refused.asked).toEqual([]);
    expect(refused.forgotten).toEqual(['acme/okta']);
    const allowed = await runIdP(spec, {}, true);
    expect(allowed.asked.map((s) => s.url)).toEqual(['http://idp.example/metadata']);
  });

  it('hands the cache the pinned signing certificate, the refresh interval and the refresh-metadata annotation', async () => {
    const signer = idpKeyPair(3650, 'md-signer.example');
    const p = profile('okta', { idp: { metadata: { url: 'https://idp.example/metadata', refreshInterval: '2h', signingCertificate: signer.certificatePem } } });
    p.metadata.annotations = { 'sso.gatehouse.dev/refresh-metadata': 'now' };
    const double = metadataDouble({});
    const { ctx } = contextWith({ profiles: [p], metadata: double.metadata });
    const r = reconcileOf(ctx, p);
    await idpStep.run(r, r.conditions);
    expect(double.asked).toEqual([{ url: 'https://idp.example/metadata', refreshMs: 2 * 3_600_000, trust: { signingCertificate: signer.certificatePem }, refreshRequest: 'now' }]);
  });

  it('reports why a first fetched document was refused', async () => {
    const { r } = await runIdP({ idp: { metadata: { url: 'https://idp.example/metadata', refreshInterval: '1h' } } }, { lastError: 'the metadata signature does not verify', lastErrorReason: 'MetadataSignatureInvalid' });
    expect(r.conditions.get('IdPConfigValid')).toMatchObject({ status: 'False', reason: 'MetadataSignatureInvalid', message: expect.stringContaining('is refused: the metadata signature does not verify') });
  });

  it('keeps the last accepted copy in effect when a refresh is refused, saying why in the reason', async () => {
    const xml = metadataXml({ certificatePem: idpCertificate });
    const { r, ctx, events } = await runIdP(
      { idp: { metadata: { url: 'https://idp.example/metadata', refreshInterval: '1h' } } },
      { xml, descriptor: parseIdPMetadata(xml), fetchedAt: new Date('2026-01-01T00:00:00Z'), lastError: 'the metadata carries no signature', lastErrorReason: 'MetadataUnsigned' },
    );
    const condition = r.conditions.get('IdPConfigValid');
    expect(condition).toMatchObject({ status: 'True', reason: 'MetadataUnsigned', message: expect.stringContaining('the last refresh failed (the metadata carries no signature), using the copy fetched at 2026-01-01T00:00:00.000Z') });
    expect(r.idp?.descriptor.entityID).toBe('https://idp.example.com/saml');
    // A Warning Event names the reason, though the condition stays True.
    recordTransitions(ctx, r.profile, {}, { conditions: [{ ...condition!, lastTransitionTime: '2026-01-01T00:00:00Z' }] });
    expect(events).toEqual([{ type: 'Warning', reason: 'MetadataUnsigned', message: condition?.message }]);
  });

  it('refuses the cached copy once its validUntil has passed, and comes back when it does', async () => {
    const soon = new Date(Date.now() + 60_000);
    const xml = metadataXml({ certificatePem: idpCertificate, validUntil: soon.toISOString() });
    const spec = { idp: { metadata: { url: 'https://idp.example/metadata', refreshInterval: '1h' } } };
    const valid = await runIdP(spec, { xml, descriptor: parseIdPMetadata(xml) });
    expect(valid.r.conditions.get('IdPConfigValid')).toMatchObject({ status: 'True', reason: 'Valid' });
    expect(valid.result.requeueAfterMs).toBeLessThanOrEqual(61_000);
    const past = metadataXml({ certificatePem: idpCertificate, validUntil: new Date(Date.now() - 1000).toISOString() });
    const expired = await runIdP(spec, { xml: past, descriptor: parseIdPMetadata(past) });
    expect(expired.r.conditions.get('IdPConfigValid')).toMatchObject({ status: 'False', reason: 'MetadataExpired' });
  });

  it('checks inline metadata against the pinned signing certificate too', async () => {
    const signer = idpKeyPair(3650, 'inline-signer.example');
    const xml = metadataXml({ id: '_inline', certificatePem: idpCertificate });
    const unsigned = await runIdP({ idp: { metadata: { xml, refreshInterval: '1h', signingCertificate: signer.certificatePem } } });
    expect(unsigned.r.conditions.get('IdPConfigValid')).toMatchObject({ status: 'False', reason: 'MetadataUnsigned' });
    const signed = await runIdP({ idp: { metadata: { xml: signMetadata(xml, signer), refreshInterval: '1h', signingCertificate: signer.certificatePem } } });
    expect(signed.r.conditions.get('IdPConfigValid')).toMatchObject({ status: 'True', reason: 'Valid' });
  });
});
