// Accepting an OpenID Provider: the discovery checks one by one, the JWKS filter, and the whole read
// against a real provider (oidc-provider, Google- and Entra-shaped) through the egress guard.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configuredIssuer, MICROSOFT_ISSUER_TEMPLATE } from '../../crds/api/index.ts';
import { guardedFetch } from '../../egress/guarded-fetch.ts';
import { ENTRA_TEST_TENANT, startOIDCUpstream, type OIDCUpstream } from '../../test/support/oidc-upstream.ts';
import { acceptDiscovery, discoveryURL, insecureIssuer, OIDCDiscoveryError, readProvider, usableSigningKeys, type ProviderExpectation } from './discovery.ts';

const ISSUER = 'https://idp.example';
const expectation: ProviderExpectation = { issuer: ISSUER, provider: 'Generic', algorithms: ['RS256'], allowInsecure: false };
const doc = (over: Record<string, unknown> = {}) => ({
  issuer: ISSUER,
  authorization_endpoint: `${ISSUER}/authorize`,
  token_endpoint: `${ISSUER}/token`,
  jwks_uri: `${ISSUER}/jwks`,
  response_types_supported: ['code', 'id_token'],
  code_challenge_methods_supported: ['S256'],
  id_token_signing_alg_values_supported: ['RS256'],
  ...over,
});

function refusal(raw: unknown, e: ProviderExpectation = expectation): { reason: string; message: string } {
  try {
    acceptDiscovery(raw, e);
  } catch (err) {
    if (err instanceof OIDCDiscoveryError) return { reason: err.reason, message: err.message };
    throw err;
  }
  throw new Error('accepted');
}

