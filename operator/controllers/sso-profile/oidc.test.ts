// The SSOProfile steps for an OIDC upstream: IdPConfigValid / CertificateValid from the provider
// cache (pending, refused, accepted, stale), ClientSecretReady from gatehouse-oidc-client (missing,
// wrong key, read, remembered, private_key_jwt), status.sp / status.oidc, and the rendered upstream
// with the secret — which never reaches status or Events.
import { describe, expect, it } from 'vitest';
import { ENTRA_TEST_TENANT } from '../../../test/support/oidc-upstream.ts';
import type { SSOProfile } from '../../../crds/api/index.ts';
import type { Context, SecretObject } from '../../context.ts';
import type { ProviderSnapshot } from '../../oidc/discovery.ts';
import type { ProviderSource, ProviderState } from '../../oidc/provider-cache.ts';
import { generateSPKeyPair } from '../../sp-keys.ts';
import { recordTransitions } from './events.ts';
import { contextWith, NS, profile, reconcileOf } from './fixtures.ts';
import { idpStep } from './idp.ts';
import { clientSecretStep } from './oidc.ts';
import { summariseReady } from './ready.ts';
import { renderStep } from './render.ts';
import { statusEndpoints } from './state.ts';

const ISSUER = 'https://idp.example';
const SECRET_VALUE = 'the-client-secret-value-0123456789';
const spKey = generateSPKeyPair('sp.example');
const snapshot: ProviderSnapshot = {
  discovery: { issuer: ISSUER, authorizationEndpoint: `${ISSUER}/authorize`, tokenEndpoint: `${ISSUER}/token`, jwksURI: `${ISSUER}/jwks`, issParameterSupported: true },
  keys: [{ kty: 'RSA', kid: 'k1', alg: 'RS256', n: 'AQAB'.repeat(4), e: 'AQAB' }],
  discoveryFetchedAt: new Date('2026-01-01T00:00:00Z'),
  jwksFetchedAt: new Date('2026-01-01T00:00:01Z'),
};
const oidcSpec = (over: Record<string, unknown> = {}) => ({ idp: undefined, oidc: { provider: 'Generic', issuer: ISSUER, clientID: 'gatehouse-app', clientSecretRef: { name: 'gatehouse-oidc-client', key: 'client-secret' }, ...over } });
const clientSecret = (data: Record<string, string>): SecretObject => ({
  metadata: { name: 'gatehouse-oidc-client', namespace: NS },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});

async function reconcile(opts: { spec?: Record<string, unknown>; state?: Omit<ProviderState, 'inFlight'>; secrets?: SecretObject[]; allowInsecure?: boolean } = {}) {
  const p = profile('google', (opts.spec ?? oidcSpec()) as never);
  const asked: ProviderSource[] = [];
  const forgotten: string[] = [];
  const oidcProviders = { get: (_key: string, s: ProviderSource): ProviderState => (asked.push(s), { inFlight: false, ...(opts.state ?? { snapshot }) }), forget: (k: string) => void forgotten.push(k) };
  const c = contextWith({ profiles: [p], oidcProviders, secrets: opts.secrets ?? [clientSecret({ 'client-secret': SECRET_VALUE })] });
  c.ctx.config.allowInsecureMetadataUrls = opts.allowInsecure ?? false;
  const r = await runSteps(c.ctx, p);
  return { ...c, r, asked, forgotten, fragment: c.ctx.fragments.get(`${NS}/google`) };
}

/** The steps that matter here, in the controller's order, with acme.com served and an SP key. */
async function runSteps(ctx: Context, p: SSOProfile) {
  const r = reconcileOf(ctx, p);
  await idpStep.run(r, r.conditions);
  await clientSecretStep.run(r, r.conditions);
  r.served = ['acme.com'];
  r.keys = { pair: spKey };
  r.status.sp = statusEndpoints(ctx.config.spPublicUrl, p);
  await renderStep.run(r, r.conditions);
  return r;
}

