// Strict validation of a SAML 2.0 Response (HTTP-POST binding) against one rendered profile.
//
// The document is parsed once. Every element carrying an ID is indexed (duplicates refused), and a
// signature counts only when it is a direct child of the element it references, so the element
// whose digest was verified is the very element the claims are read from: the response (and the
// assertion that is its only child) or the assertion itself. Nothing is read from anywhere else.
// Canonicalization is xml-crypto's exclusive c14n; digests and signatures are node:crypto.
import { createHash, timingSafeEqual, verify as cryptoVerify, X509Certificate, type KeyObject } from 'node:crypto';
import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom';
import { ExclusiveCanonicalization } from 'xml-crypto';
import xmlenc from 'xml-encryption';
import type { RenderedProfile, SignatureAlgorithm } from '../../crds/api/index.ts';
import { quote, SamlValidationError, type SamlErrorCode } from './errors.ts';

export interface ReplayCache {
  /** Records an assertion ID until `expiresAt`; resolves false when it was already seen. */
  remember(assertionID: string, expiresAt: Date): Promise<boolean>;
}

export interface ValidationContext {
  profile: RenderedProfile;
  /** The ID of the browser's pending AuthnRequest; null when there is none (unsolicited). */
  expectedInResponseTo: string | null;
  now?: Date;
  replay: ReplayCache;
}

export interface ValidatedAssertion {
  issuer: string;
  nameID: string;
  nameIDFormat?: string;
  sessionIndex?: string;
  authnInstant?: Date;
  assertionID: string;
  inResponseTo?: string;
  /** The earliest NotOnOrAfter of Conditions and the bearer SubjectConfirmationData. */
  notOnOrAfter: Date;
  attributes: Record<string, string[]>;
}

export const NS = {
  samlp: 'urn:oasis:names:tc:SAML:2.0:protocol',
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  xenc: 'http://www.w3.org/2001/04/xmlenc#',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
} as const;

const STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

/** XML-DSig algorithm URIs by the names the SSOProfile API uses. */
export const SIGNATURE_ALGORITHM_URIS: Record<SignatureAlgorithm, string> = {
  'rsa-sha1': 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  'rsa-sha256': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'rsa-sha384': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384',
  'rsa-sha512': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  'ecdsa-sha256': 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  'ecdsa-sha384': 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384',
  'ecdsa-sha512': 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512',
};
export const DIGEST_ALGORITHM_URIS: Record<string, string> = {
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha384: 'http://www.w3.org/2001/04/xmldsig-more#sha384',
  sha512: 'http://www.w3.org/2001/04/xmlenc#sha512',
};
const SIGNATURE_BY_URI = new Map(
  Object.entries(SIGNATURE_ALGORITHM_URIS).map(([name, uri]) => {
    const [family, hash] = name.split('-') as [string, string];
    return [uri, { name: name as SignatureAlgorithm, hash, ec: family === 'ecdsa' }] as const;
  }),
);
const DIGEST_BY_URI = new Map(Object.entries(DIGEST_ALGORITHM_URIS).map(([hash, uri]) => [uri, hash] as const));

const MAX_RESPONSE_BYTES = 1024 * 1024;
/** Real responses nest about 8 levels; the bound keeps every recursive walk below far from the stack limit. */
const MAX_DEPTH = 64;
const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;

function fail(code: SamlErrorCode, hint: string, cause?: unknown): never {
  throw new SamlValidationError(code, hint, cause === undefined ? undefined : { cause });
}

// ---------------------------------------------------------------------------------------------
// Parsing

function decodeBase64(samlResponseBase64: string): string {
  const b64 = samlResponseBase64.trim();
  if (b64.length === 0) fail('MALFORMED_RESPONSE', 'the SAMLResponse parameter is empty');
  if (b64.length > (MAX_RESPONSE_BYTES * 4) / 3 + 4) fail('MALFORMED_RESPONSE', `the SAMLResponse is larger than ${MAX_RESPONSE_BYTES} bytes`);
  if (!/^[A-Za-z0-9+/\r\n]+={0,2}\s*$/.test(b64)) fail('MALFORMED_RESPONSE', 'the SAMLResponse parameter is not base64');
  return Buffer.from(b64, 'base64').toString('utf8');
}

