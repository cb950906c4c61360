// An OIDC profile's upstream as the sp-server receives it in the rendered config: the provider as
// accepted, the client credentials (the secret only for the client_secret methods) and the spec's
// choices with the CRD's defaults.
import { OIDC_DEFAULTS, type OIDCSpecInput, type RenderedOIDC } from '../../crds/api/index.ts';
import { rfc3339 } from '../conditions.ts';
import type { ProviderSnapshot } from './discovery.ts';

export function renderOIDCUpstream(spec: OIDCSpecInput, snap: ProviderSnapshot, redirectURI: string, clientSecret: string | undefined): RenderedOIDC {
  const provider = spec.provider ?? OIDC_DEFAULTS.provider;
  const clientAuthentication = spec.clientAuthentication ?? OIDC_DEFAULTS.clientAuthentication;
  const { discovery } = snap;
  return {
    provider,
    issuer: discovery.issuer,
    authorizationEndpoint: discovery.authorizationEndpoint,
    tokenEndpoint: discovery.tokenEndpoint,
    jwksURI: discovery.jwksURI,
    jwks: { keys: snap.keys },
    jwksFetchedAt: rfc3339(snap.jwksFetchedAt),
    issParameterSupported: discovery.issParameterSupported,
    clientID: spec.clientID,
    clientAuthentication,
    ...(clientAuthentication !== 'private_key_jwt' && clientSecret !== undefined ? { clientSecret } : {}),
    redirectURI,
    scopes: [...(spec.scopes ?? OIDC_DEFAULTS.scopes)],
    claims: { email: spec.claims?.email ?? OIDC_DEFAULTS.emailClaim, displayName: spec.claims?.displayName ?? OIDC_DEFAULTS.displayNameClaim },
    idTokenSigningAlgorithms: [...(spec.idTokenSigningAlgorithms ?? OIDC_DEFAULTS.idTokenSigningAlgorithms)],
    ...(provider === 'Microsoft' && spec.tenantID !== undefined ? { tenantID: spec.tenantID.toLowerCase() } : {}),
  };
}
