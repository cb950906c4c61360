// The redirect that starts a login at an OpenID Provider: the authorization code flow with PKCE
// (S256), a fresh state and nonce, and the hints the presets understand.
import * as client from 'openid-client';
import type { RenderedOIDCProfile } from '../../crds/api/index.ts';
import { domainOf } from '../config/store.ts';
import type { PendingLogin } from '../context.ts';
import { sha256b64url } from '../http-util.ts';

/** The pending login's key: the state's hash, so the store never holds a usable state. */
export const pendingKeyOfState = (state: string) => `oidc:${sha256b64url(state)}`;

export interface UpstreamAuthorization {
  url: URL;
  /** Where the pending login is kept until the callback. */
  pendingKey: string;
  /** What the callback checks the provider's answer against. */
  upstream: NonNullable<PendingLogin['upstreamOIDC']>;
}

export interface AuthorizationFacts {
  loginHint?: string | undefined;
  /** Ask the provider to authenticate the user again (test link, prompt=login, max_age, spec.forceAuthn). */
  forceAuthn: boolean;
  /** The application's max_age, passed on so the provider's auth_time can be checked against it. */
  maxAge?: number | undefined;
}

export async function upstreamAuthorization(config: client.Configuration, profile: RenderedOIDCProfile, facts: AuthorizationFacts): Promise<UpstreamAuthorization> {
  const o = profile.oidc;
  const state = client.randomState();
  const nonce = client.randomNonce();
  const codeVerifier = client.randomPKCECodeVerifier();
  const params: Record<string, string> = {
    redirect_uri: o.redirectURI,
    response_type: 'code',
    scope: o.scopes.join(' '),
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  };
  if (facts.loginHint) {
    params.login_hint = facts.loginHint;
    // Google shows only accounts of the Workspace domain; Entra skips its home-realm discovery.
    if (o.provider === 'Google') params.hd = domainOf(facts.loginHint);
    if (o.provider === 'Microsoft') params.domain_hint = domainOf(facts.loginHint);
  }
  if (facts.forceAuthn) params.prompt = 'login';
  if (facts.maxAge !== undefined) params.max_age = String(facts.maxAge);
  return { url: client.buildAuthorizationUrl(config, params), pendingKey: pendingKeyOfState(state), upstream: { nonce, codeVerifier } };
}
