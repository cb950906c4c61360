import { describe, expect, it } from 'vitest';
import type { IDToken } from 'openid-client';
import type { RenderedOIDCProfile } from '../../crds/api/index.ts';
import { testProfile } from '../../test/support/saml-fixtures.ts';
import { LoginRefusal } from '../login/complete.ts';
import { checkReauthentication, identityFromClaims } from './identity.ts';

const TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';

function profileOf(provider: 'Google' | 'Microsoft' | 'Generic', email = 'email'): RenderedOIDCProfile {
  const { idp: _idp, ...common } = testProfile();
  return {
    ...common,
    oidc: {
      provider,
      issuer: 'https://op.test',
      authorizationEndpoint: 'https://op.test/auth',
      tokenEndpoint: 'https://op.test/token',
      jwksURI: 'https://op.test/jwks',
      jwks: { keys: [{ kty: 'RSA', n: 'x', e: 'AQAB' }] },
      jwksFetchedAt: new Date().toISOString(),
      issParameterSupported: false,
      clientID: 'c',
      clientAuthentication: 'client_secret_basic',
      clientSecret: 's',
      redirectURI: 'https://gatehouse.test/oidc/acme/p/callback',
      scopes: ['openid'],
      claims: { email, displayName: 'name' },
      idTokenSigningAlgorithms: ['RS256'],
      ...(provider === 'Microsoft' ? { tenantID: TENANT } : {}),
    },
  };
}

const token = (claims: Record<string, unknown>): IDToken => ({ iss: 'https://op.test', sub: 's', aud: 'c', iat: 1_700_000_000, exp: 1_700_000_600, ...claims }) as IDToken;

function refusalOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof LoginRefusal) return err.code;
    throw err;
  }
  return undefined;
}

describe('identityFromClaims', () => {
  it('reads the configured email claim, the display name and the groups claim', () => {
    const id = identityFromClaims(profileOf('Generic'), token({ email: 'Alice@Acme.test', email_verified: true, name: ' Alice ', groups: 'admins', auth_time: 1_700_000_000 }));
    expect(id).toMatchObject({ email: 'alice@acme.test', displayName: 'Alice', upstream: 'https://op.test' });
    expect(id.groupValues('groups')).toEqual(['admins']);
    expect(id.groupValues('roles')).toEqual([]);
    expect(id.authTime.getTime()).toBe(1_700_000_000_000);
  });

  it('refuses a token without the configured email claim or with a non-address in it', () => {
    expect(refusalOf(() => identityFromClaims(profileOf('Generic'), token({ email_verified: true })))).toBe('EMAIL_CLAIM_MISSING');
    expect(refusalOf(() => identityFromClaims(profileOf('Microsoft', 'preferred_username'), token({ email: 'a@acme.test', email_verified: true, tid: TENANT })))).toBe('EMAIL_CLAIM_MISSING');
    expect(refusalOf(() => identityFromClaims(profileOf('Generic'), token({ email: 'not an address', email_verified: true })))).toBe('EMAIL_CLAIM_MISSING');
  });

  it('requires email_verified === true; Microsoft also accepts xms_edov === true', () => {
    for (const v of [false, 'true', undefined]) expect(refusalOf(() => identityFromClaims(profileOf('Generic'), token({ email: 'a@acme.test', email_verified: v })))).toBe('EMAIL_NOT_VERIFIED');
    expect(refusalOf(() => identityFromClaims(profileOf('Generic'), token({ email: 'a@acme.test', xms_edov: true })))).toBe('EMAIL_NOT_VERIFIED');
    expect(identityFromClaims(profileOf('Microsoft', 'preferred_username'), token({ preferred_username: 'a@acme.test', xms_edov: true, tid: TENANT })).email).toBe('a@acme.test');
    expect(refusalOf(() => identityFromClaims(profileOf('Microsoft'), token({ email: 'a@acme.test', xms_edov: 'true', tid: TENANT })))).toBe('EMAIL_NOT_VERIFIED');
  });

  it('Google: hd must be the email\'s domain', () => {
    const google = profileOf('Google');
    expect(identityFromClaims(google, token({ email: 'a@acme.test', email_verified: true, hd: 'acme.test' })).email).toBe('a@acme.test');
    expect(refusalOf(() => identityFromClaims(google, token({ email: 'a@acme.test', email_verified: true })))).toBe('HOSTED_DOMAIN_MISMATCH');
    expect(refusalOf(() => identityFromClaims(google, token({ email: 'a@acme.test', email_verified: true, hd: 'sub.acme.test' })))).toBe('HOSTED_DOMAIN_MISMATCH');
  });

  it('Microsoft: tid must be the profile\'s tenant (case-insensitively)', () => {
    const entra = profileOf('Microsoft');
    expect(identityFromClaims(entra, token({ email: 'a@acme.test', email_verified: true, tid: TENANT.toUpperCase() })).email).toBe('a@acme.test');
    expect(refusalOf(() => identityFromClaims(entra, token({ email: 'a@acme.test', email_verified: true })))).toBe('TENANT_MISMATCH');
    expect(refusalOf(() => identityFromClaims(entra, token({ email: 'a@acme.test', email_verified: true, tid: '72f988bf-86f1-41af-91ab-2d7cd011db47' })))).toBe('TENANT_MISMATCH');
  });
});

describe('re-authentication after prompt=login', () => {
  const startedMs = 1_700_000_000_000;
  const pending = (forceAuthn: boolean) => ({ kind: 'login' as const, namespace: 'acme', profile: 'p', browser: 'b', createdAt: startedMs, forceAuthn });
  const authTime = (offsetSeconds: number) => token({ auth_time: startedMs / 1000 + offsetSeconds });

  it('refuses an auth_time from before the sign-in started, beyond the skew', () => {
    expect(refusalOf(() => checkReauthentication(authTime(-200), pending(true), 90))).toBe('AUTHN_INSTANT_TOO_OLD');
  });

  it('accepts a fresh auth_time, one within the skew, none at all, or any when re-authentication was not asked', () => {
    expect(refusalOf(() => checkReauthentication(authTime(5), pending(true), 90))).toBeUndefined();
    expect(refusalOf(() => checkReauthentication(authTime(-60), pending(true), 90))).toBeUndefined();
    expect(refusalOf(() => checkReauthentication(token({}), pending(true), 90))).toBeUndefined();
    expect(refusalOf(() => checkReauthentication(authTime(-3600), pending(false), 90))).toBeUndefined();
  });
});
