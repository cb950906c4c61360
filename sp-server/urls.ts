// The sp-server's public paths that leave their own surface: the OAuth surface serves them and
// advertises them in discovery, and the login-methods API hands the authorize URL to the
// application. Surfaces share these builders instead of spelling each other's URLs.
export const OAUTH_PATHS = {
  authorize: '/authorize',
  token: '/token',
  userinfo: '/userinfo',
  jwks: '/jwks',
  discovery: '/.well-known/openid-configuration',
} as const;

/** Where the application sends the browser to sign in `email` with SSO, once it added its redirect_uri, scope, state, nonce and PKCE. */
export function authorizeURL(issuer: string, email: string, clientId: string): string {
  return `${issuer}${OAUTH_PATHS.authorize}?${new URLSearchParams({ client_id: clientId, login_hint: email }).toString()}`;
}

/** An absolute URL of one of the OAuth surface's endpoints. */
export function oauthURL(issuer: string, endpoint: keyof typeof OAUTH_PATHS): string {
  return `${issuer}${OAUTH_PATHS[endpoint]}`;
}

/** The upstream side of OIDC profiles (the lead's fixed paths): the provider's redirect URI and the private_key_jwt JWKS. */
export const OIDC_UPSTREAM_PATHS = {
  callback: '/oidc/:namespace/:profile/callback',
  jwks: '/oidc/:namespace/:profile/jwks',
} as const;
