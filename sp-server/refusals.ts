// Every way the sp-server refuses a login, as one typed table: what the user reads, what the
// administrator should change, the HTTP status of the user's page, and the metric label. A code
// missing from the table (or a row for an unknown code) does not compile.
import { RENEW_TEST_LINK_ANNOTATION } from '../crds/api/index.ts';
import { SAML_ERROR_CODES, type SamlErrorCode } from './saml/errors.ts';

/**
 * Refusals the sp-server decides itself, before or after the SAML checks: which profile, which
 * browser, who the signed-in user is. Like the validator's codes they are stable: they appear on
 * the user's page, in logs, in SSOProfile status and in metrics, so they are never renamed.
 */
export const LOGIN_REFUSAL_CODES = [
  /** The ACS URL names an SSOProfile that does not exist (any more). */
  'PROFILE_NOT_FOUND',
  /** The response was posted by another browser than the one that started the login. */
  'BROWSER_MISMATCH',
  /** The test link's login signed in someone other than spec.test.email. */
  'TEST_USER_MISMATCH',
  /** The test link is past its expiry (status.test.expiresAt), or was replaced while the login was under way. */
  'TEST_LINK_EXPIRED',
  /** The email's domain belongs to another organization. */
  'USER_OTHER_ORGANIZATION',
  /** The email's domain is not verified by this organization. */
  'DOMAIN_NOT_VERIFIED',
  /** No ManagedUser for the email, and JIT does not create one. */
  'USER_NOT_MANAGED',
  /** The ManagedUser is deactivated (spec.active: false). */
  'USER_INACTIVE',
  /** One client address or organization sent more requests than its rate limit allows. */
  'RATE_LIMITED',
  /** Too many logins started and not finished within the pending-login lifetime (per address or in total). */
  'TOO_MANY_PENDING_LOGINS',
  /** Every SAML validation worker is busy and the queue is full: nothing was checked, the browser may post again. */
  'SERVER_BUSY',
] as const;

/**
 * Refusals of a login through an OpenID Connect upstream (sp-server/oidc/): the callback, the
 * token exchange, the ID token's checks (openid-client's) and Gatehouse's own identity checks.
 * Stable like the others.
 */
export const OIDC_REFUSAL_CODES = [
  /** The provider answered the authorization request with an error (access_denied, …); the hint names it. */
  'OIDC_UPSTREAM_ERROR',
  /** The callback's state is unknown, expired or already used. */
  'OIDC_STATE_INVALID',
  /** The callback lacks the code (or carries malformed parameters). */
  'OIDC_CALLBACK_INVALID',
  /** The token endpoint refused the code exchange (invalid_client: a wrong client secret or key; invalid_grant: a spent code). */
  'OIDC_TOKEN_EXCHANGE_FAILED',
  /** The token endpoint answered something that is not a valid OpenID Connect token response (no ID token, bad JSON). */
  'OIDC_TOKEN_RESPONSE_INVALID',
  /** The token endpoint or JWKS could not be reached (connection refused, timeout, DNS). */
  'OIDC_UPSTREAM_UNREACHABLE',
  /** The sp-server's egress guard refused the provider's address (private, loopback or link-local, or not https). */
  'OIDC_UPSTREAM_ADDRESS_REFUSED',
  /** The ID token's signature does not verify, or no key of the provider's JWKS (fetched again) matches its kid. */
  'ID_TOKEN_SIGNATURE_INVALID',
  /** The ID token is signed with an algorithm outside spec.oidc.idTokenSigningAlgorithms. */
  'ID_TOKEN_ALGORITHM_NOT_ALLOWED',
  /** The ID token's iss (or the callback's iss parameter) is not the profile's issuer. */
  'ID_TOKEN_ISSUER_MISMATCH',
  /** The ID token's aud does not name the client ID, or azp is not the client with several audiences. */
  'ID_TOKEN_AUDIENCE_MISMATCH',
  /** The ID token is expired, or its iat lies in the future, beyond the allowed clock skew. */
  'ID_TOKEN_EXPIRED',
  /** The ID token's nonce is not the one this sign-in sent. */
  'ID_TOKEN_NONCE_MISMATCH',
  /** The application asked for max_age, and the provider's auth_time is older. */
  'ID_TOKEN_AUTH_TIME_TOO_OLD',
  /** The ID token lacks the configured email claim (spec.oidc.claims.email), or it is not an address. */
  'EMAIL_CLAIM_MISSING',
  /** The provider does not vouch for the email (email_verified is not true; Microsoft: nor xms_edov). */
  'EMAIL_NOT_VERIFIED',
  /** Google: the hd claim is absent (a personal account) or is not the email's domain. */
  'HOSTED_DOMAIN_MISMATCH',
  /** Microsoft: the tid claim is not spec.oidc.tenantID. */
  'TENANT_MISMATCH',
] as const;

