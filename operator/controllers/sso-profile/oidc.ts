// The OpenID Connect side of an SSOProfile's upstream: the provider (discovery + JWKS, through the
// provider cache) behind IdPConfigValid and CertificateValid, and the client credential behind
// ClientSecretReady. The client secret itself never reaches status, Events or logs.
import { configuredIssuer, ID_TOKEN_SIGNING_ALGORITHMS, OIDC_DEFAULTS, parseDuration, REFRESH_METADATA_ANNOTATION, type OIDCSpec } from '../../../crds/api/index.ts';
import { rfc3339 } from '../../conditions.ts';
import { OIDC_CLIENT_SECRET_NAME, readClientSecret } from '../../oidc/client-secret.ts';
import { insecureIssuer, type DiscoveryFailureReason } from '../../oidc/discovery.ts';
import type { ConditionWriter, Step, StepResult } from '../steps.ts';
import { oidcEndpoints, type ProfileReconcile } from './state.ts';

const profileKey = (r: ProfileReconcile) => `${r.profile.metadata.namespace}/${r.profile.metadata.name}`;

function allowedAlgorithms(spec: OIDCSpec): OIDCSpec['idTokenSigningAlgorithms'] {
  const wanted = spec.idTokenSigningAlgorithms ?? OIDC_DEFAULTS.idTokenSigningAlgorithms;
  return ID_TOKEN_SIGNING_ALGORITHMS.filter((a) => wanted.includes(a));
}

/** IdPConfigValid and CertificateValid of an OIDC profile, from its provider as last accepted. */
export function runOIDCProvider(r: ProfileReconcile, spec: OIDCSpec, conditions: ConditionWriter<'IdPConfigValid' | 'CertificateValid'>): StepResult {
  const { ctx, profile: p } = r;
  const key = profileKey(r);
  // A profile that moved from a SAML metadata URL stops fetching it.
  ctx.metadata.forget(key);
  r.status.idp = undefined;
  const issuer = configuredIssuer(spec);
  const fail = (reason: DiscoveryFailureReason | 'DiscoveryPending', message: string) => {
    const pending = reason === 'DiscoveryPending';
    r.idpPending = pending;
    r.status.oidc = undefined;
    conditions.set({ type: 'IdPConfigValid', status: pending ? 'Unknown' : 'False', reason, message });
    conditions.set({ type: 'CertificateValid', status: 'Unknown', reason: 'IdPConfigInvalid', message: 'no signing keys to check: the OpenID Provider is not accepted' });
    return {};
  };
  if (issuer === undefined) return fail('DiscoveryInvalid', 'the Generic provider needs spec.oidc.issuer');
  const insecure = insecureIssuer(issuer, ctx.config.allowInsecureMetadataUrls);
  if (insecure !== undefined) {
    ctx.oidcProviders.forget(key);
    return fail('InsecureIssuerURL', insecure);
  }
  const refreshRequest = p.metadata.annotations?.[REFRESH_METADATA_ANNOTATION];
  const st = ctx.oidcProviders.get(key, {
    issuer,
    provider: spec.provider ?? OIDC_DEFAULTS.provider,
    ...(spec.tenantID !== undefined ? { tenantID: spec.tenantID } : {}),
    algorithms: allowedAlgorithms(spec),
    allowInsecure: ctx.config.allowInsecureMetadataUrls,
    refreshMs: parseDuration(spec.refreshInterval ?? OIDC_DEFAULTS.refreshInterval),
    ...(refreshRequest !== undefined ? { refreshRequest } : {}),
  });
  const snap = st.snapshot;
  if (snap === undefined) {
    if (st.lastError !== undefined && st.lastErrorReason !== undefined) return fail(st.lastErrorReason, st.lastError);
    return fail('DiscoveryPending', `fetching the discovery document of ${issuer}`);
  }
  r.oidc = snap;
  const { discovery, keys } = snap;
  // Still True while a stale copy serves; the reason says why it is stale.
  const stale = st.lastError !== undefined ? `; the last refresh failed (${st.lastError}), using the copy fetched at ${rfc3339(snap.jwksFetchedAt)}` : '';
  conditions.set({ type: 'IdPConfigValid', status: 'True', reason: st.lastErrorReason ?? 'Valid', message: `OpenID Provider ${discovery.issuer}, authorization endpoint ${discovery.authorizationEndpoint}${stale}` });
  conditions.set({ type: 'CertificateValid', status: 'True', reason: 'SigningKeysAvailable', message: `${keys.length} usable signing key(s) in the JWKS at ${discovery.jwksURI}` });
  r.status.oidc = {
    issuer: discovery.issuer,
    authorizationEndpoint: discovery.authorizationEndpoint,
    tokenEndpoint: discovery.tokenEndpoint,
    jwksURI: discovery.jwksURI,
    signingKeys: keys.map((k) => ({ kty: k.kty, ...(k.kid !== undefined ? { kid: k.kid.slice(0, 256) } : {}), ...(k.alg !== undefined ? { alg: k.alg } : {}) })),
    discoveryFetchedTime: rfc3339(snap.discoveryFetchedAt),
    jwksFetchedTime: rfc3339(snap.jwksFetchedAt),
  };
  return {};
}

/** After the IdP step, OIDC profiles only: the client credential. Owns ClientSecretReady (absent for SAML profiles). */
export const clientSecretStep: Step<ProfileReconcile, 'ClientSecretReady'> = {
  name: 'client secret',
  owns: ['ClientSecretReady'],
  run(r, conditions) {
    const { ctx, profile: p } = r;
    const spec = p.spec.oidc;
    if (!spec) return {};
    const ns = p.metadata.namespace;
    const key = profileKey(r);
    const read = readClientSecret(spec, ns, ctx.oidcClientSecrets.get(ns, OIDC_CLIENT_SECRET_NAME));
    if (read.ok && read.reason === 'PrivateKeyJWT') {
      ctx.oidcSecretsRead.delete(key);
      const { jwksURL } = oidcEndpoints(ctx.config.spPublicUrl, ns, p.metadata.name, 'private_key_jwt');
      conditions.set({ type: 'ClientSecretReady', status: 'True', reason: 'PrivateKeyJWT', message: `private_key_jwt: client assertions are signed with the profile's SP key; register its public key at the provider (JWKS at ${jwksURL})` });
      return {};
    }
    if (read.ok) {
      ctx.oidcSecretsRead.set(key, { key: read.key, value: read.value, readAt: r.now });
      r.clientSecret = read.value;
      conditions.set({ type: 'ClientSecretReady', status: 'True', reason: 'SecretRead', message: `client secret read from the key ${read.key} of the Secret ${ns}/${OIDC_CLIENT_SECRET_NAME}` });
      return {};
    }
    const remembered = ctx.oidcSecretsRead.get(key);
    const keeps = remembered !== undefined && remembered.key === read.key;
    if (keeps) r.clientSecret = remembered.value;
    const note = keeps ? `; until then the client secret read at ${rfc3339(remembered.readAt)} keeps serving` : '';
    conditions.set({ type: 'ClientSecretReady', status: 'False', reason: read.reason, message: `${read.message}${note}` });
    return {};
  },
};