describe('OIDC provider (IdP step)', () => {
  it('accepts the provider: both conditions True, status.oidc with the keys, no status.idp, the expectations passed to the cache', async () => {
    const { r, asked } = await reconcile({ spec: oidcSpec({ idTokenSigningAlgorithms: ['ES256', 'RS256'] }) });
    expect(r.conditions.get('IdPConfigValid')).toMatchObject({ status: 'True', reason: 'Valid', message: expect.stringContaining(`OpenID Provider ${ISSUER}`) });
    expect(r.conditions.get('CertificateValid')).toMatchObject({ status: 'True', reason: 'SigningKeysAvailable', message: `1 usable signing key(s) in the JWKS at ${ISSUER}/jwks` });
    expect(r.status.idp).toBeUndefined();
    expect(r.status.oidc).toEqual({
      issuer: ISSUER,
      authorizationEndpoint: `${ISSUER}/authorize`,
      tokenEndpoint: `${ISSUER}/token`,
      jwksURI: `${ISSUER}/jwks`,
      signingKeys: [{ kty: 'RSA', kid: 'k1', alg: 'RS256' }],
      discoveryFetchedTime: '2026-01-01T00:00:00Z',
      jwksFetchedTime: '2026-01-01T00:00:01Z',
    });
    expect(asked[0]).toMatchObject({ issuer: ISSUER, provider: 'Generic', algorithms: ['RS256', 'ES256'], allowInsecure: false });
  });

  it('is Unknown (DiscoveryPending) before the first read, and keeps the previous rendering meanwhile', async () => {
    const { r } = await reconcile({ state: {} });
    expect(r.conditions.get('IdPConfigValid')).toMatchObject({ status: 'Unknown', reason: 'DiscoveryPending' });
    expect(r.conditions.get('CertificateValid')).toMatchObject({ status: 'Unknown', reason: 'IdPConfigInvalid' });
    expect(r.idpPending).toBe(true);
  });

  it.each(['IssuerUnreachable', 'IssuerMismatch', 'DiscoveryInvalid', 'JWKSFetchFailed', 'JWKSUnusable'] as const)('is False with reason %s when no copy was ever accepted, and the profile is left out', async (reason) => {
    const { r, fragment } = await reconcile({ state: { lastError: `what went wrong (${reason})`, lastErrorReason: reason } });
    expect(r.conditions.get('IdPConfigValid')).toEqual({ type: 'IdPConfigValid', status: 'False', reason, message: `what went wrong (${reason})` });
    expect(r.status.oidc).toBeUndefined();
    expect(fragment).toMatchObject({ ok: false });
    expect(r.conditions.get('ConfigRendered')).toMatchObject({ status: 'False', reason: 'IdPConfigInvalid' });
  });

  it('stays True on a stale copy after a failed refresh, says so, and keeps rendering it', async () => {
    const { r, fragment } = await reconcile({ state: { snapshot, lastError: 'the provider is down', lastErrorReason: 'IssuerUnreachable' } });
    expect(r.conditions.get('IdPConfigValid')).toMatchObject({ status: 'True', reason: 'IssuerUnreachable', message: expect.stringContaining('the last refresh failed (the provider is down), using the copy fetched at 2026-01-01T00:00:01Z') });
    expect(fragment).toMatchObject({ ok: true, profile: { oidc: { issuer: ISSUER } } });
  });

  it('refuses an http:// issuer unless the installation allows it, without asking the cache', async () => {
    const strict = await reconcile({ spec: oidcSpec({ issuer: 'http://idp.example' }) });
    expect(strict.r.conditions.get('IdPConfigValid')).toMatchObject({ status: 'False', reason: 'InsecureIssuerURL', message: expect.stringContaining('--allow-insecure-metadata-urls') });
    expect(strict.asked).toEqual([]);
    expect(strict.forgotten).toEqual([`${NS}/google`]);
    const relaxed = await reconcile({ spec: oidcSpec({ issuer: 'http://idp.example' }), allowInsecure: true });
    expect(relaxed.asked[0]?.allowInsecure).toBe(true);
  });

  it('asks for the Microsoft issuer of the configured tenant', async () => {
    const { asked } = await reconcile({ spec: oidcSpec({ provider: 'Microsoft', issuer: undefined, tenantID: ENTRA_TEST_TENANT.toUpperCase() }) });
    expect(asked[0]).toMatchObject({ issuer: `https://login.microsoftonline.com/${ENTRA_TEST_TENANT}/v2.0`, provider: 'Microsoft', tenantID: ENTRA_TEST_TENANT.toUpperCase() });
  });
});

