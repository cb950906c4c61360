// Strict validation of a SAML 2.0 Response (HTTP-POST binding) against one rendered profile.
//
// The document is parsed once. Every element carrying an ID is indexed (duplicates refused), and a
// signature counts only when it is a direct child of the element it references, so the element
// whose digest was verified is the very element the claims are read from: the response (and the
// assertion that is its only child) or the assertion itself. Nothing is read from anywhere else.
// The pieces: dom.ts (parsing), signature.ts, decrypt.ts, statements.ts (issue times, NameID
// format, AuthnStatement), replay.ts; uris.ts names the URIs.
import type { RenderedSAMLProfile } from '../../crds/api/index.ts';
import { attr, attrNS, childrenNamed, decodeBase64, indexDocument, MAX_RESPONSE_BASE64, oneChild, parseTime, parseXml, text, type DocumentIndex, type Element } from './dom.ts';
import { DECRYPTION_HINT, decryptAssertion } from './decrypt.ts';
import { fail, quote, SamlValidationError } from './errors.ts';
import type { ReplayCache } from './replay.ts';
import { verifyEnvelopedSignature } from './signature.ts';
import { checkAuthnStatement, checkIssueInstants, checkNameIDFormat, type AuthnRequestFacts, type Clock } from './statements.ts';
import { BEARER, NS, STATUS_SUCCESS } from './uris.ts';

export { memoryReplayCache, type ReplayCache } from './replay.ts';
export type { AuthnRequestFacts } from './statements.ts';

export interface ValidationContext {
  profile: RenderedSAMLProfile;
  /**
   * The ID of the browser's pending AuthnRequest; null when there is none (IdP-initiated). With
   * null every other check still runs, the assertion ID is consumed, and only then is the
   * response refused with UNSOLICITED_RESPONSE: that code means "a genuine IdP-initiated response".
   */
  expectedInResponseTo: string | null;
  /** What the pending login's AuthnRequest asked (ForceAuthn, max_age); absent when there is none. */
  authnRequest?: AuthnRequestFacts;
  now?: Date;
  replay: ReplayCache;
  /** The organization (namespace) the response was posted to: the validation pool queues fairly by it. */
  organization?: string;
}

export interface ValidatedAssertion {
  issuer: string;
  nameID: string;
  nameIDFormat?: string;
  sessionIndex?: string;
  authnInstant: Date;
  assertionID: string;
  inResponseTo?: string;
  /** The earliest NotOnOrAfter of Conditions and the bearer SubjectConfirmationData. */
  notOnOrAfter: Date;
  attributes: Record<string, string[]>;
}

/** Time spent per phase by one validation, for the benchmark's breakdown. */
export interface ValidationTimings {
  parseMs: number;
  signatureMs: number;
  checksMs: number;
  replayMs: number;
}

export async function validateSamlResponse(samlResponseBase64: string, ctx: ValidationContext): Promise<ValidatedAssertion> {
  return validateWithTimings(samlResponseBase64, ctx, undefined);
}

export async function validateWithTimings(samlResponseBase64: string, ctx: ValidationContext, timings: ValidationTimings | undefined): Promise<ValidatedAssertion> {
  const result = await validateDocumentOnly(samlResponseBase64, ctx, timings);
  const t0 = timings === undefined ? 0 : performance.now();
  await rememberAssertion(result, ctx);
  if (timings !== undefined) timings.replayMs += performance.now() - t0;
  return result;
}

/** What the document checks need: everything but the replay cache, so it can cross to a worker thread. */
export type DocumentContext = Omit<ValidationContext, 'replay'>;

/** Every check of the document itself (the CPU work), without the replay step. */
export async function validateDocumentOnly(samlResponseBase64: string, ctx: DocumentContext, timings?: ValidationTimings): Promise<ValidatedAssertion> {
  try {
    return await validateDocument(samlResponseBase64, ctx, timings);
  } catch (err) {
    if (err instanceof SamlValidationError) throw err;
    // Whatever a hostile document provokes below is still a refusal with a stable code.
    fail('MALFORMED_RESPONSE', 'the response could not be processed', err);
  }
}

