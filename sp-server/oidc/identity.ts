// Gatehouse's own checks of an ID token that openid-client has validated: the configured email
// claim, that the provider vouches for it, and the presets' pinning (Google's hosted domain,
// Entra's tenant). Their result is the protocol-neutral identity the login completes with.
import type { IDToken } from 'openid-client';
import { z } from 'zod';
import type { RenderedOIDCProfile } from '../../crds/api/index.ts';
import { domainOf } from '../config/store.ts';
import type { PendingLogin } from '../context.ts';
import { LoginRefusal, type UpstreamIdentity } from '../login/complete.ts';
import { quote } from '../saml/errors.ts';

const email = z.email().max(320);
const text = z.string().max(1024);
/** A groups claim: an array of names or IDs, or one string. Anything else counts as no groups. */
const groups = z.union([z.array(z.string().max(1024)).max(1000), z.string().max(1024).transform((g) => [g])]);

/** The identity the ID token's claims establish for `profile`, or the refusal of the first check that fails. */
export function identityFromClaims(profile: RenderedOIDCProfile, claims: IDToken): UpstreamIdentity {
  const o = profile.oidc;
  const claimName = o.claims.email;
  const address = email.safeParse(claims[claimName]);
  if (!address.success) {
    const hint = claims[claimName] === undefined ? `the ID token has no ${claimName} claim` : `the ID token's ${claimName} claim is not an email address`;
    throw new LoginRefusal('EMAIL_CLAIM_MISSING', hint);
  }
  const mail = address.data.toLowerCase();
  // Entra's "email domain owner verified" optional claim vouches for the address as well.
  const vouched = claims.email_verified === true || (o.provider === 'Microsoft' && claims.xms_edov === true);
  if (!vouched) {
    const said = claims.email_verified === undefined ? 'no email_verified claim' : `email_verified ${quote(String(claims.email_verified))}`;
    throw new LoginRefusal('EMAIL_NOT_VERIFIED', `the provider does not vouch for ${quote(mail)}: ${said}${o.provider === 'Microsoft' ? ' and no xms_edov: true' : ''}`);
  }
  if (o.provider === 'Google') {
    const domain = domainOf(mail);
    if (claims.hd === undefined) throw new LoginRefusal('HOSTED_DOMAIN_MISMATCH', `${quote(mail)} signed in with a personal Google account (no hd claim), not a Google Workspace account`);
    if (claims.hd !== domain) throw new LoginRefusal('HOSTED_DOMAIN_MISMATCH', `the Google Workspace domain (hd) is ${quote(String(claims.hd))}, the email's domain is ${quote(domain)}`);
  }
  if (o.provider === 'Microsoft') {
    const tid = typeof claims.tid === 'string' ? claims.tid.toLowerCase() : undefined;
    if (o.tenantID === undefined || tid !== o.tenantID.toLowerCase()) {
      throw new LoginRefusal('TENANT_MISMATCH', `the ID token's tenant (tid) is ${tid === undefined ? 'absent' : quote(tid)}, the profile's is ${quote(o.tenantID ?? 'not set')}`);
    }
  }
  const displayName = text.safeParse(claims[o.claims.displayName]);
  return {
    email: mail,
    displayName: displayName.success && displayName.data.trim() !== '' ? displayName.data.trim().slice(0, 256) : undefined,
    groupValues: (attribute) => {
      const values = groups.safeParse(claims[attribute]);
      return values.success ? values.data : [];
    },
    authTime: new Date((typeof claims.auth_time === 'number' ? claims.auth_time : claims.iat) * 1000),
    upstream: o.issuer,
    logFields: { subject: claims.sub },
  };
}

/**
 * After prompt=login (a test link, spec.forceAuthn), a provider that states when the user
 * authenticated must state a time after the sign-in started: an older session answering means
 * the provider ignored the request. Google and Entra omit auth_time unless max_age was sent, and
 * then openid-client already requires and checks it.
 */
export function checkReauthentication(claims: IDToken, pending: PendingLogin, skewSeconds: number): void {
  if (pending.forceAuthn !== true || typeof claims.auth_time !== 'number') return;
  const started = Math.floor(pending.createdAt / 1000);
  if (claims.auth_time < started - skewSeconds) {
    throw new LoginRefusal('AUTHN_INSTANT_TOO_OLD', `the provider was asked to authenticate the user again (prompt=login) but reports auth_time ${new Date(claims.auth_time * 1000).toISOString()}, before the sign-in started at ${new Date(started * 1000).toISOString()}`);
  }
}