describe('OIDC client secret step', () => {
  it('reads the secret: ClientSecretReady True, the secret rendered, never in status or Events', async () => {
    const { r, fragment, ctx, events } = await reconcile();
    expect(r.conditions.get('ClientSecretReady')).toEqual({ type: 'ClientSecretReady', status: 'True', reason: 'SecretRead', message: `client secret read from the key client-secret of the Secret ${NS}/gatehouse-oidc-client` });
    expect(fragment).toMatchObject({ ok: true, profile: { oidc: { clientSecret: SECRET_VALUE, clientAuthentication: 'client_secret_basic' } } });
    recordTransitions(ctx, r.profile, r.old, { ...r.status, conditions: r.conditions.inOrder(['IdPConfigValid', 'ClientSecretReady']).map((c) => ({ ...c, lastTransitionTime: '2026-01-01T00:00:00Z' })) });
    expect(JSON.stringify([r.status, r.conditions.inOrder(['IdPConfigValid', 'CertificateValid', 'ClientSecretReady', 'ConfigRendered']), events])).not.toContain(SECRET_VALUE);
  });

  it('names the missing Secret with the kubectl command, leaves the profile out, and Ready says why', async () => {
    const { r, fragment } = await reconcile({ secrets: [] });
    const c = r.conditions.get('ClientSecretReady');
    expect(c).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    expect(c?.message).toContain(`kubectl -n ${NS} create secret generic gatehouse-oidc-client --from-literal=client-secret=<client secret>`);
    expect(fragment).toMatchObject({ ok: false, reason: expect.stringContaining('does not exist') });
    expect(r.conditions.get('ConfigRendered')).toMatchObject({ status: 'False', reason: 'ClientSecretMissing' });
    expect(summariseReady(r.conditions).ready).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
  });

  it('names the key it looked for and the keys the Secret has; an empty value is refused', async () => {
    const missing = await reconcile({ secrets: [clientSecret({ other: 'x' })] });
    expect(missing.r.conditions.get('ClientSecretReady')).toMatchObject({ status: 'False', reason: 'SecretKeyMissing', message: expect.stringContaining('has no key client-secret (it has other)') });
    const empty = await reconcile({ secrets: [clientSecret({ 'client-secret': '\n' })] });
    expect(empty.r.conditions.get('ClientSecretReady')).toMatchObject({ status: 'False', reason: 'SecretEmpty' });
    const custom = await reconcile({ spec: oidcSpec({ clientSecretRef: { name: 'gatehouse-oidc-client', key: 'google' } }), secrets: [clientSecret({ google: `${SECRET_VALUE}\n` })] });
    expect(custom.fragment).toMatchObject({ ok: true, profile: { oidc: { clientSecret: SECRET_VALUE } } });
  });

  it('keeps serving the secret read before when the Secret is deleted, and says so', async () => {
    const first = await reconcile();
    const p = first.r.profile;
    const later = contextWith({ profiles: [p], oidcProviders: { get: () => ({ inFlight: false, snapshot }), forget: () => {} }, secrets: [] });
    later.ctx.oidcSecretsRead.set(`${NS}/google`, first.ctx.oidcSecretsRead.get(`${NS}/google`) as never);
    const r = await runSteps(later.ctx, p);
    expect(r.conditions.get('ClientSecretReady')).toMatchObject({ status: 'False', reason: 'SecretNotFound', message: expect.stringContaining('keeps serving') });
    expect(later.ctx.fragments.get(`${NS}/google`)).toMatchObject({ ok: true, profile: { oidc: { clientSecret: SECRET_VALUE } } });
  });

  it('private_key_jwt needs no Secret and publishes the JWKS URL', async () => {
    const { r, fragment } = await reconcile({ spec: oidcSpec({ clientAuthentication: 'private_key_jwt', clientSecretRef: undefined }), secrets: [] });
    expect(r.conditions.get('ClientSecretReady')).toMatchObject({ status: 'True', reason: 'PrivateKeyJWT', message: expect.stringContaining(`https://sso.example/oidc/${NS}/google/jwks`) });
    expect(r.status.sp).toEqual({ redirectURI: `https://sso.example/oidc/${NS}/google/callback`, jwksURL: `https://sso.example/oidc/${NS}/google/jwks` });
    expect(fragment).toMatchObject({ ok: true, profile: { oidc: { clientAuthentication: 'private_key_jwt' } } });
    expect((fragment as { profile: { oidc: Record<string, unknown> } }).profile.oidc).not.toHaveProperty('clientSecret');
  });
});