describe('acceptDiscovery', () => {
  it('accepts a complete document and records the iss parameter support', () => {
    expect(acceptDiscovery(doc({ authorization_response_iss_parameter_supported: true }), expectation)).toEqual({
      issuer: ISSUER,
      authorizationEndpoint: `${ISSUER}/authorize`,
      tokenEndpoint: `${ISSUER}/token`,
      jwksURI: `${ISSUER}/jwks`,
      issParameterSupported: true,
    });
    expect(acceptDiscovery(doc(), expectation).issParameterSupported).toBe(false);
  });

  it('refuses another issuer, even one differing by a trailing slash', () => {
    expect(refusal(doc({ issuer: 'https://evil.example' }))).toMatchObject({ reason: 'IssuerMismatch', message: expect.stringContaining('not the configured https://idp.example') });
    expect(refusal(doc({ issuer: `${ISSUER}/` })).reason).toBe('IssuerMismatch');
  });

  it("fills in Entra's {tenantid} placeholder before comparing, and only the configured tenant matches", () => {
    const tenant = ENTRA_TEST_TENANT.toUpperCase();
    const issuer = configuredIssuer({ provider: 'Microsoft', tenantID: tenant }) as string;
    const entra: ProviderExpectation = { issuer, provider: 'Microsoft', tenantID: tenant, algorithms: ['RS256'], allowInsecure: false };
    const common = doc({ issuer: MICROSOFT_ISSUER_TEMPLATE, authorization_endpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize', code_challenge_methods_supported: undefined });
    expect(acceptDiscovery(common, entra).issuer).toBe(`https://login.microsoftonline.com/${ENTRA_TEST_TENANT}/v2.0`);
    expect(refusal(doc({ issuer: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0' }), entra).reason).toBe('IssuerMismatch');
    // A Generic profile takes the placeholder literally.
    expect(refusal(doc({ issuer: MICROSOFT_ISSUER_TEMPLATE })).reason).toBe('IssuerMismatch');
  });

  it('requires absolute endpoints, https unless the installation allows http', () => {
    expect(refusal(doc({ token_endpoint: '/token' }))).toMatchObject({ reason: 'DiscoveryInvalid', message: expect.stringContaining('token_endpoint') });
    expect(refusal(doc({ jwks_uri: 'http://idp.example/jwks' }))).toMatchObject({ reason: 'DiscoveryInvalid', message: expect.stringContaining('--allow-insecure-metadata-urls') });
    expect(acceptDiscovery(doc({ jwks_uri: 'http://idp.example/jwks' }), { ...expectation, allowInsecure: true }).jwksURI).toBe('http://idp.example/jwks');
    expect(refusal(doc({ authorization_endpoint: 'javascript:alert(1)' })).reason).toBe('DiscoveryInvalid');
  });

  it('requires the code flow, S256 when methods are listed, and an allowed signing algorithm when algorithms are listed', () => {
    expect(refusal(doc({ response_types_supported: ['id_token'] })).message).toContain('authorization code flow');
    expect(refusal(doc({ code_challenge_methods_supported: ['plain'] })).message).toContain('S256');
    expect(acceptDiscovery(doc({ code_challenge_methods_supported: undefined, response_types_supported: undefined, id_token_signing_alg_values_supported: undefined }), expectation).issuer).toBe(ISSUER);
    expect(refusal(doc({ id_token_signing_alg_values_supported: ['ES256', 'none'] })).message).toContain('none of which spec.oidc.idTokenSigningAlgorithms');
    expect(acceptDiscovery(doc({ id_token_signing_alg_values_supported: ['ES256'] }), { ...expectation, algorithms: ['RS256', 'ES256'] }).issuer).toBe(ISSUER);
  });

  it('refuses a document missing required fields or of the wrong shape', () => {
    expect(refusal({ issuer: ISSUER }).reason).toBe('DiscoveryInvalid');
    expect(refusal('not an object').reason).toBe('DiscoveryInvalid');
    expect(refusal(doc({ response_types_supported: 'code' })).reason).toBe('DiscoveryInvalid');
  });
});

describe('usableSigningKeys', () => {
  const rsa = { kty: 'RSA', n: 'AQAB'.repeat(4), e: 'AQAB' };
  it('keeps public signing keys of an allowed algorithm with their public members only', () => {
    const keys = usableSigningKeys({ keys: [{ ...rsa, kid: 'a', alg: 'RS256', use: 'sig', extra: 'dropped' }, { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'b' }] }, ['RS256']);
    expect(keys).toEqual([{ ...rsa, kid: 'a', alg: 'RS256', use: 'sig' }, { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'b' }]);
  });

  it('drops encryption keys, other algorithms, symmetric keys, keys with private members and incomplete keys', () => {
    const dropped = [
      { ...rsa, use: 'enc' },
      { ...rsa, alg: 'RS512' },
      { ...rsa, alg: 'HS256' },
      { kty: 'oct', k: 'c2VjcmV0' },
      { ...rsa, d: 'private' },
      { ...rsa, qi: 'private' },
      { kty: 'OKP', crv: 'Ed25519', x: 'x', d: 'private' },
      { kty: 'RSA', e: 'AQAB' },
      { ...rsa, kid: 'k'.repeat(300) },
    ];
    expect(usableSigningKeys({ keys: dropped }, ['RS256'])).toEqual([]);
    expect(usableSigningKeys({ nokeys: [] }, ['RS256'])).toEqual([]);
    expect(usableSigningKeys(null, ['RS256'])).toEqual([]);
  });
});

describe('insecureIssuer', () => {
  it('refuses http:// unless allowed, and anything that is not http(s)', () => {
    expect(insecureIssuer('https://idp.example', false)).toBeUndefined();
    expect(insecureIssuer('http://idp.example', false)).toContain('--allow-insecure-metadata-urls');
    expect(insecureIssuer('http://idp.example', true)).toBeUndefined();
    expect(insecureIssuer('ftp://idp.example', true)).toBeDefined();
    expect(discoveryURL('https://idp.example/')).toBe('https://idp.example/.well-known/openid-configuration');
  });
});

describe('readProvider against a real OpenID Provider', () => {
  let google: OIDCUpstream;
  let entra: OIDCUpstream;
  const loopback = guardedFetch({ allowPrivate: true, allowInsecure: true, timeoutMs: 5000, maxBytes: 1 << 20, userAgent: 'test' });
  const clients = [{ client_id: 'gatehouse', client_secret: 's'.repeat(32), redirect_uris: ['https://sso.example/oidc/acme/p/callback'] }];

  beforeAll(async () => {
    google = await startOIDCUpstream({ shape: 'google', clients });
    entra = await startOIDCUpstream({ shape: 'entra', clients, signingAlg: 'ES256' });
  });
  afterAll(async () => {
    await google?.close();
    await entra?.close();
  });

  it('reads a Google-shaped provider: discovery, endpoints and its signing key', async () => {
    const snap = await readProvider(loopback, { issuer: google.issuer, provider: 'Google', algorithms: ['RS256'], allowInsecure: true });
    expect(snap.discovery.issuer).toBe(google.issuer);
    expect(snap.discovery.tokenEndpoint.startsWith(google.origin)).toBe(true);
    expect(snap.keys.length).toBeGreaterThan(0);
    expect(snap.keys.every((k) => k.kty === 'RSA' && !('d' in k))).toBe(true);
  });

  it('reads an Entra-shaped provider under its tenant issuer; an algorithm it does not use is refused', async () => {
    const e = { issuer: configuredIssuer({ provider: 'Microsoft', tenantID: ENTRA_TEST_TENANT, issuer: `${entra.origin}/{tenantid}/v2.0` }) as string, provider: 'Microsoft' as const, tenantID: ENTRA_TEST_TENANT, allowInsecure: true };
    expect(e.issuer).toBe(entra.issuer);
    const snap = await readProvider(loopback, { ...e, algorithms: ['ES256'] });
    expect(snap.keys.map((k) => k.kty)).toEqual(['EC']);
    await expect(readProvider(loopback, { ...e, algorithms: ['PS512'] })).rejects.toMatchObject({ reason: expect.stringMatching(/DiscoveryInvalid|JWKSUnusable/) });
  });

  it('names the reason: the guard refusing loopback, http:// without the flag, a wrong issuer, nothing listening', async () => {
    const guarded = guardedFetch({ allowPrivate: false, allowInsecure: true, timeoutMs: 5000, maxBytes: 1 << 20, userAgent: 'test' });
    await expect(readProvider(guarded, { issuer: google.issuer, provider: 'Google', algorithms: ['RS256'], allowInsecure: true })).rejects.toMatchObject({ reason: 'IssuerUnreachable', message: expect.stringContaining('--allow-private-metadata-urls') });
    await expect(readProvider(loopback, { issuer: google.issuer, provider: 'Google', algorithms: ['RS256'], allowInsecure: false })).rejects.toMatchObject({ reason: 'InsecureIssuerURL' });
    await expect(readProvider(loopback, { issuer: `${google.issuer}/other`, provider: 'Generic', algorithms: ['RS256'], allowInsecure: true })).rejects.toMatchObject({ reason: 'IssuerUnreachable', message: expect.stringContaining('HTTP 404') });
    await expect(readProvider(loopback, { issuer: 'http://127.0.0.1:1', provider: 'Generic', algorithms: ['RS256'], allowInsecure: true })).rejects.toMatchObject({ reason: 'IssuerUnreachable' });
  });
});
