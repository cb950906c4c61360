// The OIDC scopes Gatehouse grants and the claims each releases (OIDC Core §5.4, plus one
// Gatehouse scope for the organization and its roles): /authorize decides the granted scope,
// the ID token, the access token and userinfo release claims by it.

/** `organization` is Gatehouse's: the `org` claim (the organization's namespace) and `roles`. */
export const SCOPES = ['openid', 'email', 'profile', 'organization'] as const;
export type Scope = (typeof SCOPES)[number];

/** The claims each scope releases; `sub` always goes with `openid`. */
export const SCOPE_CLAIMS = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['name'],
  organization: ['org', 'roles'],
} as const satisfies Record<Scope, readonly string[]>;

const isScope = (s: string): s is Scope => (SCOPES as readonly string[]).includes(s);

export type ScopeDecision = { granted: string } | { error: 'invalid_scope'; description: string };

/**
 * The scope granted for a request: unknown values are ignored (OIDC Core §3.1.2.1), `openid` is
 * required, and a known scope the client is not allowed is refused rather than silently dropped,
 * so a misconfigured application learns why its claims are missing.
 */
export function grantScope(requested: string | undefined, allowed: readonly Scope[]): ScopeDecision {
  const values = new Set((requested ?? '').split(' ').filter(isScope));
  if (!values.has('openid')) return { error: 'invalid_scope', description: 'scope must include openid' };
  const refused = [...values].filter((s) => !allowed.includes(s));
  if (refused.length > 0) return { error: 'invalid_scope', description: `this client may not request ${refused.join(' ')}` };
  // A canonical order, so equal grants read the same everywhere.
  return { granted: SCOPES.filter((s) => values.has(s)).join(' ') };
}

/** What Gatehouse knows about the user that a token may tell. */
export interface UserClaims {
  email?: string;
  email_verified?: boolean;
  name?: string;
  org?: string;
  roles?: string[];
}

/**
 * The claims of `all` (the user's, or a verified access token's payload) that `scope` releases;
 * a code issued before scopes were kept releases none.
 */
export function releasedClaims(scope: string | undefined, all: UserClaims | Readonly<Record<string, unknown>>): Partial<Record<string, unknown>> {
  const granted = new Set((scope ?? 'openid').split(' '));
  const from = all as Readonly<Record<string, unknown>>;
  const out: Record<string, unknown> = {};
  for (const s of SCOPES) {
    if (!granted.has(s)) continue;
    for (const claim of SCOPE_CLAIMS[s]) if (claim !== 'sub' && from[claim] !== undefined) out[claim] = from[claim];
  }
  return out;
}

/** Every claim a token may carry, for discovery's claims_supported. */
export const CLAIMS_SUPPORTED = ['iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'amr', ...SCOPES.flatMap((s) => SCOPE_CLAIMS[s])];
