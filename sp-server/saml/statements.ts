// Checks of what a verified assertion states about the sign-in: when the Response and the
// Assertion were issued, the NameID's format against the profile, and the AuthnStatement with how
// recent the sign-in it reports is.
import type { RenderedProfile } from '../../crds/api/index.ts';
import { attr, childrenNamed, parseTime, type Element } from './dom.ts';
import { fail, quote } from './errors.ts';
import { NAMEID_FORMAT_URIS, NS } from './uris.ts';

/**
 * The browser posts a response seconds after the IdP issued it; one issued longer ago than this
 * (plus the profile's clock skew) was kept somewhere, and is refused even inside its validity window.
 */
export const MAX_ISSUE_AGE_SECONDS = 300;

/** What the login's AuthnRequest asked of the IdP's authentication (plain data: it crosses threads). */
export interface AuthnRequestFacts {
  /** When the AuthnRequest was made (the pending login's creation). */
  requestedAt: Date;
  /** The AuthnRequest carried ForceAuthn: the sign-in must be no older than the request. */
  forceAuthn: boolean;
  /** The OAuth request's max_age: the sign-in must be at most this old. */
  maxAgeSeconds?: number;
}

/** Times from a clock: the validation's `now` and the profile's allowed skew. */
export interface Clock {
  now: number;
  skewMs: number;
}

const at = (ms: number): string => new Date(ms).toISOString();

export function checkIssueInstants(response: Element, assertion: Element, { now, skewMs }: Clock): void {
  for (const [el, what] of [[response, 'Response'], [assertion, 'Assertion']] as const) {
    const issued = parseTime(attr(el, 'IssueInstant'), `${what} IssueInstant`);
    if (issued === undefined) fail('MALFORMED_RESPONSE', `the ${what} has no IssueInstant`);
    const t = issued.getTime();
    if (t > now + skewMs) {
      fail('ISSUE_INSTANT_OUT_OF_RANGE', `the ${what} was issued at ${at(t)}, after the time it arrived (${at(now)}) beyond the allowed clock skew of ${skewMs / 1000}s: check the IdP's clock`);
    }
    if (t < now - skewMs - MAX_ISSUE_AGE_SECONDS * 1000) {
      fail('ISSUE_INSTANT_OUT_OF_RANGE', `the ${what} was issued at ${at(t)}, more than ${MAX_ISSUE_AGE_SECONDS}s (plus the allowed clock skew of ${skewMs / 1000}s) before it arrived at ${at(now)}`);
    }
  }
}

/**
 * The Formats each spec.nameIDFormat accepts. An `emailAddress` profile also takes `unspecified`
 * (and no Format, which means the same, SAML core §8.3.1): ADFS and many Okta and Google setups
 * label an email that way, and the value must still be a ManagedUser's address in a verified
 * domain. Transient, persistent, X.509, Kerberos and entity identifiers are refused.
 */
const ACCEPTED_NAMEID_FORMATS: Record<RenderedProfile['nameIDFormat'], ReadonlySet<string> | 'any'> = {
  unspecified: 'any',
  emailAddress: new Set([NAMEID_FORMAT_URIS.emailAddress, NAMEID_FORMAT_URIS.unspecified]),
  persistent: new Set([NAMEID_FORMAT_URIS.persistent]),
};

export function checkNameIDFormat(nameID: Element, expected: RenderedProfile['nameIDFormat']): void {
  const accepted = ACCEPTED_NAMEID_FORMATS[expected];
  if (accepted === 'any') return;
  const format = attr(nameID, 'Format');
  if (!accepted.has(format ?? NAMEID_FORMAT_URIS.unspecified)) {
    fail('NAMEID_FORMAT_MISMATCH', `the IdP sends a NameID of format ${format === undefined ? 'none (unspecified)' : quote(format)}, the profile expects ${quote(NAMEID_FORMAT_URIS[expected])} (nameIDFormat ${expected})`);
  }
}

export interface Authentication {
  authnInstant: Date;
  sessionIndex?: string;
}

/** The sign-in the assertion reports (its first AuthnStatement), as recent as the request asked. */
export function checkAuthnStatement(assertion: Element, request: AuthnRequestFacts | undefined, { now, skewMs }: Clock): Authentication {
  const statement = childrenNamed(assertion, NS.saml, 'AuthnStatement')[0];
  if (statement === undefined) fail('AUTHN_STATEMENT_MISSING', 'the assertion has no AuthnStatement: a bearer assertion for web sign-in must say when the user signed in');
  const instant = parseTime(attr(statement, 'AuthnInstant'), 'AuthnInstant');
  if (instant === undefined) fail('AUTHN_STATEMENT_MISSING', 'the AuthnStatement has no AuthnInstant');
  const t = instant.getTime();
  if (t > now + skewMs) fail('NOT_YET_VALID', `the IdP reports a sign-in at ${at(t)}, after the time the response arrived (${at(now)}) beyond the allowed clock skew: check the IdP's clock`);
  if (request?.forceAuthn === true && t < request.requestedAt.getTime() - skewMs) {
    fail('AUTHN_INSTANT_TOO_OLD', `the IdP reports a sign-in at ${at(t)}, before the request of ${at(request.requestedAt.getTime())} that asked it to authenticate the user again (ForceAuthn): the IdP reused its session`);
  }
  if (request?.maxAgeSeconds !== undefined && t < now - request.maxAgeSeconds * 1000 - skewMs) {
    fail('AUTHN_INSTANT_TOO_OLD', `the IdP reports a sign-in at ${at(t)}, older than the application's max_age of ${request.maxAgeSeconds}s at ${at(now)}`);
  }
  const sessionIndex = attr(statement, 'SessionIndex');
  return { authnInstant: instant, ...(sessionIndex === undefined ? {} : { sessionIndex }) };
}