/** Any markup declaration other than a comment or CDATA section: DOCTYPE, ENTITY, ELEMENT… */
const DECLARATION = /<!(?!--|\[CDATA\[)/;

function parseXml(xml: string, what: string): Document {
  if (DECLARATION.test(xml)) fail('DTD_FORBIDDEN', `the ${what} contains a DTD or entity declaration, which Gatehouse never processes`);
  let doc: Document;
  try {
    doc = new DOMParser({
      locator: false,
      // Even xmldom's warnings (unquoted attributes and the like) are refused: a lenient parse is
      // a parser differential an attacker can aim at the signer.
      onError: (level: string, message: string) => {
        throw new Error(`${level}: ${message}`);
      },
    }).parseFromString(xml, 'text/xml');
  } catch (err) {
    fail('MALFORMED_RESPONSE', `the ${what} is not well-formed XML`, err);
  }
  if (doc.doctype !== null) fail('DTD_FORBIDDEN', `the ${what} contains a DTD, which Gatehouse never processes`);
  return doc;
}

function* children(el: Element): Generator<Element> {
  for (let n: Node | null = el.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType === ELEMENT_NODE) yield n as Element;
  }
}

function childrenNamed(el: Element, ns: string, localName: string): Element[] {
  const out: Element[] = [];
  for (const c of children(el)) if (c.localName === localName && c.namespaceURI === ns) out.push(c);
  return out;
}

function oneChild(el: Element, ns: string, localName: string, required: true, code?: SamlErrorCode): Element;
function oneChild(el: Element, ns: string, localName: string, required: false, code?: SamlErrorCode): Element | undefined;
function oneChild(el: Element, ns: string, localName: string, required: boolean, code: SamlErrorCode = 'MALFORMED_RESPONSE'): Element | undefined {
  const found = childrenNamed(el, ns, localName);
  if (found.length > 1) fail(code, `${el.localName} has ${found.length} ${localName} elements where one is allowed`);
  if (required && found.length === 0) fail(code, `${el.localName} has no ${localName} element`);
  return found[0];
}

/**
 * Text as exclusive c14n sees it: every text and CDATA descendant, comments skipped. Reading only
 * the first text node is the NameID comment-injection bug; this reads what the digest covered.
 */
function text(el: Element): string {
  let out = '';
  const walk = (n: Node): void => {
    for (let c: Node | null = n.firstChild; c !== null; c = c.nextSibling) {
      if (c.nodeType === TEXT_NODE || c.nodeType === CDATA_SECTION_NODE) out += (c as unknown as { data: string }).data;
      else if (c.nodeType === ELEMENT_NODE) walk(c);
    }
  };
  walk(el);
  return out;
}

function attr(el: Element, name: string): string | undefined {
  const node = el.getAttributeNode(name);
  return node === null ? undefined : node.value;
}

interface DocumentIndex {
  ids: Map<string, Element>;
  assertions: number;
}

/** One pass over the document: ID attributes (duplicates refused) and every assertion element. */
function indexDocument(root: Element): DocumentIndex {
  const ids = new Map<string, Element>();
  let assertions = 0;
  const walk = (el: Element, depth: number): void => {
    if (depth > MAX_DEPTH) fail('MALFORMED_RESPONSE', `the document nests elements deeper than ${MAX_DEPTH} levels`);
    if (el.namespaceURI === NS.saml && (el.localName === 'Assertion' || el.localName === 'EncryptedAssertion')) assertions++;
    const attrs = el.attributes;
    for (let i = 0; i < attrs.length; i++) {
      const a = attrs.item(i);
      if (a === null || a.namespaceURI !== null) continue;
      if (a.localName === 'ID' || a.localName === 'Id' || a.localName === 'id') {
        if (ids.has(a.value)) fail('SIGNATURE_WRAPPING', `the ID ${quote(a.value, 60)} appears on more than one element`);
        ids.set(a.value, el);
      }
    }
    for (const c of children(el)) walk(c, depth + 1);
  };
  walk(root, 0);
  return { ids, assertions };
}

function parseTime(value: string | undefined, what: string): Date | undefined {
  if (value === undefined) return undefined;
  // xs:dateTime; SAML requires UTC, but an explicit offset is unambiguous too.
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value)) fail('MALFORMED_RESPONSE', `${what} is not an xs:dateTime: ${quote(value, 40)}`);
  const t = new Date(value);
  if (Number.isNaN(t.getTime())) fail('MALFORMED_RESPONSE', `${what} is not a valid time: ${quote(value, 40)}`);
  return t;
}

