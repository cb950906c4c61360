// Reads an OpenID Provider the way the operator accepts it: the discovery document and the JWKS,
// fetched through the egress guard and checked against what the profile configured (issuer,
// https endpoints, the code flow with S256, signing algorithms, usable public signing keys).
import { z } from 'zod';
import { TENANT_ID_PLACEHOLDER, type IDTokenSigningAlgorithm, type OIDCProvider, type RenderedOIDC } from '../../crds/api/index.ts';
import { EgressRefusedError } from '../../egress/address-guard.ts';
import type { FetchFunction } from '../../egress/guarded-fetch.ts';

/** The IdPConfigValid reasons of an OIDC profile whose provider cannot be accepted. */
export type DiscoveryFailureReason = 'IssuerUnreachable' | 'IssuerMismatch' | 'DiscoveryInvalid' | 'InsecureIssuerURL' | 'JWKSFetchFailed' | 'JWKSUnusable';

export class OIDCDiscoveryError extends Error {
  readonly reason: DiscoveryFailureReason;
  constructor(reason: DiscoveryFailureReason, message: string) {
    super(message);
    this.name = 'OIDCDiscoveryError';
    this.reason = reason;
  }
}

/** What a profile expects of its provider; a change of any of it fetches afresh. */
export interface ProviderExpectation {
  /** configuredIssuer(spec): what the discovery document's issuer must equal. */
  issuer: string;
  provider: OIDCProvider;
  /** Microsoft: the tenant that replaces `{tenantid}` in a multi-tenant discovery document. */
  tenantID?: string;
  algorithms: readonly IDTokenSigningAlgorithm[];
  /** The installation allows http:// (test providers only). */
  allowInsecure: boolean;
}

/** The discovery fields Gatehouse uses, as accepted. */
export interface AcceptedDiscovery {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksURI: string;
  issParameterSupported: boolean;
}

/** A public signing key as the JWKS served it, reduced to its public members. */
export type PublicSigningKey = RenderedOIDC['jwks']['keys'][number];

export interface ProviderSnapshot {
  discovery: AcceptedDiscovery;
  keys: PublicSigningKey[];
  discoveryFetchedAt: Date;
  jwksFetchedAt: Date;
}

const url = z.string().min(1).max(2048);
const stringList = z.array(z.string().max(256)).max(64);
const discoveryDocument = z.looseObject({
  issuer: url,
  authorization_endpoint: url,
  token_endpoint: url,
  jwks_uri: url,
  response_types_supported: stringList.optional(),
  code_challenge_methods_supported: stringList.optional(),
  id_token_signing_alg_values_supported: stringList.optional(),
  authorization_response_iss_parameter_supported: z.boolean().optional(),
});
const jwksDocument = z.object({ keys: z.array(z.record(z.string(), z.unknown())).max(256) });

/** JWK members that only a private or symmetric key has: a key carrying any is never published onward. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
/** The public members of each key type (RFC 7518 §6, RFC 8037). */
const PUBLIC_MEMBERS: Record<'RSA' | 'EC' | 'OKP', readonly string[]> = { RSA: ['n', 'e'], EC: ['crv', 'x', 'y'], OKP: ['crv', 'x'] };
const METADATA_MEMBERS = ['kid', 'alg', 'use', 'x5c', 'x5t', 'x5t#S256'];

