// Stable error codes for every way Gatehouse refuses a SAML response. They appear in logs, in the
// `code` label of the rejection metric, on the user's error page and in SSOProfile status, so
// a code is never renamed or reused for another meaning; new codes are appended. What each code
// tells the user and the administrator is in the refusal table (sp-server/refusals.ts).
export const SAML_ERROR_CODES = [
  /** Not base64, not well-formed XML, not a SAML 2.0 Response, or a required element is absent. */
  'MALFORMED_RESPONSE',
  /** The document carries a DTD or entity declaration (XXE, entity expansion). */
  'DTD_FORBIDDEN',
  /** The IdP answered with a status other than Success. */
  'STATUS_NOT_SUCCESS',
  /** The response holds no Assertion or EncryptedAssertion. */
  'ASSERTION_MISSING',
  /** The response holds more than one assertion. */
  'MULTIPLE_ASSERTIONS',
  /** Neither the response nor the assertion is signed. */
  'SIGNATURE_MISSING',
  /** A signature does not verify: tampered content, wrong digest, broken SignatureValue. */
  'SIGNATURE_INVALID',
  /** The signature was made by a key that is not one of the profile's IdP certificates. */
  'UNTRUSTED_CERTIFICATE',
  /** A signature, digest, canonicalization or transform algorithm the profile does not allow. */
  'ALGORITHM_NOT_ALLOWED',
  /** Structure typical of signature wrapping: duplicate IDs, a reference to another element, misplaced assertions. */
  'SIGNATURE_WRAPPING',
  /** The Issuer is not the profile's IdP entityID. */
  'ISSUER_MISMATCH',
  /** The assertion's audience is not the SP entityID. */
  'AUDIENCE_MISMATCH',
  /** The response's Destination is not this profile's ACS URL. */
  'DESTINATION_MISMATCH',
  /** A signed response without Destination. */
  'DESTINATION_MISSING',
  /** The bearer SubjectConfirmationData's Recipient is not this profile's ACS URL. */
  'RECIPIENT_MISMATCH',
  /** No usable bearer SubjectConfirmation (missing, or without NotOnOrAfter). */
  'SUBJECT_CONFIRMATION_MISSING',
  /** InResponseTo does not match the browser's pending AuthnRequest. */
  'IN_RESPONSE_TO_MISMATCH',
  /** No pending AuthnRequest: an IdP-initiated (or expired) login, never accepted as such. */
  'UNSOLICITED_RESPONSE',
  /** Conditions NotBefore lies in the future beyond the allowed clock skew. */
  'NOT_YET_VALID',
  /** Conditions NotOnOrAfter has passed beyond the allowed clock skew. */
  'EXPIRED',
  /** The bearer SubjectConfirmationData NotOnOrAfter has passed. */
  'SUBJECT_CONFIRMATION_EXPIRED',
  /** The assertion has no Conditions element. */
  'CONDITIONS_MISSING',
  /** This assertion ID was already used for a login. */
  'ASSERTION_REPLAYED',
  /**
   * An EncryptedAssertion that no trusted signature covers. No longer raised: under an unsigned
   * Response every failure up to the decrypted assertion's verified signature is DECRYPTION_FAILED.
   */
  'ENCRYPTED_ASSERTION_UNSIGNED',
  /**
   * The EncryptedAssertion cannot be decrypted with the SP key, uses a refused algorithm, or (under
   * an unsigned Response) does not decrypt to an assertion whose own signature verifies: one code
   * and one hint for all of these, so the ACS is no decryption oracle.
   */
  'DECRYPTION_FAILED',
  /** The assertion's Subject has no NameID (or an empty one). */
  'NAMEID_MISSING',
  /** The Response's or the Assertion's IssueInstant is in the future beyond the skew, or older than MAX_ISSUE_AGE_SECONDS. */
  'ISSUE_INSTANT_OUT_OF_RANGE',
  /** The NameID's Format is not one the profile's spec.nameIDFormat accepts. */
  'NAMEID_FORMAT_MISMATCH',
  /** The assertion carries no AuthnStatement (or one without AuthnInstant): it says nothing about a sign-in. */
  'AUTHN_STATEMENT_MISSING',
  /** The AuthnInstant predates a ForceAuthn request, or is older than the OAuth request's max_age. */
  'AUTHN_INSTANT_TOO_OLD',
  /** A ds:SignedInfo over the size bounds (elements, attributes, text, depth): refused before canonicalization. */
  'SIGNED_INFO_TOO_LARGE',
] as const;

/** Codes kept for their meaning in old logs and status, which the validator no longer raises. */
export const RETIRED_SAML_ERROR_CODES: readonly SamlErrorCode[] = ['ENCRYPTED_ASSERTION_UNSIGNED'];

export type SamlErrorCode = (typeof SAML_ERROR_CODES)[number];

/**
 * A refusal of a SAML response. `hint` is one sentence for an administrator (SSOProfile status,
 * logs): what the IdP sent against what was expected. It never carries secrets, key material or
 * whole documents, and values quoted from the response are truncated.
 */
export class SamlValidationError extends Error {
  readonly code: SamlErrorCode;
  readonly hint: string;

  constructor(code: SamlErrorCode, hint: string, options?: { cause?: unknown }) {
    super(`${code}: ${hint}`, options);
    this.name = 'SamlValidationError';
    this.code = code;
    this.hint = hint;
  }
}

/** Refuses the response being validated: every check in the validator ends this way. */
export function fail(code: SamlErrorCode, hint: string, cause?: unknown): never {
  throw new SamlValidationError(code, hint, cause === undefined ? undefined : { cause });
}

export function isSamlValidationError(err: unknown): err is SamlValidationError {
  return err instanceof SamlValidationError;
}

/** Quotes an untrusted value for a hint: bounded length, control characters removed. */
export function quote(value: string | null | undefined, max = 120): string {
  if (value === null || value === undefined) return 'nothing';
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return JSON.stringify(clean.length > max ? `${clean.slice(0, max)}…` : clean);
}