describe('OIDC render', () => {
  it('renders the upstream with the defaults, the redirect URI and the SP key, and no SAML idp', async () => {
    const { fragment, r } = await reconcile({ spec: oidcSpec({ provider: 'Microsoft', issuer: ISSUER, tenantID: ENTRA_TEST_TENANT.toUpperCase(), claims: { email: 'preferred_username', displayName: 'name' } }) });
    expect(r.status.sp).toEqual({ redirectURI: `https://sso.example/oidc/${NS}/google/callback` });
    expect(fragment).toMatchObject({ ok: true });
    const profile = (fragment as { profile: Record<string, unknown> }).profile;
    expect(profile.idp).toBeUndefined();
    expect(profile).toMatchObject({ sp: { key: spKey } });
    expect(profile.oidc).toEqual({
      provider: 'Microsoft',
      issuer: ISSUER,
      authorizationEndpoint: `${ISSUER}/authorize`,
      tokenEndpoint: `${ISSUER}/token`,
      jwksURI: `${ISSUER}/jwks`,
      jwks: { keys: snapshot.keys },
      jwksFetchedAt: '2026-01-01T00:00:01Z',
      issParameterSupported: true,
      clientID: 'gatehouse-app',
      clientAuthentication: 'client_secret_basic',
      clientSecret: SECRET_VALUE,
      redirectURI: `https://sso.example/oidc/${NS}/google/callback`,
      scopes: ['openid', 'email', 'profile'],
      claims: { email: 'preferred_username', displayName: 'name' },
      idTokenSigningAlgorithms: ['RS256'],
      tenantID: ENTRA_TEST_TENANT,
    });
  });

  it('keeps latched domains covered when an OIDC profile is left out', async () => {
    const spec = { ...oidcSpec(), enforcement: { domains: ['acme.com'] } };
    const p = profile('google', spec as never, { observedGeneration: 1, enforcement: { phase: 'Enforced', domains: ['acme.com'], latchedDomains: ['acme.com'] } });
    const c = contextWith({ profiles: [p], oidcProviders: { get: () => ({ inFlight: false, lastError: 'down', lastErrorReason: 'IssuerUnreachable' }), forget: () => {} } });
    await runSteps(c.ctx, p);
    expect(c.ctx.fragments.get(`${NS}/google`)).toMatchObject({ ok: false, enforcement: [{ domain: 'acme.com', profile: 'google' }] });
  });
});