// ---------------------------------------------------------------------------------------------
// Signatures

interface TrustedKey {
  key: KeyObject;
  /** The certificate's DER, base64 without whitespace, to match KeyInfo against. */
  der: string;
}

const trustedKeyCache = new Map<string, TrustedKey>();

function trustedKey(pem: string): TrustedKey {
  let k = trustedKeyCache.get(pem);
  if (k === undefined) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(pem);
    } catch (err) {
      fail('UNTRUSTED_CERTIFICATE', 'one of the profile\'s IdP certificates cannot be parsed: check spec.idp of the SSOProfile', err);
    }
    k = { key: cert.publicKey, der: cert.raw.toString('base64') };
    if (trustedKeyCache.size > 1000) trustedKeyCache.clear();
    trustedKeyCache.set(pem, k);
  }
  return k;
}

const c14n = new ExclusiveCanonicalization();

interface NamespacePrefix {
  prefix: string;
  namespaceURI: string;
}

/** In-scope namespace declarations of the ancestors, which InclusiveNamespaces prefixes may name. */
function ancestorNamespaces(el: Element): NamespacePrefix[] {
  const out: NamespacePrefix[] = [];
  const seen = new Set<string>();
  for (let p = el.parentNode; p !== null && p.nodeType === ELEMENT_NODE; p = p.parentNode) {
    const attrs = (p as Element).attributes;
    for (let i = 0; i < attrs.length; i++) {
      const a = attrs.item(i);
      if (a === null || !a.name.startsWith('xmlns:')) continue;
      const prefix = a.name.slice(6);
      if (seen.has(prefix)) continue;
      seen.add(prefix);
      out.push({ prefix, namespaceURI: a.value });
    }
  }
  return out;
}

function inclusivePrefixes(method: Element): string[] {
  const incl = childrenNamed(method, EXC_C14N, 'InclusiveNamespaces')[0];
  if (incl === undefined) return [];
  return (attr(incl, 'PrefixList') ?? '').split(/\s+/).filter((p) => p !== '');
}

function canonicalize(el: Element, prefixes: string[]): string {
  const options = prefixes.length === 0 ? {} : { inclusiveNamespacesPrefixList: prefixes, ancestorNamespaces: ancestorNamespaces(el) };
  return c14n.process(el as never, options);
}

function allowedAlgorithms(profile: RenderedProfile): { signatures: Set<string>; digests: Set<string> } {
  const signatures = new Set<string>();
  const digests = new Set<string>();
  for (const name of profile.signatureAlgorithms) {
    signatures.add(SIGNATURE_ALGORITHM_URIS[name]);
    const hash = name.split('-')[1];
    if (hash !== undefined) digests.add(DIGEST_ALGORITHM_URIS[hash] ?? '');
  }
  return { signatures, digests };
}

/**
 * Verifies `signature`, a direct child of `signed`, as an enveloped signature over `signed` by a
 * trusted key. Throws unless it verifies.
 */
