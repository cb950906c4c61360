// The login-methods policy: for an address, which sign-in methods the application's login page
// may offer. It reads the operator's decisions (the ManagedUser's status, the profile's enforced
// domains) and never lets one organization decide about another's addresses. The answer says
// only what a login page needs; why it is what it is goes to the operators' log.
import type { SSODecisionReason } from '../../crds/api/index.ts';
import { domainOf, type ConfigStore } from '../config/store.ts';
import type { UserRecord } from '../users/directory.ts';
import { authorizeURL } from '../urls.ts';

export type LoginMethod = 'sso' | 'password';

/** What the application is told. */
export interface LoginMethodsAnswer {
  /** The address in its canonical form: the application's account key. */
  email: string;
  /** What the login page may offer: SSO first when both; none means no way in. */
  methods: LoginMethod[];
  /** With `sso`: the authorization endpoint with client_id and login_hint; the app adds its redirect_uri, scope, state, nonce and PKCE. */
  ssoURL?: string;
  /** No method because the domain's SSO is enforced and out of service for now: tell the user to retry later, never offer a password. */
  ssoUnavailable?: true;
}

/** Why the answer is what it is: the operator's reason for a ManagedUser, or UnmanagedUser for an address it does not list. */
export type LoginMethodsReason = SSODecisionReason | 'UnmanagedUser' | 'Inactive' | 'NoOrganization';

/** The answer and, for the log only, the reason and the organization that decided. */
export interface LoginMethodsDecision {
  answer: LoginMethodsAnswer;
  reason?: LoginMethodsReason;
  organization?: string;
}

export interface LoginMethodsInput {
  config: Pick<ConfigStore, 'organizationForDomain' | 'profileForEmail' | 'enforcementWithoutProfile'>;
  users: readonly UserRecord[];
  jitProvisioning: boolean;
  issuer: string;
  /** The authenticated client asking: its id goes into ssoURL. */
  clientId: string;
}

/** `email` is canonical (login/address.ts). */
export function loginMethods(email: string, { config, users, jitProvisioning, issuer, clientId }: LoginMethodsInput): LoginMethodsDecision {
  const domain = domainOf(email);
  const org = config.organizationForDomain(domain);
  // A domain nobody verified: every organization's ManagedUsers for it are strangers' claims.
  if (!org) return { answer: { email, methods: ['password'] }, reason: 'NoOrganization' };
  const organization = org.namespace;
  const found = config.profileForEmail(email);
  const ref = found?.org.namespace === org.namespace ? found : undefined;
  const user = users.find((u) => u.namespace === org.namespace);
  // A healthy profile lists its enforced domains; one left out of the config (a broken IdP or SP
  // key, a lapsed verification) is listed by the organization, so a broken connection means no
  // login, never a password — and every address of the domain hears the same.
  const broken = config.enforcementWithoutProfile(domain);
  const decide = (password: boolean, sso: boolean, reason: LoginMethodsReason | undefined): LoginMethodsDecision => {
    const methods: LoginMethod[] = [...(sso && ref ? ['sso' as const] : []), ...(password ? ['password' as const] : [])];
    const answer: LoginMethodsAnswer = { email, methods };
    if (methods.includes('sso')) answer.ssoURL = authorizeURL(issuer, email, clientId);
    if (methods.length === 0 && (broken !== undefined || (sso && !ref))) answer.ssoUnavailable = true;
    return { answer, organization, ...(reason ? { reason } : {}) };
  };
  if (user) {
    if (!user.active) return decide(false, false, 'Inactive');
    // The operator decided; the server only reads its decision.
    const enforced = user.sso?.enforced === true;
    return decide(!enforced, true, user.sso?.reason);
  }
  const jit = ref !== undefined && ref.profile.jit.enabled && jitProvisioning;
  const covered = broken
    ? broken.unmanagedUsers === 'Refuse' && !broken.exempt.includes(email)
    : ref !== undefined && ref.profile.unmanagedUsers === 'Refuse' && ref.profile.enforcedDomains.includes(domain) && !ref.profile.enforcementExempt.includes(email);
  if (!covered) return decide(true, jit, undefined);
  // Enforcement covers the whole domain: an address the organization does not list gets no password.
  if (jit) return decide(false, true, 'DomainEnforced');
  return decide(false, false, 'UnmanagedUser');
}