/**
 * The step after the document checks, on the thread that owns the replay store: an assertion is
 * accepted once, and an IdP-initiated one is refused only after its ID is spent. The store's own
 * failures (e.g. Redis unreachable) propagate: they are not the IdP's fault.
 */
export async function rememberAssertion(result: ValidatedAssertion, ctx: ValidationContext): Promise<void> {
  const skewMs = ctx.profile.allowedClockSkewSeconds * 1000;
  const fresh = await ctx.replay.remember(result.issuer, result.assertionID, new Date(result.notOnOrAfter.getTime() + skewMs));
  if (!fresh) fail('ASSERTION_REPLAYED', `the assertion ${quote(result.assertionID, 60)} was already used for a login`);
  // Unsolicited responses are never logins; the ACS turns this one, which passed every other
  // check and whose ID is now spent, into a fresh SP-initiated login.
  if (ctx.expectedInResponseTo === null) fail('UNSOLICITED_RESPONSE', 'the IdP sent an IdP-initiated response; Gatehouse starts a fresh SP-initiated login instead');
}

async function validateDocument(samlResponseBase64: string, ctx: DocumentContext, timings: ValidationTimings | undefined): Promise<ValidatedAssertion> {
  const { profile } = ctx;
  const now = (ctx.now ?? new Date()).getTime();
  const skewMs = profile.allowedClockSkewSeconds * 1000;
  let t0 = timings === undefined ? 0 : performance.now();
  const lap = (phase: keyof ValidationTimings): void => {
    if (timings === undefined) return;
    const t1 = performance.now();
    timings[phase] += t1 - t0;
    t0 = t1;
  };

  const tree = parseXml(decodeBase64(samlResponseBase64), 'SAMLResponse');
  const response = tree.root;
  if (response.localName !== 'Response' || response.namespaceURI !== NS.samlp) {
    fail('MALFORMED_RESPONSE', `the document is ${quote(response.name)}, not a SAML 2.0 protocol Response`);
  }
  if (attr(response, 'Version') !== '2.0') fail('MALFORMED_RESPONSE', `the Response has Version ${quote(attr(response, 'Version'))}, expected "2.0"`);
  const index = indexDocument(tree);
  lap('parseMs');

  // Checks that refuse before any cryptography; rejecting on untrusted data is always safe.
  const status = oneChild(response, NS.samlp, 'Status', true);
  const statusCode = oneChild(status, NS.samlp, 'StatusCode', true);
  const statusValue = attr(statusCode, 'Value');
  if (statusValue !== STATUS_SUCCESS) {
    const sub = childrenNamed(statusCode, NS.samlp, 'StatusCode')[0];
    const message = childrenNamed(status, NS.samlp, 'StatusMessage')[0];
    const detail = [attr(sub ?? statusCode, 'Value'), message === undefined ? undefined : text(message)].filter((v) => v !== undefined);
    fail('STATUS_NOT_SUCCESS', `the IdP answered ${quote(detail.map((d) => d?.replace(/^urn:oasis:names:tc:SAML:2\.0:status:/, '')).join(': '))} instead of Success`);
  }
  const responseIssuer = oneChild(response, NS.saml, 'Issuer', false);
  if (responseIssuer !== undefined && text(responseIssuer).trim() !== profile.idp.entityID) {
    fail('ISSUER_MISMATCH', `issuer mismatch: the IdP sends ${quote(text(responseIssuer).trim())}, expected ${quote(profile.idp.entityID)}`);
  }
  const plain = childrenNamed(response, NS.saml, 'Assertion');
  const encrypted = childrenNamed(response, NS.saml, 'EncryptedAssertion');
  const count = plain.length + encrypted.length;
  if (count === 0) fail('ASSERTION_MISSING', 'the Response carries no Assertion');
  if (count > 1) fail('MULTIPLE_ASSERTIONS', `the Response carries ${count} assertions, Gatehouse accepts exactly one`);
  if (index.assertions !== 1) fail('SIGNATURE_WRAPPING', 'an assertion appears somewhere other than directly in the Response');
  const destination = attr(response, 'Destination');
  if (destination !== undefined && destination !== profile.sp.acsURL) {
    fail('DESTINATION_MISMATCH', `destination mismatch: the IdP sends ${quote(destination)}, expected ${quote(profile.sp.acsURL)}`);
  }
  lap('checksMs');

  const responseSignatures = childrenNamed(response, NS.ds, 'Signature');
  if (responseSignatures.length > 1) fail('SIGNATURE_WRAPPING', 'the Response carries more than one signature');
  const responseSignature = responseSignatures[0];
  if (responseSignature !== undefined) {
    verifyEnvelopedSignature(responseSignature, response, index, profile);
    if (destination === undefined) fail('DESTINATION_MISSING', `the signed Response has no Destination, expected ${quote(profile.sp.acsURL)}`);
  }
  lap('signatureMs');

  const responseSigned = responseSignature !== undefined;
  const sealed = encrypted[0];
  const openSealed = async (ciphertext: Element): Promise<Element> => {
    const openedTree = await decryptAssertion(ciphertext, profile);
    const opened = openedTree.root;
    const openedIndex = indexDocument(openedTree);
    if (openedIndex.assertions !== 1) fail('SIGNATURE_WRAPPING', 'the decrypted assertion contains another assertion');
    lap('parseMs');
    verifyAssertionSignature(opened, openedIndex, responseSigned, profile);
    return opened;
  };
  let assertion: Element;
  if (sealed === undefined) {
    assertion = plain[0] as Element;
    verifyAssertionSignature(assertion, index, responseSigned, profile);
  } else if (responseSigned) {
    assertion = await openSealed(sealed);
  } else {
    // Nothing covers the ciphertext: until the decrypted assertion's own signature verifies, every
    // failure looks the same, or a CBC ciphertext altered block by block would learn from the code
    // whether its plaintext still parsed.
    try {
      assertion = await openSealed(sealed);
    } catch (err) {
      if (err instanceof SamlValidationError && err.code === 'DECRYPTION_FAILED') throw err;
      fail('DECRYPTION_FAILED', DECRYPTION_HINT, err);
    }
  }
  lap('signatureMs');

  // From here on everything is read from `assertion`, which a verified signature covers.
  const result = checkAssertion(assertion, response, ctx, { now, skewMs });
  lap('checksMs');
  return result;
}