function verifyEnvelopedSignature(signature: Element, signed: Element, index: DocumentIndex, profile: RenderedProfile): void {
  const what = signed.localName;
  const signedInfo = oneChild(signature, NS.ds, 'SignedInfo', true, 'SIGNATURE_INVALID');
  const signatureValue = oneChild(signature, NS.ds, 'SignatureValue', true, 'SIGNATURE_INVALID');
  const allowed = allowedAlgorithms(profile);

  const c14nMethod = oneChild(signedInfo, NS.ds, 'CanonicalizationMethod', true, 'SIGNATURE_INVALID');
  const c14nAlg = attr(c14nMethod, 'Algorithm');
  if (c14nAlg !== EXC_C14N) fail('ALGORITHM_NOT_ALLOWED', `the ${what} signature uses canonicalization ${quote(c14nAlg)}, only exclusive c14n (${EXC_C14N}) is accepted`);
  const sigMethod = oneChild(signedInfo, NS.ds, 'SignatureMethod', true, 'SIGNATURE_INVALID');
  const sigAlgUri = attr(sigMethod, 'Algorithm') ?? '';
  const sigAlg = SIGNATURE_BY_URI.get(sigAlgUri);
  if (sigAlg === undefined || !allowed.signatures.has(sigAlgUri)) {
    fail('ALGORITHM_NOT_ALLOWED', `the IdP signs the ${what} with ${quote(sigAlg?.name ?? sigAlgUri)}, the profile allows ${profile.signatureAlgorithms.join(', ')}`);
  }

  // Exactly one Reference, to the element that encloses the signature, and to nothing else.
  const references = childrenNamed(signedInfo, NS.ds, 'Reference');
  if (references.length !== 1) fail('SIGNATURE_WRAPPING', `the ${what} signature has ${references.length} references where exactly one is expected`);
  const reference = references[0] as Element;
  const id = attr(signed, 'ID');
  const uri = attr(reference, 'URI');
  if (id === undefined || id === '' || uri !== `#${id}` || index.ids.get(id) !== signed) {
    fail('SIGNATURE_WRAPPING', `the ${what} signature references ${quote(uri)}, not the enclosing ${what} ${quote(id)}`);
  }
  const transforms = oneChild(reference, NS.ds, 'Transforms', false, 'SIGNATURE_INVALID');
  let enveloped = false;
  let refPrefixes: string[] = [];
  for (const t of transforms === undefined ? [] : children(transforms)) {
    const alg = attr(t, 'Algorithm');
    if (t.localName !== 'Transform' || t.namespaceURI !== NS.ds) fail('SIGNATURE_INVALID', `unexpected ${t.localName} in the ${what} signature's transforms`);
    if (alg === ENVELOPED) enveloped = true;
    else if (alg === EXC_C14N) refPrefixes = inclusivePrefixes(t);
    else fail('ALGORITHM_NOT_ALLOWED', `the ${what} signature uses transform ${quote(alg)}, only enveloped-signature and exclusive c14n are accepted`);
  }
  if (!enveloped) fail('SIGNATURE_INVALID', `the ${what} signature lacks the enveloped-signature transform`);
  const digestMethod = oneChild(reference, NS.ds, 'DigestMethod', true, 'SIGNATURE_INVALID');
  const digestUri = attr(digestMethod, 'Algorithm') ?? '';
  const digestAlg = DIGEST_BY_URI.get(digestUri);
  if (digestAlg === undefined || !allowed.digests.has(digestUri)) {
    fail('ALGORITHM_NOT_ALLOWED', `the IdP digests the ${what} with ${quote(digestAlg ?? digestUri)}, the profile allows ${profile.signatureAlgorithms.join(', ')}`);
  }
  const digestValue = Buffer.from(text(oneChild(reference, NS.ds, 'DigestValue', true, 'SIGNATURE_INVALID')).replace(/\s+/g, ''), 'base64');

  // SignedInfo first: a signature by an unknown key is reported as such, whatever it covers.
  const signedInfoCanon = Buffer.from(canonicalize(signedInfo, inclusivePrefixes(c14nMethod)), 'utf8');
  const sigBytes = Buffer.from(text(signatureValue).replace(/\s+/g, ''), 'base64');
  const keyInfoCert = keyInfoCertificate(signature);
  const trusted = profile.idp.certificates.map(trustedKey);
  const matching = keyInfoCert === undefined ? [] : trusted.filter((k) => k.der === keyInfoCert);
  // The KeyInfo certificate only picks among trusted keys; it is never trusted by itself.
  const candidates = matching.length > 0 ? matching : trusted;
  const verified = candidates.some((k) => {
    try {
      return cryptoVerify(sigAlg.hash, signedInfoCanon, sigAlg.ec ? { key: k.key, dsaEncoding: 'ieee-p1363' } : k.key, sigBytes);
    } catch {
      return false;
    }
  });
  if (!verified) {
    if (matching.length > 0 || keyInfoCert === undefined) fail('SIGNATURE_INVALID', `the ${what} signature does not verify with the profile's IdP certificate(s)`);
    fail('UNTRUSTED_CERTIFICATE', `the IdP signs the ${what} with certificate ${fingerprint(keyInfoCert)}, which is not among the profile's ${trusted.length} IdP certificate(s): add the IdP's current signing certificate`);
  }

  // Enveloped-signature transform: the digest covers the element without this signature.
  const next = signature.nextSibling;
  signed.removeChild(signature);
  let canon: string;
  try {
    canon = canonicalize(signed, refPrefixes);
  } finally {
    signed.insertBefore(signature, next);
  }
  const digest = createHash(digestAlg).update(canon, 'utf8').digest();
  if (digest.length !== digestValue.length || !timingSafeEqual(digest, digestValue)) {
    fail('SIGNATURE_INVALID', `the ${what} was modified after the IdP signed it (digest mismatch)`);
  }
}

