// Everything the surfaces share, built once by buildApp and passed to each surface plugin.
import type { ActivityStore } from './activity/store.ts';
import type { GroupSource } from './scim/groups.ts';
import type { Logger } from 'pino';
import type { ConfigStore } from './config/store.ts';
import type { PendingLoginBudget } from './limits/pending-logins.ts';
import type { Metrics } from './metrics.ts';
import type { OAuthClient } from './oauth/clients.ts';
import type { OIDCUpstreams } from './oidc/upstreams.ts';
import type { SigningKeys } from './oauth/keys.ts';
import type { ValidatedAssertion, ValidationContext } from './saml/validate.ts';
import type { StateStore } from './state/store.ts';
import type { StatusSink } from './status/writer.ts';
import type { UserDirectory } from './users/directory.ts';

export type Validator = (samlResponseBase64: string, ctx: ValidationContext) => Promise<ValidatedAssertion>;

export interface Lifetimes {
  /** How long a browser may take at the IdP. */
  pendingMs: number;
  /** Authorization codes. */
  codeMs: number;
  /** ID and access tokens. */
  tokenSeconds: number;
}

export interface AppContext {
  issuer: string;
  secureCookies: boolean;
  config: ConfigStore;
  users: UserDirectory;
  clients: Map<string, OAuthClient>;
  signingKeys: SigningKeys;
  store: StateStore;
  status: StatusSink;
  metrics: Metrics;
  logger: Logger;
  validate: Validator;
  /** The largest ACS POST body read; larger ones are refused before parsing. */
  acsBodyLimitBytes: number;
  lifetimes: Lifetimes;
  /** Caps how many logins may be pending, in total and per client address. */
  pendingLogins: PendingLoginBudget;
  /** Extra readiness checks (watch health, Redis), name → ok. */
  readiness: () => Promise<Record<string, boolean>>;
  /** The deployment allows JIT (RBAC grants ManagedUser creation). */
  jitProvisioning: boolean;
  /** ManagedGroups (SCIM-provisioned) whose names feed role mapping next to the IdP's groups. */
  groups?: GroupSource;
  /** The OpenID Providers of OIDC profiles, as relying-party configurations. */
  oidc: OIDCUpstreams;
  /** Each organization's latest sign-ins and refusals (bounded; never etcd). */
  activity: ActivityStore;
}

/** The options buildApp registers every surface plugin with. */
export interface SurfaceOptions {
  ctx: AppContext;
}

/** A login waiting for the IdP's answer, keyed by the AuthnRequest ID (SAML) or the state's hash (OIDC). */
export interface PendingLogin {
  kind: 'login' | 'test';
  namespace: string;
  profile: string;
  /** Binds the response to the browser that started the login (cookie value hash). */
  browser: string;
  createdAt: number;
  loginHint?: string;
  clientId?: string;
  redirectUri?: string;
  state?: string;
  nonce?: string;
  /** The scope /authorize granted (oauth/scopes.ts). */
  scope?: string;
  codeChallenge?: string;
  /** The AuthnRequest asked the IdP to authenticate again (test link, prompt=login, max_age, spec.forceAuthn). */
  forceAuthn?: boolean;
  /** The OAuth request's max_age in seconds: the IdP's AuthnInstant may be at most this old. */
  maxAge?: number;
  /** A test login: sha256 of the test link's token, so a renewed or expired link ends it. */
  testLink?: string;
  /** A login at an OpenID Provider: what its callback is checked against. */
  upstreamOIDC?: { nonce: string; codeVerifier: string };
}

/** What an authorization code stands for, until /token redeems it once. */
export interface CodeGrant {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  nonce?: string;
  scope?: string;
  sub: string;
  email: string;
  org: string;
  roles: string[];
  name?: string;
  authTime: number;
}