/** The assertion's own signature, required unless a verified Response signature covers it. */
function verifyAssertionSignature(assertion: Element, index: DocumentIndex, responseSigned: boolean, profile: RenderedSAMLProfile): void {
  const signatures = childrenNamed(assertion, NS.ds, 'Signature');
  if (signatures.length > 1) fail('SIGNATURE_WRAPPING', 'the Assertion carries more than one signature');
  const signature = signatures[0];
  if (signature !== undefined) verifyEnvelopedSignature(signature, assertion, index, profile);
  else if (!responseSigned) fail('SIGNATURE_MISSING', 'neither the Response nor the Assertion is signed: enable assertion or response signing at the IdP');
}

function checkAssertion(assertion: Element, response: Element, ctx: DocumentContext, clock: Clock): ValidatedAssertion {
  const { now, skewMs } = clock;
  const { profile } = ctx;
  if (attr(assertion, 'Version') !== '2.0') fail('MALFORMED_RESPONSE', `the Assertion has Version ${quote(attr(assertion, 'Version'))}, expected "2.0"`);
  const assertionID = attr(assertion, 'ID');
  if (assertionID === undefined || assertionID === '') fail('MALFORMED_RESPONSE', 'the Assertion has no ID');

  const issuerEl = oneChild(assertion, NS.saml, 'Issuer', true, 'ISSUER_MISMATCH');
  const issuer = text(issuerEl).trim();
  if (issuer !== profile.idp.entityID) fail('ISSUER_MISMATCH', `issuer mismatch: the IdP sends ${quote(issuer)}, expected ${quote(profile.idp.entityID)}`);

  // Without a pending request (IdP-initiated) no InResponseTo may appear anywhere.
  const expected = ctx.expectedInResponseTo;
  const responseInResponseTo = attr(response, 'InResponseTo');
  if (responseInResponseTo !== undefined && responseInResponseTo !== expected) {
    fail('IN_RESPONSE_TO_MISMATCH', `the Response answers request ${quote(responseInResponseTo, 60)}, ${pendingRequest(expected)}`);
  }

  const subject = oneChild(assertion, NS.saml, 'Subject', true, 'NAMEID_MISSING');
  const nameIDEl = oneChild(subject, NS.saml, 'NameID', false);
  const nameID = nameIDEl === undefined ? '' : text(nameIDEl).trim();
  if (nameIDEl === undefined || nameID === '') fail('NAMEID_MISSING', 'the assertion\'s Subject has no NameID: configure the IdP to send the user\'s email as NameID');

  // Conditions before subject confirmation: an expired or foreign assertion is reported as such.
  const conditions = oneChild(assertion, NS.saml, 'Conditions', false);
  if (conditions === undefined) fail('CONDITIONS_MISSING', 'the assertion has no Conditions (audience and validity window are required)');
  const notBefore = parseTime(attr(conditions, 'NotBefore'), 'Conditions NotBefore');
  const condNotOnOrAfter = parseTime(attr(conditions, 'NotOnOrAfter'), 'Conditions NotOnOrAfter');
  if (notBefore !== undefined && now + skewMs < notBefore.getTime()) {
    fail('NOT_YET_VALID', `the assertion is valid from ${notBefore.toISOString()}, beyond the allowed clock skew of ${profile.allowedClockSkewSeconds}s: check the IdP's clock`);
  }
  if (condNotOnOrAfter !== undefined && now - skewMs >= condNotOnOrAfter.getTime()) {
    fail('EXPIRED', `the assertion expired at ${condNotOnOrAfter.toISOString()} (allowed clock skew ${profile.allowedClockSkewSeconds}s)`);
  }
  const restrictions = childrenNamed(conditions, NS.saml, 'AudienceRestriction');
  if (restrictions.length === 0) fail('AUDIENCE_MISMATCH', `audience mismatch: the IdP sends no audience, expected ${quote(profile.sp.entityID)}`);
  for (const r of restrictions) {
    const audiences = childrenNamed(r, NS.saml, 'Audience').map((a) => text(a).trim());
    if (!audiences.includes(profile.sp.entityID)) {
      fail('AUDIENCE_MISMATCH', `audience mismatch: the IdP sends ${quote(audiences.join(' '))}, expected ${quote(profile.sp.entityID)}`);
    }
  }

  // A bearer SubjectConfirmation that satisfies every check; the first failure is reported.
  const bearers = childrenNamed(subject, NS.saml, 'SubjectConfirmation').filter((sc) => attr(sc, 'Method') === BEARER);
  if (bearers.length === 0) fail('SUBJECT_CONFIRMATION_MISSING', 'the assertion has no bearer SubjectConfirmation');
  let confirmed: Date | undefined;
  let firstError: SamlValidationError | undefined;
  for (const sc of bearers) {
    try {
      confirmed = checkBearer(sc, ctx, expected, clock);
      break;
    } catch (err) {
      if (!(err instanceof SamlValidationError)) throw err;
      firstError ??= err;
    }
  }
  if (confirmed === undefined) throw firstError ?? new SamlValidationError('SUBJECT_CONFIRMATION_MISSING', 'no usable bearer SubjectConfirmation');

  checkIssueInstants(response, assertion, clock);
  checkNameIDFormat(nameIDEl, profile.nameIDFormat);
  const authentication = checkAuthnStatement(assertion, ctx.authnRequest, clock);
  const attributes: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const statement of childrenNamed(assertion, NS.saml, 'AttributeStatement')) {
    for (const a of childrenNamed(statement, NS.saml, 'Attribute')) {
      const name = attr(a, 'Name');
      if (name === undefined || name === '') continue;
      const values = (attributes[name] ??= []);
      for (const v of childrenNamed(a, NS.saml, 'AttributeValue')) {
        if (attrNS(v, NS.xsi, 'nil') === 'true') continue;
        values.push(text(v));
      }
    }
  }

  const notOnOrAfter = condNotOnOrAfter !== undefined && condNotOnOrAfter < confirmed ? condNotOnOrAfter : confirmed;
  const result: ValidatedAssertion = { issuer, nameID, assertionID, notOnOrAfter, attributes: { ...attributes }, ...authentication };
  if (expected !== null) result.inResponseTo = expected;
  const format = attr(nameIDEl, 'Format');
  if (format !== undefined) result.nameIDFormat = format;
  return result;
}