export type LoginRefusalCode = (typeof LOGIN_REFUSAL_CODES)[number];
export type OIDCRefusalCode = (typeof OIDC_REFUSAL_CODES)[number];
export type RefusalCode = SamlErrorCode | LoginRefusalCode | OIDCRefusalCode;
export const REFUSAL_CODES: readonly RefusalCode[] = [...SAML_ERROR_CODES, ...LOGIN_REFUSAL_CODES, ...OIDC_REFUSAL_CODES];

/** The HTTP statuses a refusal page may carry. */
export const REFUSAL_HTTP_STATUSES = [400, 403, 404, 429, 503] as const;

export interface RefusalText {
  /**
   * The user's error page: what went wrong in words a user can act on (or forward to their
   * administrator), without internals. The administrator's detail is in the refusal's hint.
   */
  userMessage: string;
  /** What an administrator should change; the test link's result shows it after the hint. */
  adminAdvice: string;
  /** The status of the user's error page (the test link's result page is always 400). */
  httpStatus: (typeof REFUSAL_HTTP_STATUSES)[number];
}

export interface Refusal extends RefusalText {
  /**
   * The `code` label of gatehouse_saml_rejections_total. It is the code itself: codes are
   * label-safe and never renamed, so dashboards and alerts keep working across releases.
   */
  metricLabel: RefusalCode;
}

const ASK_ADMIN = 'Ask your administrator to check the single sign-on setup.';
const NOT_ACCEPTED = 'Your identity provider sent a sign-in response that is not accepted.';
const NOT_VERIFIED = 'The sign-in response could not be verified.';
const START_AGAIN_EXPIRED = 'The sign-in response has expired. Please start again.';
const NOT_SET_UP_HERE = 'Your identity provider signed you in, but this account is not set up for single sign-on here. Ask your administrator.';
const NOT_ACCEPTED_SEE_STATUS = 'Your identity provider\'s sign-in response could not be accepted. Your administrator can see the details in the SSO connection\'s status.';
const COMPARE_SP_SETTINGS = 'Compare the IdP\'s settings with status.sp (entity ID, ACS URL) and the signing certificate.';
const SET_ACS_URL = 'Set the IdP\'s ACS / Reply URL to status.sp.acsURL.';
const FIX_CLOCK = 'Fix the IdP server\'s clock or raise spec.allowedClockSkew.';
const COMPARE_OIDC_SETTINGS = 'Compare the provider\'s app registration with spec.oidc (issuer, client ID, redirect URI = status.sp.redirectURI) and the operator\'s conditions on the SSOProfile.';
const NOT_ADMITTED = 'Your identity provider signed you in, but with an account this organization does not accept for single sign-on. Sign in with your work account, or ask your administrator.';

