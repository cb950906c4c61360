// OIDC profiles for sp-server tests: a rendered profile pointing at a test upstream
// (test/support/oidc-upstream.ts), its discovery and JWKS read the way the operator renders them.
import type { RenderedOIDCProfile, RenderedOrganization, SPConfig } from '../../crds/api/index.ts';
import type { OIDCProvider, RenderedOIDC } from '../../crds/api/oidc.ts';
import type { OIDCUpstream } from './oidc-upstream.ts';
import { testProfile } from './saml-fixtures.ts';

export const UPSTREAM_CLIENT_ID = 'gatehouse-acme';
export const UPSTREAM_CLIENT_SECRET = 'upstream-client-secret-0123456789';

/** The redirect URI of profile `name` of `namespace` on an sp-server at `base`. */
export const upstreamRedirectURI = (base: string, name: string, namespace = 'acme') => `${base}/oidc/${namespace}/${name}/callback`;

/** The upstream's discovery and JWKS, as the operator accepted them. */
export async function renderedDiscovery(upstream: OIDCUpstream): Promise<Pick<RenderedOIDC, 'issuer' | 'authorizationEndpoint' | 'tokenEndpoint' | 'jwksURI' | 'jwks' | 'jwksFetchedAt' | 'issParameterSupported'>> {
  const d = (await (await fetch(`${upstream.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  const jwksURI = String(d.jwks_uri);
  const jwks = (await (await fetch(jwksURI)).json()) as RenderedOIDC['jwks'];
  return {
    issuer: String(d.issuer),
    authorizationEndpoint: String(d.authorization_endpoint),
    tokenEndpoint: String(d.token_endpoint),
    jwksURI,
    jwks,
    jwksFetchedAt: new Date().toISOString(),
    issParameterSupported: d.authorization_response_iss_parameter_supported === true,
  };
}

export interface OIDCProfileOptions {
  name: string;
  provider: OIDCProvider;
  base: string;
  upstream: OIDCUpstream;
  oidc?: Partial<RenderedOIDC>;
  profile?: Partial<RenderedOIDCProfile>;
}

/** A rendered OIDC profile of acme (acme.test) at `upstream`, with a client secret unless `oidc` says otherwise. */
export async function testOIDCProfile(o: OIDCProfileOptions): Promise<RenderedOIDCProfile> {
  const saml = testProfile();
  const sp = { ...saml.sp, entityID: `${o.base}/saml/acme/${o.name}`, acsURL: `${o.base}/saml/acme/${o.name}/acs`, metadataURL: `${o.base}/saml/acme/${o.name}/metadata` };
  const { idp: _idp, ...common } = saml;
  return {
    ...common,
    name: o.name,
    displayName: o.provider,
    sp,
    oidc: {
      provider: o.provider,
      ...(await renderedDiscovery(o.upstream)),
      clientID: UPSTREAM_CLIENT_ID,
      clientAuthentication: 'client_secret_basic',
      clientSecret: UPSTREAM_CLIENT_SECRET,
      redirectURI: upstreamRedirectURI(o.base, o.name),
      scopes: ['openid', 'email', 'profile'],
      claims: { email: 'email', displayName: 'name' },
      idTokenSigningAlgorithms: ['RS256'],
      ...o.oidc,
    },
    ...o.profile,
  };
}

/** The acme organization (acme.test verified) served by `profiles`, plus `extraOrgs`. */
export function acmeOIDCConfig(profiles: RenderedOIDCProfile[], extraOrgs: RenderedOrganization[] = []): SPConfig {
  return {
    formatVersion: 1,
    organizations: [{ namespace: 'acme', verifiedDomains: ['acme.test'], profiles }, ...extraOrgs].sort((a, b) => a.namespace.localeCompare(b.namespace)),
  };
}