function checkBearer(sc: Element, ctx: DocumentContext, expected: string | null, { now, skewMs }: Clock): Date {
  const { profile } = ctx;
  const data = oneChild(sc, NS.saml, 'SubjectConfirmationData', false);
  if (data === undefined) fail('SUBJECT_CONFIRMATION_MISSING', 'the bearer SubjectConfirmation has no SubjectConfirmationData');
  const recipient = attr(data, 'Recipient');
  if (recipient !== profile.sp.acsURL) fail('RECIPIENT_MISMATCH', `recipient mismatch: the IdP sends ${quote(recipient)}, expected ${quote(profile.sp.acsURL)}`);
  const notOnOrAfter = parseTime(attr(data, 'NotOnOrAfter'), 'SubjectConfirmationData NotOnOrAfter');
  if (notOnOrAfter === undefined) fail('SUBJECT_CONFIRMATION_MISSING', 'the bearer SubjectConfirmationData has no NotOnOrAfter');
  if (now - skewMs >= notOnOrAfter.getTime()) {
    fail('SUBJECT_CONFIRMATION_EXPIRED', `the bearer confirmation expired at ${notOnOrAfter.toISOString()} (allowed clock skew ${profile.allowedClockSkewSeconds}s)`);
  }
  const notBefore = parseTime(attr(data, 'NotBefore'), 'SubjectConfirmationData NotBefore');
  if (notBefore !== undefined && now + skewMs < notBefore.getTime()) fail('NOT_YET_VALID', `the bearer confirmation is valid from ${notBefore.toISOString()}: check the IdP's clock`);
  const inResponseTo = attr(data, 'InResponseTo');
  if (inResponseTo !== (expected ?? undefined)) {
    fail('IN_RESPONSE_TO_MISMATCH', `the assertion answers request ${quote(inResponseTo, 60)}, ${pendingRequest(expected)}`);
  }
  return notOnOrAfter;
}