/** SHA-256 fingerprint of a base64 DER certificate, as IdP admin consoles display it. */
function fingerprint(derBase64: string): string {
  const hex = createHash('sha256').update(Buffer.from(derBase64, 'base64')).digest('hex').toUpperCase();
  return `SHA-256 ${hex.match(/../g)?.join(':') ?? hex}`;
}

function keyInfoCertificate(signature: Element): string | undefined {
  const keyInfo = childrenNamed(signature, NS.ds, 'KeyInfo')[0];
  if (keyInfo === undefined) return undefined;
  for (const data of childrenNamed(keyInfo, NS.ds, 'X509Data')) {
    const cert = childrenNamed(data, NS.ds, 'X509Certificate')[0];
    if (cert !== undefined) return text(cert).replace(/\s+/g, '');
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Encrypted assertions

const DECRYPT_ALGORITHMS = new Set([
  'http://www.w3.org/2001/04/xmlenc#aes128-cbc',
  'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
  'http://www.w3.org/2009/xmlenc11#aes128-gcm',
  'http://www.w3.org/2009/xmlenc11#aes256-gcm',
  'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
]);

const DECRYPTION_HINT = 'the EncryptedAssertion cannot be decrypted with the SP key: the IdP encrypts for another certificate, or the data is corrupt';

async function decryptAssertion(encrypted: Element, profile: RenderedProfile): Promise<Element> {
  oneChild(encrypted, NS.xenc, 'EncryptedData', true, 'DECRYPTION_FAILED');
  // Only RSA-OAEP key transport and AES content encryption; RSA PKCS#1 v1.5 and 3DES are refused.
  const walk = (el: Element): void => {
    for (const c of children(el)) {
      if (c.localName === 'EncryptionMethod') {
        const alg = attr(c, 'Algorithm') ?? '';
        if (!DECRYPT_ALGORITHMS.has(alg)) fail('DECRYPTION_FAILED', `the EncryptedAssertion uses ${quote(alg)}, Gatehouse accepts RSA-OAEP with AES-CBC or AES-GCM`);
      }
      walk(c);
    }
  };
  walk(encrypted);
  const xml = encrypted.toString();
  const plain = await new Promise<string>((resolve, reject) => {
    xmlenc.decrypt(xml, { key: profile.sp.key.privateKeyPem, disallowDecryptionWithInsecureAlgorithm: true, warnInsecureAlgorithm: false }, (err, result) => {
      if (err !== null || result === undefined) reject(err ?? new Error('no result'));
      else resolve(result);
    });
  }).catch((err: unknown) => fail('DECRYPTION_FAILED', DECRYPTION_HINT, err));
  // Every failure from here to a parsed Assertion looks the same from outside (code and hint):
  // with AES-CBC under an unsigned response, telling "bad padding" from "bad plaintext" would
  // make the ACS a decryption oracle (Jager & Somorovsky, 2011).
  let doc: Document;
  try {
    doc = parseXml(plain, 'decrypted assertion');
  } catch (err) {
    fail('DECRYPTION_FAILED', DECRYPTION_HINT, err);
  }
  const root = doc.documentElement;
  if (root === null || root.localName !== 'Assertion' || root.namespaceURI !== NS.saml) fail('DECRYPTION_FAILED', DECRYPTION_HINT);
  return root;
}

// ---------------------------------------------------------------------------------------------
// The validator

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
  let result: ValidatedAssertion;
  let t0 = timings === undefined ? 0 : performance.now();
  try {
    result = await validateDocument(samlResponseBase64, ctx, timings);
  } catch (err) {
    if (err instanceof SamlValidationError) throw err;
    // Whatever a hostile document provokes below is still a refusal with a stable code.
    fail('MALFORMED_RESPONSE', 'the response could not be processed', err);
  }
  if (timings !== undefined) t0 = performance.now();
  // The replay store's own failures (e.g. Redis unreachable) propagate: they are not the IdP's fault.
  const skewMs = ctx.profile.allowedClockSkewSeconds * 1000;
  const fresh = await ctx.replay.remember(result.assertionID, new Date(result.notOnOrAfter.getTime() + skewMs));
  if (timings !== undefined) timings.replayMs += performance.now() - t0;
  if (!fresh) fail('ASSERTION_REPLAYED', `the assertion ${quote(result.assertionID, 60)} was already used for a login`);
  return result;
}

async function validateDocument(samlResponseBase64: string, ctx: ValidationContext, timings: ValidationTimings | undefined): Promise<ValidatedAssertion> {
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

  const doc = parseXml(decodeBase64(samlResponseBase64), 'SAMLResponse');
  const response = doc.documentElement;
  if (response === null || response.localName !== 'Response' || response.namespaceURI !== NS.samlp) {
    fail('MALFORMED_RESPONSE', `the document is ${quote(response?.tagName)}, not a SAML 2.0 protocol Response`);
  }
  if (attr(response, 'Version') !== '2.0') fail('MALFORMED_RESPONSE', `the Response has Version ${quote(attr(response, 'Version'))}, expected "2.0"`);
  const index = indexDocument(response);
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

  let assertion: Element;
  let assertionIndex = index;
  if (encrypted[0] !== undefined) {
    assertion = await decryptAssertion(encrypted[0], profile);
    assertionIndex = indexDocument(assertion);
    if (assertionIndex.assertions !== 1) fail('SIGNATURE_WRAPPING', 'the decrypted assertion contains another assertion');
    lap('parseMs');
  } else {
    assertion = plain[0] as Element;
  }
  const assertionSignatures = childrenNamed(assertion, NS.ds, 'Signature');
  if (assertionSignatures.length > 1) fail('SIGNATURE_WRAPPING', 'the Assertion carries more than one signature');
  const assertionSignature = assertionSignatures[0];
  if (assertionSignature !== undefined) {
    verifyEnvelopedSignature(assertionSignature, assertion, assertionIndex, profile);
  } else if (responseSignature === undefined) {
    if (encrypted.length > 0) fail('ENCRYPTED_ASSERTION_UNSIGNED', 'the EncryptedAssertion is covered by no signature: sign the Response or the Assertion at the IdP');
    fail('SIGNATURE_MISSING', 'neither the Response nor the Assertion is signed: enable assertion or response signing at the IdP');
  }
  lap('signatureMs');

  // From here on everything is read from `assertion`, which a verified signature covers.
  const result = checkAssertion(assertion, response, ctx, now, skewMs);
  lap('checksMs');
  return result;
}

function checkAssertion(assertion: Element, response: Element, ctx: ValidationContext, now: number, skewMs: number): ValidatedAssertion {
  const { profile } = ctx;
  if (attr(assertion, 'Version') !== '2.0') fail('MALFORMED_RESPONSE', `the Assertion has Version ${quote(attr(assertion, 'Version'))}, expected "2.0"`);
  const assertionID = attr(assertion, 'ID');
  if (assertionID === undefined || assertionID === '') fail('MALFORMED_RESPONSE', 'the Assertion has no ID');

  const issuerEl = oneChild(assertion, NS.saml, 'Issuer', true, 'ISSUER_MISMATCH');
  const issuer = text(issuerEl).trim();
  if (issuer !== profile.idp.entityID) fail('ISSUER_MISMATCH', `issuer mismatch: the IdP sends ${quote(issuer)}, expected ${quote(profile.idp.entityID)}`);

  // Unsolicited responses are never logins; the ACS turns them into a fresh SP-initiated login.
  const expected = ctx.expectedInResponseTo;
  const responseInResponseTo = attr(response, 'InResponseTo');
  if (expected === null) {
    fail('UNSOLICITED_RESPONSE', responseInResponseTo === undefined
      ? 'the IdP sent an IdP-initiated response; Gatehouse starts a fresh SP-initiated login instead'
      : `no pending login matches InResponseTo ${quote(responseInResponseTo, 60)} (expired, or started in another browser)`);
  }
  if (responseInResponseTo !== undefined && responseInResponseTo !== expected) {
    fail('IN_RESPONSE_TO_MISMATCH', `the Response answers request ${quote(responseInResponseTo, 60)}, the browser's pending request is ${quote(expected, 60)}`);
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
      confirmed = checkBearer(sc, ctx, expected, now, skewMs);
      break;
    } catch (err) {
      if (!(err instanceof SamlValidationError)) throw err;
      firstError ??= err;
    }
  }
  if (confirmed === undefined) throw firstError ?? new SamlValidationError('SUBJECT_CONFIRMATION_MISSING', 'no usable bearer SubjectConfirmation');

  const authn = childrenNamed(assertion, NS.saml, 'AuthnStatement')[0];
  const attributes: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const statement of childrenNamed(assertion, NS.saml, 'AttributeStatement')) {
    for (const a of childrenNamed(statement, NS.saml, 'Attribute')) {
      const name = attr(a, 'Name');
      if (name === undefined || name === '') continue;
      const values = (attributes[name] ??= []);
      for (const v of childrenNamed(a, NS.saml, 'AttributeValue')) {
        if (v.getAttributeNS(NS.xsi, 'nil') === 'true') continue;
        values.push(text(v));
      }
    }
  }

  const notOnOrAfter = condNotOnOrAfter !== undefined && condNotOnOrAfter < confirmed ? condNotOnOrAfter : confirmed;
  const result: ValidatedAssertion = { issuer, nameID, assertionID, notOnOrAfter, attributes: { ...attributes }, inResponseTo: expected };
  const format = attr(nameIDEl, 'Format');
  if (format !== undefined) result.nameIDFormat = format;
  if (authn !== undefined) {
    const sessionIndex = attr(authn, 'SessionIndex');
    if (sessionIndex !== undefined) result.sessionIndex = sessionIndex;
    const authnInstant = parseTime(attr(authn, 'AuthnInstant'), 'AuthnInstant');
    if (authnInstant !== undefined) result.authnInstant = authnInstant;
  }
  return result;
}

