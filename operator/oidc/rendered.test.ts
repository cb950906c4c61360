// The rendered OIDC upstream honours spec.oidc the way the contract table honours the rest of the
// spec: every field reaches the render or is accounted for, the fallbacks are the CRD's defaults,
// and the secret is there exactly for the client_secret methods.
import { describe, expect, it } from 'vitest';
import { oidcSpec, renderedOIDC, type OIDCSpec, type OIDCSpecInput, type RenderedOIDC } from '../../crds/api/index.ts';
import { ENTRA_TEST_TENANT } from '../../test/support/oidc-upstream.ts';
import type { ProviderSnapshot } from './discovery.ts';
import { renderOIDCUpstream } from './rendered.ts';

const ISSUER = 'https://login.example/tenant/v2.0';
const snap: ProviderSnapshot = {
  discovery: { issuer: ISSUER, authorizationEndpoint: `${ISSUER}/authorize`, tokenEndpoint: `${ISSUER}/token`, jwksURI: `${ISSUER}/keys`, issParameterSupported: false },
  keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', alg: 'ES256' }],
  discoveryFetchedAt: new Date('2026-01-01T00:00:00Z'),
  jwksFetchedAt: new Date('2026-01-01T00:00:00Z'),
};
const REDIRECT = 'https://sso.example/oidc/acme/entra/callback';

/** Where each spec.oidc field goes; the mapped type makes a new spec field a compile error until it has a row. */
const FIELDS: { [K in keyof OIDCSpec]-?: { rendered: keyof RenderedOIDC } | { resolved: string } | { notCarried: string } } = {
  provider: { rendered: 'provider' },
  issuer: { resolved: 'the discovery document at the issuer gives issuer and endpoints' },
  tenantID: { rendered: 'tenantID' },
  clientID: { rendered: 'clientID' },
  clientAuthentication: { rendered: 'clientAuthentication' },
  clientSecretRef: { resolved: 'the Secret it names gives clientSecret' },
  scopes: { rendered: 'scopes' },
  claims: { rendered: 'claims' },
  idTokenSigningAlgorithms: { rendered: 'idTokenSigningAlgorithms' },
  refreshInterval: { notCarried: 'the operator refreshes the rendered discovery and JWKS; the sp-server refetches the JWKS on an unknown kid' },
};

const full: OIDCSpecInput = {
  provider: 'Microsoft',
  issuer: ISSUER,
  tenantID: ENTRA_TEST_TENANT.toUpperCase(),
  clientID: 'entra-app',
  clientAuthentication: 'client_secret_post',
  clientSecretRef: { name: 'gatehouse-oidc-client', key: 'entra' },
  scopes: ['openid', 'email', 'offline_access'],
  claims: { email: 'preferred_username', displayName: 'given_name' },
  idTokenSigningAlgorithms: ['ES256', 'RS256'],
  refreshInterval: '6h',
};
const minimal: OIDCSpecInput = { provider: 'Generic', issuer: ISSUER, clientID: 'app', clientSecretRef: { name: 'gatehouse-oidc-client' } };
const render = (spec: OIDCSpecInput, secret: string | undefined = 's3cret') => renderedOIDC.parse(JSON.parse(JSON.stringify(renderOIDCUpstream(spec, snap, REDIRECT, secret))));

describe('renderOIDCUpstream', () => {
  it('has a row for every spec.oidc field, and every field set in the fixture', () => {
    expect(Object.keys(FIELDS).sort()).toEqual(Object.keys(oidcSpec.shape).sort());
    expect(Object.keys(full).sort()).toEqual(Object.keys(oidcSpec.shape).sort());
    expect(oidcSpec.safeParse(full).error).toBeUndefined();
  });

  it.each(Object.entries(FIELDS).flatMap(([f, row]) => ('rendered' in row ? [[f, row.rendered] as const] : [])))('carries %s into %s, differently from a spec without it', (_field, to) => {
    expect(render(full)[to]).toBeDefined();
    expect(render(full)[to]).not.toEqual(render(minimal)[to]);
  });

  it('renders what the full spec says, the tenant lower-cased, the provider as accepted', () => {
    expect(render(full)).toEqual({
      provider: 'Microsoft',
      issuer: ISSUER,
      authorizationEndpoint: `${ISSUER}/authorize`,
      tokenEndpoint: `${ISSUER}/token`,
      jwksURI: `${ISSUER}/keys`,
      jwks: { keys: snap.keys },
      jwksFetchedAt: '2026-01-01T00:00:00Z',
      issParameterSupported: false,
      clientID: 'entra-app',
      clientAuthentication: 'client_secret_post',
      clientSecret: 's3cret',
      redirectURI: REDIRECT,
      scopes: ['openid', 'email', 'offline_access'],
      claims: { email: 'preferred_username', displayName: 'given_name' },
      idTokenSigningAlgorithms: ['ES256', 'RS256'],
      tenantID: ENTRA_TEST_TENANT,
    });
  });

  it('falls back to exactly the defaults the CRD declares', () => {
    expect(render(minimal)).toEqual(render(oidcSpec.parse(minimal)));
  });

  it('carries the secret only for the client_secret methods', () => {
    const pkjwt = render({ ...minimal, clientAuthentication: 'private_key_jwt', clientSecretRef: undefined }, 'ignored');
    expect(pkjwt).not.toHaveProperty('clientSecret');
    expect(render(minimal).clientSecret).toBe('s3cret');
  });
});