const pendingRequest = (expected: string | null): string => (expected === null ? 'but no sign-in is pending for it (an IdP-initiated response carries no InResponseTo)' : `the browser's pending request is ${quote(expected, 60)}`);

/**
 * Reads InResponseTo from the Response's start tag without parsing or verifying anything, so the
 * ACS can find the pending request (or recognise an unsolicited response). Untrusted.
 */
export function peekInResponseTo(samlResponseBase64: string): string | null {
  if (samlResponseBase64.length > MAX_RESPONSE_BASE64) return null;
  // The start tag is near the beginning: decode a head first, the whole only when the tag is not complete in it.
  const head = inResponseToOfRoot(Buffer.from(samlResponseBase64.slice(0, PEEK_HEAD_BASE64), 'base64').toString('utf8'));
  if (head !== undefined || samlResponseBase64.length <= PEEK_HEAD_BASE64) return head ?? null;
  return inResponseToOfRoot(Buffer.from(samlResponseBase64, 'base64').toString('utf8')) ?? null;
}

/** Base64 characters decoded first by peekInResponseTo (6 KiB of XML). */
const PEEK_HEAD_BASE64 = 8192;

/** The root start tag's InResponseTo, null without one, undefined when `xml` ends before that tag does. */
function inResponseToOfRoot(xml: string): string | null | undefined {
  let i = 0;
  // Skip the XML declaration, comments and whitespace before the root element.
  for (;;) {
    i = xml.indexOf('<', i);
    if (i < 0) return undefined;
    const close = xml.startsWith('<?', i) ? '?>' : xml.startsWith('<!--', i) ? '-->' : undefined;
    if (close === undefined) break;
    const at = xml.indexOf(close, i + 2);
    if (at < 0) return undefined;
    i = at + close.length;
  }
  const end = xml.indexOf('>', i);
  if (end < 0) return undefined;
  const match = /\sInResponseTo\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/.exec(xml.slice(i, end));
  const value = match?.[1] ?? match?.[2];
  return value === undefined || value === '' ? null : value;
}