function checkBearer(sc: Element, ctx: ValidationContext, expected: string, now: number, skewMs: number): Date {
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
  if (inResponseTo !== expected) {
    fail('IN_RESPONSE_TO_MISMATCH', `the assertion answers request ${quote(inResponseTo, 60)}, the browser's pending request is ${quote(expected, 60)}`);
  }
  return notOnOrAfter;
}

/**
 * Reads InResponseTo from the Response's start tag without parsing or verifying anything, so the
 * ACS can find the pending request (or recognise an unsolicited response). Untrusted.
 */
export function peekInResponseTo(samlResponseBase64: string): string | null {
  if (samlResponseBase64.length > (MAX_RESPONSE_BYTES * 4) / 3 + 4) return null;
  const xml = Buffer.from(samlResponseBase64, 'base64').toString('utf8');
  let i = 0;
  // Skip the XML declaration, comments and whitespace before the root element.
  for (;;) {
    i = xml.indexOf('<', i);
    if (i < 0) return null;
    if (xml.startsWith('<?', i)) i = xml.indexOf('?>', i) + 2;
    else if (xml.startsWith('<!--', i)) i = xml.indexOf('-->', i) + 3;
    else break;
    if (i < 2) return null;
  }
  const end = xml.indexOf('>', i);
  if (end < 0) return null;
  const match = /\sInResponseTo\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/.exec(xml.slice(i, end));
  const value = match?.[1] ?? match?.[2];
  return value === undefined || value === '' ? null : value;
}

/** A process-local replay cache for a single replica; Redis backs it when there are several. */
export const memoryReplayCache = (): ReplayCache => {
  const seen = new Map<string, number>();
  let nextSweep = 0;
  return {
    async remember(assertionID: string, expiresAt: Date): Promise<boolean> {
      const now = Date.now();
      if (now >= nextSweep) {
        for (const [id, until] of seen) if (until <= now) seen.delete(id);
        nextSweep = now + 10_000;
      }
      const until = seen.get(assertionID);
      if (until !== undefined && until > now) return false;
      seen.set(assertionID, Math.max(expiresAt.getTime(), now + 1000));
      return true;
    },
  };
};