export function discoveryURL(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

/** Why this installation must not fetch the issuer, or undefined when it may. */
export function insecureIssuer(issuer: string, allowInsecure: boolean): string | undefined {
  const protocol = URL.canParse(issuer) ? new URL(issuer).protocol : '';
  if (protocol === 'https:' || (protocol === 'http:' && allowInsecure)) return undefined;
  return `the issuer ${issuer} is not https://, where anyone on the network path could substitute the provider's keys: use the provider's https:// issuer (this installation fetches http:// only with the operator flag --allow-insecure-metadata-urls, chart value operator.allowInsecureMetadataURLs)`;
}

/** The issuer a discovery document declares, with Entra's multi-tenant `{tenantid}` filled in. */
function declaredIssuer(issuer: string, e: ProviderExpectation): string {
  return e.provider === 'Microsoft' && e.tenantID !== undefined ? issuer.split(TENANT_ID_PLACEHOLDER).join(e.tenantID.toLowerCase()) : issuer;
}

function endpoint(doc: Record<string, unknown>, field: string, e: ProviderExpectation): string {
  const value = String(doc[field]);
  if (!URL.canParse(value)) throw new OIDCDiscoveryError('DiscoveryInvalid', `the discovery document's ${field} ${JSON.stringify(value.slice(0, 200))} is not an absolute URL`);
  const protocol = new URL(value).protocol;
  if (protocol !== 'https:' && !(protocol === 'http:' && e.allowInsecure)) {
    throw new OIDCDiscoveryError('DiscoveryInvalid', `the discovery document's ${field} ${value} is not https:// (http:// is accepted only with the operator flag --allow-insecure-metadata-urls)`);
  }
  return value;
}

/** Accepts a discovery document for the profile, or says precisely why not. */
export function acceptDiscovery(raw: unknown, e: ProviderExpectation): AcceptedDiscovery {
  const parsed = discoveryDocument.safeParse(raw);
  if (!parsed.success) {
    throw new OIDCDiscoveryError('DiscoveryInvalid', `the discovery document at ${discoveryURL(e.issuer)} is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`).join('; ').slice(0, 500)}`);
  }
  const doc = parsed.data;
  const issuer = declaredIssuer(doc.issuer, e);
  if (issuer !== e.issuer) {
    throw new OIDCDiscoveryError('IssuerMismatch', `the discovery document at ${discoveryURL(e.issuer)} names the issuer ${JSON.stringify(doc.issuer.slice(0, 300))}, not the configured ${e.issuer}: check spec.oidc.issuer${e.provider === 'Microsoft' ? ' and spec.oidc.tenantID' : ''}`);
  }
  if (doc.response_types_supported && !doc.response_types_supported.includes('code')) {
    throw new OIDCDiscoveryError('DiscoveryInvalid', `the provider does not support the authorization code flow (response_types_supported: ${doc.response_types_supported.join(', ')})`);
  }
  // Entra omits the field although it supports S256; a provider that lists methods must list it.
  if (doc.code_challenge_methods_supported && !doc.code_challenge_methods_supported.includes('S256')) {
    throw new OIDCDiscoveryError('DiscoveryInvalid', `the provider does not support PKCE with S256 (code_challenge_methods_supported: ${doc.code_challenge_methods_supported.join(', ')})`);
  }
  const advertised = doc.id_token_signing_alg_values_supported;
  if (advertised && !e.algorithms.some((a) => advertised.includes(a))) {
    throw new OIDCDiscoveryError(
      'DiscoveryInvalid',
      `the provider signs ID tokens with ${advertised.join(', ')}, none of which spec.oidc.idTokenSigningAlgorithms (${e.algorithms.join(', ')}) allows`,
    );
  }
  return {
    issuer,
    authorizationEndpoint: endpoint(doc, 'authorization_endpoint', e),
    tokenEndpoint: endpoint(doc, 'token_endpoint', e),
    jwksURI: endpoint(doc, 'jwks_uri', e),
    issParameterSupported: doc.authorization_response_iss_parameter_supported === true,
  };
}

/** The keys an ID token of this profile may be verified with: public signing keys of an allowed algorithm, public members only. */
export function usableSigningKeys(raw: unknown, algorithms: readonly string[]): PublicSigningKey[] {
  const parsed = jwksDocument.safeParse(raw);
  if (!parsed.success) return [];
  return parsed.data.keys.flatMap((jwk): PublicSigningKey[] => {
    const kty = jwk.kty;
    if (kty !== 'RSA' && kty !== 'EC' && kty !== 'OKP') return [];
    if (PRIVATE_MEMBERS.some((m) => m in jwk)) return [];
    if (jwk.use !== undefined && jwk.use !== 'sig') return [];
    if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || jwk.kid.length > 256)) return [];
    if (jwk.alg !== undefined && (typeof jwk.alg !== 'string' || !algorithms.includes(jwk.alg))) return [];
    const key: PublicSigningKey = { kty };
    for (const m of [...PUBLIC_MEMBERS[kty], ...METADATA_MEMBERS]) {
      const v = jwk[m];
      if (typeof v === 'string' && v.length <= 8192) key[m] = v;
      else if (m === 'x5c' && Array.isArray(v) && v.length <= 8 && v.every((c) => typeof c === 'string' && c.length <= 8192)) key[m] = v as string[];
    }
    return PUBLIC_MEMBERS[kty].every((m) => typeof key[m] === 'string') ? [key] : [];
  });
}

async function getJSON(fetch: FetchFunction, target: string, failure: 'IssuerUnreachable' | 'JWKSFetchFailed', what: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(target, { headers: { accept: 'application/json' } });
  } catch (err) {
    const hint = err instanceof EgressRefusedError ? ' (a loopback, link-local or private address is fetched only with the operator flag --allow-private-metadata-urls)' : '';
    throw new OIDCDiscoveryError(failure, `fetching the ${what} ${target} failed: ${err instanceof Error ? err.message : String(err)}${hint}`);
  }
  if (res.status !== 200) {
    throw new OIDCDiscoveryError(failure, `the ${what} ${target} answered HTTP ${res.status}${res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : ''}`);
  }
  try {
    return JSON.parse(await res.text());
  } catch {
    throw new OIDCDiscoveryError(failure === 'IssuerUnreachable' ? 'DiscoveryInvalid' : 'JWKSUnusable', `the ${what} ${target} is not JSON`);
  }
}

/** Fetches and accepts the provider's discovery document, then its JWKS. */
export async function readProvider(fetch: FetchFunction, e: ProviderExpectation): Promise<ProviderSnapshot> {
  const insecure = insecureIssuer(e.issuer, e.allowInsecure);
  if (insecure !== undefined) throw new OIDCDiscoveryError('InsecureIssuerURL', insecure);
  const discovery = acceptDiscovery(await getJSON(fetch, discoveryURL(e.issuer), 'IssuerUnreachable', 'discovery document'), e);
  const discoveryFetchedAt = new Date();
  const keys = usableSigningKeys(await getJSON(fetch, discovery.jwksURI, 'JWKSFetchFailed', 'JWKS'), e.algorithms);
  if (keys.length === 0) {
    throw new OIDCDiscoveryError('JWKSUnusable', `the JWKS at ${discovery.jwksURI} has no usable public signing key (kty RSA, EC or OKP; use sig or absent; alg one of ${e.algorithms.join(', ')} or absent; no private members)`);
  }
  // The sp-server's JWKS is bounded; a provider publishing more keeps its first 32.
  return { discovery, keys: keys.slice(0, 32), discoveryFetchedAt, jwksFetchedAt: new Date() };
}
