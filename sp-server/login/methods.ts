// The login-methods policy: for an address, whether password sign-in is allowed and whether SSO
// is available or enforced. It reads the operator's decisions (the ManagedUser's status, the
// profile's enforced domains) and never lets one organization decide about another's addresses.
import type { SSODecisionReason } from '../../crds/api/index.ts';
import { domainOf, type ConfigStore } from '../config/store.ts';
import type { UserRecord } from '../users/directory.ts';
import { authorizeURL } from '../urls.ts';

/** Why the answer is what it is: the operator's reason for a ManagedUser, or UnmanagedUser for an address it does not list. */
export type LoginMethodsReason = SSODecisionReason | 'UnmanagedUser';

export interface LoginMethodsAnswer {
  email: string;
  password: { allowed: boolean };
  sso:
    | { available: false }
    | { available: true; enforced: boolean; organization: string; profile: string; displayName?: string; authorizeURL: string };
  reason?: LoginMethodsReason;
}

export interface LoginMethodsInput {
  config: Pick<ConfigStore, 'organizationForDomain' | 'profileForEmail' | 'enforcementWithoutProfile'>;
  users: readonly UserRecord[];
  jitProvisioning: boolean;
  issuer: string;
}

/** `email` is canonical (login/address.ts). */
export function loginMethods(email: string, { config, users, jitProvisioning, issuer }: LoginMethodsInput): LoginMethodsAnswer {
  const domain = domainOf(email);
  const org = config.organizationForDomain(domain);
  // A domain nobody verified: every organization's ManagedUsers for it are strangers' claims.
  if (!org) return { email, password: { allowed: true }, sso: { available: false } };
  const found = config.profileForEmail(email);
  const ref = found?.org.namespace === org.namespace ? found : undefined;
  const user = users.find((u) => u.namespace === org.namespace);
  const sso = (enforced: boolean): LoginMethodsAnswer['sso'] =>
    ref
      ? {
          available: true,
          enforced,
          organization: ref.org.namespace,
          profile: ref.profile.name,
          ...(ref.profile.displayName ? { displayName: ref.profile.displayName } : {}),
          authorizeURL: authorizeURL(issuer, email),
        }
      : { available: false };
  if (user) {
    if (!user.active) return { email, password: { allowed: false }, sso: { available: false }, reason: 'Inactive' };
    // The operator decided; the server only reads its decision.
    const enforced = user.sso?.enforced === true;
    return { email, password: { allowed: !enforced }, sso: sso(enforced), ...(user.sso?.reason ? { reason: user.sso.reason } : {}) };
  }
  const jit = ref !== undefined && ref.profile.jit.enabled && jitProvisioning;
  // A healthy profile lists its enforced domains; one left out of the config (a broken IdP or SP
  // key) is listed by the organization, so a broken connection means no login, never a password.
  const broken = config.enforcementWithoutProfile(domain);
  const covered = broken
    ? broken.unmanagedUsers === 'Refuse' && !broken.exempt.includes(email)
    : ref !== undefined && ref.profile.unmanagedUsers === 'Refuse' && ref.profile.enforcedDomains.includes(domain) && !ref.profile.enforcementExempt.includes(email);
  if (!covered) return { email, password: { allowed: true }, sso: jit ? sso(false) : { available: false } };
  // Enforcement covers the whole domain: an address the organization does not list gets no password.
  if (jit) return { email, password: { allowed: false }, sso: sso(true), reason: 'DomainEnforced' };
  return { email, password: { allowed: false }, sso: { available: false }, reason: 'UnmanagedUser' };
}
