// The OpenID Providers the sp-server signs users in with, as openid-client relying-party
// configurations: one per OIDC profile, built from the discovery and JWKS the operator rendered
// (no discovery request at login), cached, and rebuilt when the profile's rendered upstream changes.
import * as client from 'openid-client';
import type { RenderedOIDCProfile } from '../../crds/api/index.ts';
import { guardedFetch, type FetchFunction } from '../../egress/guarded-fetch.ts';
import { clientKeyOf } from './client-key.ts';

export interface OIDCUpstreamOptions {
  /** Connect to providers on private, loopback or link-local addresses (an IdP inside the network; tests). */
  allowPrivate: boolean;
  /** Deadline of one request to the provider (token endpoint, JWKS). */
  timeoutMs?: number;
}

/** The largest token or JWKS response read from a provider. */
const MAX_RESPONSE_BYTES = 512 * 1024;
/**
 * openid-client refetches a JWKS for an unknown kid only once the cached one is a minute old,
 * and treats one as fresh for five minutes: the rendered JWKS, which the operator vouches for,
 * is loaded as a minute old, so its keys verify without a request and a rotated key is fetched at once.
 */
const JWKS_BACKDATE_SECONDS = 60;

interface Entry {
  fingerprint: string;
  config: Promise<client.Configuration>;
}

export class OIDCUpstreams {
  private readonly entries = new Map<string, Entry>();
  private readonly fetch: FetchFunction;

  constructor(o: OIDCUpstreamOptions) {
    // The operator already applied the installation's https policy to the rendered URLs.
    this.fetch = guardedFetch({ allowPrivate: o.allowPrivate, allowInsecure: true, timeoutMs: o.timeoutMs ?? 10_000, maxBytes: MAX_RESPONSE_BYTES, userAgent: 'gatehouse-sp-server' });
  }

  /** Drops the configurations of profiles that `stillServed` no longer names (after a config reload). */
  retain(stillServed: (namespace: string, profile: string) => boolean): void {
    for (const key of this.entries.keys()) {
      const [namespace = '', profile = ''] = key.split('/');
      if (!stillServed(namespace, profile)) this.entries.delete(key);
    }
  }

  /** The relying-party configuration of `profile` in organization `namespace`. */
  configuration(namespace: string, profile: RenderedOIDCProfile): Promise<client.Configuration> {
    const key = `${namespace}/${profile.name}`;
    const fingerprint = JSON.stringify([profile.oidc, profile.allowedClockSkewSeconds, profile.oidc.clientAuthentication === 'private_key_jwt' ? profile.sp.key.privateKeyPem : '']);
    const entry = this.entries.get(key);
    if (entry?.fingerprint === fingerprint) return entry.config;
    const config = this.build(profile);
    this.entries.set(key, { fingerprint, config });
    config.catch(() => {
      if (this.entries.get(key)?.config === config) this.entries.delete(key);
    });
    return config;
  }

  private async build(profile: RenderedOIDCProfile): Promise<client.Configuration> {
    const o = profile.oidc;
    const server: client.ServerMetadata = {
      issuer: o.issuer,
      authorization_endpoint: o.authorizationEndpoint,
      token_endpoint: o.tokenEndpoint,
      jwks_uri: o.jwksURI,
      // openid-client refuses an ID token signed with any other algorithm.
      id_token_signing_alg_values_supported: [...o.idTokenSigningAlgorithms],
      authorization_response_iss_parameter_supported: o.issParameterSupported,
    };
    const metadata: Partial<client.ClientMetadata> = {
      redirect_uris: [o.redirectURI],
      ...(o.clientSecret !== undefined ? { client_secret: o.clientSecret } : {}),
      ...(profile.allowedClockSkewSeconds > 0 ? { [client.clockTolerance]: profile.allowedClockSkewSeconds } : {}),
    };
    const config = new client.Configuration(server, o.clientID, metadata, await clientAuthentication(profile));
    config[client.customFetch] = (url, options) => this.fetch(url, options as RequestInit);
    if ([o.issuer, o.authorizationEndpoint, o.tokenEndpoint, o.jwksURI].some((u) => u.startsWith('http:'))) client.allowInsecureRequests(config);
    // Verify the ID token's signature against the JWKS, not only the TLS channel it came over.
    client.enableNonRepudiationChecks(config);
    client.setJwksCache(config, { jwks: structuredClone(o.jwks) as client.ExportedJWKSCache['jwks'], uat: Math.floor(Date.now() / 1000) - JWKS_BACKDATE_SECONDS });
    return config;
  }
}

async function clientAuthentication(profile: RenderedOIDCProfile): Promise<client.ClientAuth> {
  const o = profile.oidc;
  switch (o.clientAuthentication) {
    case 'client_secret_basic':
      return client.ClientSecretBasic(o.clientSecret);
    case 'client_secret_post':
      return client.ClientSecretPost(o.clientSecret);
    case 'private_key_jwt': {
      const key = await clientKeyOf(profile.sp.key.privateKeyPem);
      // Entra takes only its token endpoint as the assertion's audience; others accept the issuer.
      const audience = o.provider === 'Microsoft' ? o.tokenEndpoint : o.issuer;
      return client.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }, {
        [client.modifyAssertion]: (_header, payload) => {
          payload.aud = audience;
        },
      });
    }
  }
}
