// Every default and bound of an SSOProfile that more than one component relies on, written once:
// the CRD declares them (sso-profile.ts, CEL rules included), the operator's render falls back to
// them for a spec read without the API server's defaulting, and the rendered config enforces the
// bounds again where the sp-server reads it.
import { durationSeconds } from './duration.ts';

/** What an SSOProfile gets for each field it leaves out. */
export const SSO_PROFILE_DEFAULTS = {
  nameIDFormat: 'emailAddress',
  signAuthnRequests: false,
  /** Every algorithm the API knows except rsa-sha1, which a profile must list to accept. */
  signatureAlgorithms: ['rsa-sha256', 'rsa-sha384', 'rsa-sha512', 'ecdsa-sha256', 'ecdsa-sha384', 'ecdsa-sha512'],
  allowedClockSkew: '90s',
  metadataRefreshInterval: '1h',
  jitEnabled: false,
  /** An enforced domain covers every address in it, not only its ManagedUsers. */
  unmanagedUsers: 'Refuse',
} as const;

/** The most clock skew a profile may allow: beyond it an expired assertion looks fresh. */
export const MAX_ALLOWED_CLOCK_SKEW = '5m';
export const MAX_ALLOWED_CLOCK_SKEW_SECONDS = durationSeconds(MAX_ALLOWED_CLOCK_SKEW);

/**
 * The shortest refresh interval of a metadata URL: every fetch re-renders the shared config, so a
 * tenant must not be able to make it continuous. The CRD refuses less (CEL); the operator clamps
 * objects stored before the rule.
 */
export const MIN_METADATA_REFRESH_INTERVAL = '5m';
export const MIN_METADATA_REFRESH_INTERVAL_MS = durationSeconds(MIN_METADATA_REFRESH_INTERVAL) * 1000;