const TEXTS = {
  MALFORMED_RESPONSE: { userMessage: 'Your identity provider sent a sign-in response that could not be read.', adminAdvice: COMPARE_SP_SETTINGS, httpStatus: 400 },
  DTD_FORBIDDEN: { userMessage: 'Your identity provider sent a sign-in response in a form that is not accepted.', adminAdvice: COMPARE_SP_SETTINGS, httpStatus: 400 },
  STATUS_NOT_SUCCESS: {
    userMessage: 'Your identity provider did not complete the sign-in.',
    adminAdvice: 'The IdP refused the login: check that the user is assigned to the application at the IdP.',
    httpStatus: 400,
  },
  ASSERTION_MISSING: { userMessage: 'Your identity provider sent a sign-in response without a user.', adminAdvice: COMPARE_SP_SETTINGS, httpStatus: 400 },
  MULTIPLE_ASSERTIONS: { userMessage: NOT_ACCEPTED, adminAdvice: COMPARE_SP_SETTINGS, httpStatus: 400 },
  SIGNATURE_MISSING: {
    userMessage: `The sign-in response was not signed by your identity provider. ${ASK_ADMIN}`,
    adminAdvice: 'Configure the IdP to sign the assertion (or the response).',
    httpStatus: 400,
  },
  SIGNATURE_INVALID: {
    userMessage: NOT_VERIFIED,
    adminAdvice: 'The signature does not verify: check that nothing rewrites the response between the IdP and Gatehouse.',
    httpStatus: 400,
  },
  UNTRUSTED_CERTIFICATE: {
    userMessage: 'The sign-in response was signed with a certificate your organization has not registered. Ask your administrator to update the single sign-on setup.',
    adminAdvice: 'Add the IdP\'s current signing certificate to spec.idp.certificates (keep the old one during rotation).',
    httpStatus: 400,
  },
  ALGORITHM_NOT_ALLOWED: {
    userMessage: `The sign-in response uses a signature method your organization does not accept. ${ASK_ADMIN}`,
    adminAdvice: 'Switch the IdP to RSA-SHA256, or list the algorithm in spec.signatureAlgorithms.',
    httpStatus: 400,
  },
  SIGNATURE_WRAPPING: { userMessage: NOT_VERIFIED, adminAdvice: COMPARE_SP_SETTINGS, httpStatus: 400 },
  ISSUER_MISMATCH: {
    userMessage: 'The sign-in response came from an identity provider that is not set up for your organization.',
    adminAdvice: 'Set spec.idp.entityID to the IdP\'s entity ID, or load the IdP metadata again.',
    httpStatus: 400,
  },
  AUDIENCE_MISMATCH: {
    userMessage: `The sign-in response was meant for another application. ${ASK_ADMIN}`,
    adminAdvice: 'Set the IdP\'s Audience / SP Entity ID to status.sp.entityID.',
    httpStatus: 400,
  },
  DESTINATION_MISMATCH: { userMessage: `The sign-in response was sent to the wrong address. ${ASK_ADMIN}`, adminAdvice: SET_ACS_URL, httpStatus: 400 },
  DESTINATION_MISSING: { userMessage: `The sign-in response does not say where it was meant to go. ${ASK_ADMIN}`, adminAdvice: COMPARE_SP_SETTINGS, httpStatus: 400 },
  RECIPIENT_MISMATCH: { userMessage: `The sign-in response was sent to the wrong address. ${ASK_ADMIN}`, adminAdvice: SET_ACS_URL, httpStatus: 400 },
  SUBJECT_CONFIRMATION_MISSING: { userMessage: NOT_ACCEPTED, adminAdvice: COMPARE_SP_SETTINGS, httpStatus: 400 },
  IN_RESPONSE_TO_MISMATCH: { userMessage: 'This sign-in does not belong to the one started in this browser. Please start again.', adminAdvice: COMPARE_SP_SETTINGS, httpStatus: 400 },
  UNSOLICITED_RESPONSE: { userMessage: 'This sign-in was not started here or has expired. Please start again.', adminAdvice: COMPARE_SP_SETTINGS, httpStatus: 400 },
  NOT_YET_VALID: { userMessage: 'The sign-in response is not valid yet; a clock may be wrong. Please try again in a minute.', adminAdvice: FIX_CLOCK, httpStatus: 400 },
  EXPIRED: { userMessage: START_AGAIN_EXPIRED, adminAdvice: FIX_CLOCK, httpStatus: 400 },
  SUBJECT_CONFIRMATION_EXPIRED: { userMessage: START_AGAIN_EXPIRED, adminAdvice: COMPARE_SP_SETTINGS, httpStatus: 400 },
  CONDITIONS_MISSING: { userMessage: NOT_ACCEPTED, adminAdvice: COMPARE_SP_SETTINGS, httpStatus: 400 },
  ASSERTION_REPLAYED: { userMessage: 'This sign-in response has already been used. Please start again.', adminAdvice: COMPARE_SP_SETTINGS, httpStatus: 400 },
  ENCRYPTED_ASSERTION_UNSIGNED: { userMessage: `The sign-in response was not signed by your identity provider. ${ASK_ADMIN}`, adminAdvice: COMPARE_SP_SETTINGS, httpStatus: 400 },
  DECRYPTION_FAILED: {
    userMessage: `The sign-in response could not be decrypted. ${ASK_ADMIN}`,
    adminAdvice: 'Encrypt assertions for the SP certificate in the SP metadata (status.sp.metadataURL) with RSA-OAEP and AES-CBC or AES-GCM, and have the IdP sign the assertion (or the whole response); for the exact cause, read the sp-server\'s debug log.',
    httpStatus: 400,
  },
  NAMEID_MISSING: {
    userMessage: `Your identity provider did not say who you are. ${ASK_ADMIN}`,
    adminAdvice: 'Configure the IdP to send the user\'s email as NameID.',
    httpStatus: 400,
  },
  ISSUE_INSTANT_OUT_OF_RANGE: {
    userMessage: 'The sign-in response is too old or dated in the future; a clock may be wrong. Please start again.',
    adminAdvice: 'Gatehouse accepts a response issued at most 5 minutes (plus spec.allowedClockSkew) before it arrives and not later than the skew ahead: fix the IdP server\'s clock (NTP), or find what holds responses back on their way.',
    httpStatus: 400,
  },
  NAMEID_FORMAT_MISMATCH: {
    userMessage: `Your identity provider identified you in a form this organization does not accept. ${ASK_ADMIN}`,
    adminAdvice: 'Set the IdP\'s NameID format to the one in spec.nameIDFormat (emailAddress also accepts unspecified), or change spec.nameIDFormat to what the IdP sends.',
    httpStatus: 400,
  },
  AUTHN_STATEMENT_MISSING: {
    userMessage: NOT_ACCEPTED,
    adminAdvice: 'The IdP sent an assertion without an AuthnStatement (with its AuthnInstant): configure the application at the IdP as SAML web sign-on (not an attribute query or a custom token).',
    httpStatus: 400,
  },
  AUTHN_INSTANT_TOO_OLD: {
    userMessage: 'This application asked you to sign in again, but your identity provider reused an earlier sign-in. Sign out at your identity provider, then start again.',
    adminAdvice: 'The IdP ignored ForceAuthn (test link, prompt=login, max_age, spec.forceAuthn) or reported an AuthnInstant older than the application\'s max_age: make the IdP honour ForceAuthn, or fix its clock.',
    httpStatus: 400,
  },
  SIGNED_INFO_TOO_LARGE: {
    userMessage: NOT_VERIFIED,
    adminAdvice: 'A signature\'s SignedInfo was far larger than any IdP writes (one Reference, a handful of elements) and was refused before it was checked: if a real IdP sent it, compare its signing settings with status.sp; otherwise it was forged.',
    httpStatus: 400,
  },

  PROFILE_NOT_FOUND: {
    userMessage: 'This single sign-on connection does not exist (any more). Go back to the application and sign in again.',
    adminAdvice: 'The IdP posts to the ACS URL of an SSOProfile that does not exist: set the IdP\'s ACS / Reply URL to the profile\'s status.sp.acsURL.',
    httpStatus: 404,
  },
  BROWSER_MISMATCH: { userMessage: 'This sign-in was started in another browser. Please start again here.', adminAdvice: COMPARE_SP_SETTINGS, httpStatus: 400 },
  TEST_USER_MISMATCH: {
    userMessage: NOT_ACCEPTED_SEE_STATUS,
    adminAdvice: 'Sign in at the IdP as spec.test.email (sign out of other accounts first).',
    httpStatus: 400,
  },
  TEST_LINK_EXPIRED: {
    userMessage: 'This test link has expired. Ask your administrator for a new one.',
    adminAdvice: `Renew the link: set or change the annotation ${RENEW_TEST_LINK_ANNOTATION} on the SSOProfile (or change spec.test), then use the new status.test.url before status.test.expiresAt.`,
    httpStatus: 403,
  },
  USER_OTHER_ORGANIZATION: {
    userMessage: NOT_SET_UP_HERE,
    adminAdvice: 'The IdP sent an email that belongs to another organization: check the NameID mapping at the IdP.',
    httpStatus: 403,
  },
  DOMAIN_NOT_VERIFIED: { userMessage: NOT_SET_UP_HERE, adminAdvice: 'Verify the email\'s domain (VerifiedDomain) and list it in spec.domains.', httpStatus: 403 },
  USER_NOT_MANAGED: {
    userMessage: NOT_SET_UP_HERE,
    adminAdvice: 'Create a ManagedUser for this email, enable spec.provisioning.jit, or make the IdP send the email as NameID.',
    httpStatus: 403,
  },
  USER_INACTIVE: { userMessage: 'Your account is deactivated. Ask your administrator to restore access.', adminAdvice: 'The ManagedUser has spec.active: false.', httpStatus: 403 },
  RATE_LIMITED: {
    userMessage: 'Too many sign-in attempts from your network or organization. Please wait a minute and try again.',
    adminAdvice: 'The rate limits (spServer.rateLimits) refused this request: raise them if the traffic is legitimate, or check spServer.trustedProxies so clients behind the ingress are told apart.',
    httpStatus: 429,
  },
  TOO_MANY_PENDING_LOGINS: {
    userMessage: 'Too many sign-ins are under way right now. Please wait a minute and try again.',
    adminAdvice: 'The cap on pending logins (spServer.rateLimits.pendingLogins) refused a new sign-in: raise it if the traffic is legitimate, or check spServer.trustedProxies so clients behind the ingress are told apart.',
    httpStatus: 429,
  },
  SERVER_BUSY: {
    userMessage: 'Sign-in is very busy right now. Please go back and try again in a moment.',
    adminAdvice: 'The sp-server refused the response unchecked because every SAML validation worker was busy and its queue was full: add replicas or CPU (spServer.replicas, spServer.resources), and check gatehouse_sp_validation_queue_size for a flood of ACS posts.',
    httpStatus: 503,
  },

  OIDC_UPSTREAM_ERROR: {
    userMessage: 'Your identity provider did not complete the sign-in.',
    adminAdvice: 'The provider answered with the error in the hint: access_denied usually means the user is not assigned to the app registration or declined consent; invalid_request or unauthorized_client points at the app registration (redirect URI = status.sp.redirectURI, client ID, allowed scopes).',
    httpStatus: 400,
  },
  OIDC_STATE_INVALID: { userMessage: 'This sign-in was not started here, has expired, or was already completed. Please start again.', adminAdvice: 'A callback arrived for a sign-in the sp-server does not know (expired after the pending-login lifetime, used twice, or forged): nothing to change unless it happens for every sign-in, then check that every sp-server replica shares the same Redis.', httpStatus: 400 },
  OIDC_CALLBACK_INVALID: { userMessage: NOT_ACCEPTED, adminAdvice: COMPARE_OIDC_SETTINGS, httpStatus: 400 },
  OIDC_TOKEN_EXCHANGE_FAILED: {
    userMessage: `Your identity provider refused to complete the sign-in. ${ASK_ADMIN}`,
    adminAdvice: 'The token endpoint refused the code: invalid_client means the client secret in the Secret gatehouse-oidc-client (or, with private_key_jwt, the key at status.sp.jwksURL) is not what the provider has registered; invalid_grant means the code was already used or expired, or the redirect URI differs from status.sp.redirectURI.',
    httpStatus: 400,
  },
  OIDC_TOKEN_RESPONSE_INVALID: { userMessage: NOT_ACCEPTED, adminAdvice: `The token endpoint's answer is not an OpenID Connect token response with an ID token: check that spec.oidc.scopes include openid. ${COMPARE_OIDC_SETTINGS}`, httpStatus: 400 },
  OIDC_UPSTREAM_UNREACHABLE: {
    userMessage: 'Your identity provider could not be reached. Please try again in a minute.',
    adminAdvice: 'The sp-server could not reach the provider\'s token endpoint or JWKS (see the hint): check the sp-server\'s egress (NetworkPolicy networkPolicy.oidcPorts, proxies, DNS) and the provider\'s availability.',
    httpStatus: 503,
  },
  OIDC_UPSTREAM_ADDRESS_REFUSED: {
    userMessage: `Your identity provider's address is not allowed. ${ASK_ADMIN}`,
    adminAdvice: 'The provider\'s token endpoint or JWKS resolves to a private, loopback or link-local address, which the sp-server refuses: use the provider\'s public address, or set spServer.allowPrivateIdPAddresses for an IdP inside your network.',
    httpStatus: 503,
  },
  ID_TOKEN_SIGNATURE_INVALID: {
    userMessage: NOT_VERIFIED,
    adminAdvice: 'The ID token\'s signature does not verify against the provider\'s JWKS (fetched again for an unknown kid): check that spec.oidc.issuer names the provider that issued it and that nothing rewrites the token endpoint\'s answers.',
    httpStatus: 400,
  },
  ID_TOKEN_ALGORITHM_NOT_ALLOWED: {
    userMessage: `The sign-in uses a signature method your organization does not accept. ${ASK_ADMIN}`,
    adminAdvice: 'List the algorithm the provider signs ID tokens with in spec.oidc.idTokenSigningAlgorithms (RS256 for Google and Entra), or switch the provider to an algorithm listed there.',
    httpStatus: 400,
  },
  ID_TOKEN_ISSUER_MISMATCH: {
    userMessage: 'The sign-in came from an identity provider that is not set up for your organization.',
    adminAdvice: 'The ID token (or the callback\'s iss) names another issuer than spec.oidc.issuer: for Microsoft, check spec.oidc.tenantID and that the app registration is not multi-tenant with the common endpoint.',
    httpStatus: 400,
  },
  ID_TOKEN_AUDIENCE_MISMATCH: { userMessage: `The sign-in was meant for another application. ${ASK_ADMIN}`, adminAdvice: 'The ID token\'s aud (or azp) is not spec.oidc.clientID: copy the client ID of the app registration whose secret Gatehouse uses.', httpStatus: 400 },
  ID_TOKEN_EXPIRED: { userMessage: START_AGAIN_EXPIRED, adminAdvice: 'The ID token was expired or issued in the future: fix the clock of the sp-server\'s nodes (NTP) or raise spec.allowedClockSkew.', httpStatus: 400 },
  ID_TOKEN_NONCE_MISMATCH: { userMessage: 'This sign-in does not belong to the one started in this browser. Please start again.', adminAdvice: 'The ID token\'s nonce is not the one this sign-in sent: the token was issued for another sign-in (replayed or mixed up).', httpStatus: 400 },
  ID_TOKEN_AUTH_TIME_TOO_OLD: {
    userMessage: 'This application asked you to sign in again, but your identity provider reused an earlier sign-in. Sign out at your identity provider, then start again.',
    adminAdvice: 'The application asked for max_age and the provider\'s auth_time is older (or absent): make the provider honour prompt=login and max_age.',
    httpStatus: 400,
  },
  EMAIL_CLAIM_MISSING: {
    userMessage: `Your identity provider did not say who you are. ${ASK_ADMIN}`,
    adminAdvice: 'The ID token lacks the claim spec.oidc.claims.email (or it is not an email address): request the email scope, or name the claim that carries the address (Microsoft: email or preferred_username).',
    httpStatus: 400,
  },
  EMAIL_NOT_VERIFIED: {
    userMessage: NOT_ADMITTED,
    adminAdvice: 'The provider does not vouch for the address: email_verified is not true (Microsoft: nor the optional claim xms_edov, "email domain owner verified" — add it to the app registration\'s token configuration, or read the address from preferred_username).',
    httpStatus: 403,
  },
  HOSTED_DOMAIN_MISMATCH: {
    userMessage: NOT_ADMITTED,
    adminAdvice: 'Google\'s hd claim is absent (a personal Google account with a work address) or is not the email\'s domain: the user must sign in with the Google Workspace account of the verified domain.',
    httpStatus: 403,
  },
  TENANT_MISMATCH: {
    userMessage: NOT_ADMITTED,
    adminAdvice: 'The ID token\'s tid is not spec.oidc.tenantID: the user signed in with an account of another Entra tenant (a guest or multi-tenant app registration).',
    httpStatus: 403,
  },
} as const satisfies Record<RefusalCode, RefusalText>;

export const REFUSALS: Readonly<Record<RefusalCode, Refusal>> = Object.fromEntries(
  REFUSAL_CODES.map((code) => [code, { ...TEXTS[code], metricLabel: code }]),
) as Record<RefusalCode, Refusal>;
