// Test fixtures for SAML: IdP and SP key pairs with self-signed certificates, a RenderedProfile,
// and SAML Responses that the tests sign themselves — well-formed ones with every knob a real IdP
// turns (response and/or assertion signature, algorithms, attributes, times, audience,
// destination, InResponseTo, encrypted assertion) and hostile ones (signature wrapping shapes,
// tampering, DTDs, comment injection…).
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign as cryptoSign } from 'node:crypto';
import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import forge from 'node-forge';
import { SignedXml } from 'xml-crypto';
import xmlenc from 'xml-encryption';
import type { RenderedSAMLProfile, SignatureAlgorithm } from '../../crds/api/index.ts';
import { DIGEST_ALGORITHM_URIS, NS, SIGNATURE_ALGORITHM_URIS } from '../../sp-server/saml/uris.ts';

export interface TestKeyPair {
  privateKeyPem: string;
  certificatePem: string;
  publicKeyPem: string;
}

/** An RSA key pair with a self-signed X.509 certificate (node:crypto keys, node-forge certificate). */
export function makeKeyPair(commonName: string, bits = 2048): TestKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 24 * 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 24 * 3600_000);
  const attrs = [{ name: 'commonName', value: commonName }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return { privateKeyPem: privateKey, certificatePem: forge.pki.certificateToPem(cert), publicKeyPem: publicKey };
}

/** An ECDSA P-256 key pair with a self-signed certificate (node-forge has no EC; openssl does). */
export function makeEcKeyPair(commonName: string): TestKeyPair {
  const out = execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '-', '-out', '-', '-subj', `/CN=${commonName}`, '-days', '365'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const privateKeyPem = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n/.exec(out)?.[0];
  const certificatePem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(out)?.[0];
  if (privateKeyPem === undefined || certificatePem === undefined) throw new Error('openssl did not produce an EC key and certificate');
  return { privateKeyPem, certificatePem, publicKeyPem: createPublicKey(certificatePem).export({ type: 'spki', format: 'pem' }).toString() };
}

const cache = new Map<string, TestKeyPair>();
function cached(name: string): TestKeyPair {
  let k = cache.get(name);
  if (k === undefined) {
    k = makeKeyPair(name);
    cache.set(name, k);
  }
  return k;
}
/** The IdP the test profile trusts. */
export const testIdpKeys = (): TestKeyPair => cached('idp.acme.test');
/** A second trusted IdP certificate (rotation). */
export const rotatedIdpKeys = (): TestKeyPair => cached('idp-next.acme.test');
/** A key pair the profile does not trust. */
export const untrustedKeys = (): TestKeyPair => cached('evil.test');
/** The SP's key (AuthnRequest signing, assertion decryption). */
export const testSpKeys = (): TestKeyPair => cached('sp.gatehouse.test');
let ecKeys: TestKeyPair | undefined;
/** An ECDSA IdP key pair (trusted when a test adds its certificate to the profile). */
export const ecIdpKeys = (): TestKeyPair => (ecKeys ??= makeEcKeyPair('idp-ec.acme.test'));

export const TEST_IDP_ENTITY_ID = 'https://idp.acme.test/saml/metadata';
export const TEST_SP_ENTITY_ID = 'https://gatehouse.test/saml/acme/okta';
export const TEST_ACS_URL = 'https://gatehouse.test/saml/acme/okta/acs';

export function testProfile(overrides: Partial<RenderedSAMLProfile> = {}): RenderedSAMLProfile {
  const sp = testSpKeys();
  return {
    name: 'okta',
    displayName: 'Okta',
    sp: {
      entityID: TEST_SP_ENTITY_ID,
      acsURL: TEST_ACS_URL,
      metadataURL: 'https://gatehouse.test/saml/acme/okta/metadata',
      key: { privateKeyPem: sp.privateKeyPem, certificatePem: sp.certificatePem },
    },
    idp: {
      entityID: TEST_IDP_ENTITY_ID,
      ssoURL: 'https://idp.acme.test/saml/sso',
      certificates: [testIdpKeys().certificatePem],
    },
    domains: ['acme.test'],
    nameIDFormat: 'emailAddress',
    signAuthnRequests: false,
    forceAuthn: false,
    signatureAlgorithms: ['rsa-sha256', 'rsa-sha384', 'rsa-sha512', 'ecdsa-sha256', 'ecdsa-sha384', 'ecdsa-sha512'],
    allowedClockSkewSeconds: 90,
    enforcedDomains: [],
    unmanagedUsers: 'Refuse',
    enforcementExempt: [],
    jit: { enabled: false, defaultRoles: [] },
    ...overrides,
  };
}

export interface ResponseOptions {
  /** Key that signs (default: the trusted test IdP). */
  signer?: TestKeyPair;
  signResponse?: boolean;
  signAssertion?: boolean;
  signatureAlgorithm?: SignatureAlgorithm;
  digestAlgorithm?: 'sha1' | 'sha256' | 'sha384' | 'sha512';
  /** A number n gives an Entra-like set: 4 identity claims and a groups claim, n values in all. */
  attributes?: number | Record<string, string[]>;
  now?: Date;
  /** Seconds relative to `now`. */
  notBeforeSeconds?: number;
  notOnOrAfterSeconds?: number;
  subjectNotOnOrAfterSeconds?: number;
  audience?: string | null;
  /** null omits the attribute. */
  destination?: string | null;
  recipient?: string;
  /** null makes an IdP-initiated response (no InResponseTo anywhere). */
  inResponseTo?: string | null;
  issuer?: string;
  responseIssuer?: string | null;
  nameID?: string;
  /** null omits the Format attribute. */
  nameIDFormat?: string | null;
  /** The Response's and the Assertion's IssueInstant, seconds relative to `now` (default 0). */
  issueInstantSeconds?: number;
  assertionIssueInstantSeconds?: number;
  /** The AuthnStatement's AuthnInstant, seconds relative to `now` (default -1); null omits it. */
  authnInstantSeconds?: number | null;
  omitAuthnStatement?: boolean;
  assertionID?: string;
  responseID?: string;
  omitConditions?: boolean;
  omitSubjectConfirmation?: boolean;
  status?: string;
  encrypt?: boolean;
  contentEncryption?: 'aes128-cbc' | 'aes256-cbc' | 'aes128-gcm' | 'aes256-gcm';
  /** Entra ID's style: the assertion and its signature in default namespaces, no prefixes. */
  defaultNamespace?: boolean;
  /**
   * Shibboleth's style: the assertion signature's exc-c14n transform names InclusiveNamespaces
   * "xs xsi", and those declarations sit on the Response, not on the signed assertion.
   */
  inclusivePrefixes?: boolean;
}

export interface BuiltResponse {
  xml: string;
  base64: string;
  assertionID: string;
  responseID: string;
  inResponseTo: string | null;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
export const newID = (): string => `_${randomUUID().replace(/-/g, '')}`;

function attributeXml(attributes: number | Record<string, string[]>): string {
  let attrs: Record<string, string[]>;
  if (typeof attributes === 'number') {
    const claims = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/';
    attrs = {
      [`${claims}emailaddress`]: ['alice@acme.test'],
      [`${claims}givenname`]: ['Alice'],
      [`${claims}surname`]: ['Liddell'],
      [`${claims}name`]: ['alice@acme.test'],
    };
    const groups = Math.max(0, attributes - 4);
    if (groups > 0) attrs['http://schemas.microsoft.com/ws/2008/06/identity/claims/groups'] = Array.from({ length: groups }, (_, i) => `${randomUUID().slice(0, 28)}${String(i).padStart(8, '0')}`);
  } else {
    attrs = attributes;
  }
  const body = Object.entries(attrs)
    .map(([name, values]) => `<saml:Attribute Name="${esc(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">${values.map((v) => `<saml:AttributeValue xsi:type="xs:string">${esc(v)}</saml:AttributeValue>`).join('')}</saml:Attribute>`)
    .join('');
  return body === '' ? '' : `<saml:AttributeStatement>${body}</saml:AttributeStatement>`;
}

// xml-crypto signs rsa-sha1/256/512 only; the fixture signs every algorithm the API names, so the
// validator's allow-list is tested on each (ECDSA in XML-DSig is IEEE P1363 r||s).
function signatureClass(name: SignatureAlgorithm) {
  const [family, hash] = name.split('-') as [string, string];
  return class {
    getSignature(signedInfo: string, privateKey: string): string {
      return cryptoSign(hash, Buffer.from(signedInfo), family === 'ecdsa' ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey).toString('base64');
    }
    verifySignature(): boolean {
      throw new Error('the fixture only signs');
    }
    getAlgorithmName(): string {
      return SIGNATURE_ALGORITHM_URIS[name];
    }
  };
}
class Sha384 {
  getHash(xml: string): string {
    return createHash('sha384').update(xml, 'utf8').digest('base64');
  }
  getAlgorithmName(): string {
    return DIGEST_ALGORITHM_URIS.sha384 as string;
  }
}

export function sign(
  xml: string,
  what: 'Response' | 'Assertion',
  keys: TestKeyPair,
  signatureAlgorithm: SignatureAlgorithm = 'rsa-sha256',
  digestAlgorithm = 'sha256',
  style: { prefix?: string; inclusiveNamespacesPrefixList?: string[] } = {},
): string {
  const sig = new SignedXml({
    privateKey: keys.privateKeyPem,
    publicCert: keys.certificatePem,
    signatureAlgorithm: SIGNATURE_ALGORITHM_URIS[signatureAlgorithm],
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  for (const name of Object.keys(SIGNATURE_ALGORITHM_URIS) as SignatureAlgorithm[]) {
    (sig.SignatureAlgorithms as Record<string, unknown>)[SIGNATURE_ALGORITHM_URIS[name]] = signatureClass(name);
  }
  (sig.HashAlgorithms as Record<string, unknown>)[DIGEST_ALGORITHM_URIS.sha384 as string] = Sha384;
  const element = what === 'Response' ? "/*[local-name(.)='Response']" : "//*[local-name(.)='Assertion']";
  sig.addReference({
    xpath: element,
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestAlgorithm: DIGEST_ALGORITHM_URIS[digestAlgorithm] ?? digestAlgorithm,
    ...(style.inclusiveNamespacesPrefixList === undefined ? {} : { inclusiveNamespacesPrefixList: style.inclusiveNamespacesPrefixList }),
  });
  sig.computeSignature(xml, { prefix: style.prefix ?? 'ds', location: { reference: `${element}/*[local-name(.)='Issuer']`, action: 'after' } });
  return sig.getSignedXml();
}

/** Wraps `content` (normally an Assertion) in an EncryptedAssertion for the SP key. */
export async function encryptAssertion(assertionXml: string, sp: TestKeyPair, alg: string): Promise<string> {
  const encrypted = await new Promise<string>((resolve, reject) => {
    xmlenc.encrypt(
      assertionXml,
      {
        rsa_pub: sp.publicKeyPem,
        pem: sp.certificatePem,
        encryptionAlgorithm: alg.includes('gcm') ? `http://www.w3.org/2009/xmlenc11#${alg}` : `http://www.w3.org/2001/04/xmlenc#${alg}`,
        keyEncryptionAlgorithm: 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
        warnInsecureAlgorithm: false,
      },
      (err, result) => (err !== null || result === undefined ? reject(err ?? new Error('no result')) : resolve(result)),
    );
  });
  return `<saml:EncryptedAssertion>${encrypted.trim()}</saml:EncryptedAssertion>`;
}

export async function buildResponse(opts: ResponseOptions = {}): Promise<BuiltResponse> {
  const now = opts.now ?? new Date();
  const at = (s: number): string => iso(new Date(now.getTime() + s * 1000));
  const signer = opts.signer ?? testIdpKeys();
  const signResponse = opts.signResponse ?? true;
  const signAssertion = opts.signAssertion ?? false;
  const alg = opts.signatureAlgorithm ?? 'rsa-sha256';
  const digest = opts.digestAlgorithm ?? (alg.split('-')[1] as 'sha256');
  const assertionID = opts.assertionID ?? newID();
  const responseID = opts.responseID ?? newID();
  const inResponseTo = opts.inResponseTo === undefined ? newID() : opts.inResponseTo;
  const irt = inResponseTo === null ? '' : ` InResponseTo="${esc(inResponseTo)}"`;
  const issuer = opts.issuer ?? TEST_IDP_ENTITY_ID;
  const responseIssuer = opts.responseIssuer === undefined ? issuer : opts.responseIssuer;
  const destination = opts.destination === undefined ? TEST_ACS_URL : opts.destination;
  const audience = opts.audience === undefined ? TEST_SP_ENTITY_ID : opts.audience;
  const nameIDFormat = opts.nameIDFormat === undefined ? 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress' : opts.nameIDFormat;

  const conditions = opts.omitConditions
    ? ''
    : `<saml:Conditions NotBefore="${at(opts.notBeforeSeconds ?? -5)}" NotOnOrAfter="${at(opts.notOnOrAfterSeconds ?? 300)}">${
        audience === null ? '' : `<saml:AudienceRestriction><saml:Audience>${esc(audience)}</saml:Audience></saml:AudienceRestriction>`
      }</saml:Conditions>`;
  const confirmation = opts.omitSubjectConfirmation
    ? ''
    : `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${at(opts.subjectNotOnOrAfterSeconds ?? 300)}" Recipient="${esc(opts.recipient ?? TEST_ACS_URL)}"${irt}/></saml:SubjectConfirmation>`;
  let assertion =
    `<saml:Assertion xmlns:saml="${NS.saml}" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="${NS.xsi}" ID="${assertionID}" Version="2.0" IssueInstant="${at(opts.assertionIssueInstantSeconds ?? 0)}">` +
    `<saml:Issuer>${esc(issuer)}</saml:Issuer>` +
    `<saml:Subject><saml:NameID${nameIDFormat === null ? '' : ` Format="${esc(nameIDFormat)}"`}>${esc(opts.nameID ?? 'alice@acme.test')}</saml:NameID>${confirmation}</saml:Subject>` +
    conditions +
    (opts.omitAuthnStatement
      ? ''
      : `<saml:AuthnStatement${opts.authnInstantSeconds === null ? '' : ` AuthnInstant="${at(opts.authnInstantSeconds ?? -1)}"`} SessionIndex="${newID()}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`) +
    attributeXml(opts.attributes ?? 5) +
    `</saml:Assertion>`;
  if (opts.defaultNamespace) {
    assertion = assertion.replace(`xmlns:saml="${NS.saml}"`, `xmlns="${NS.saml}"`).replace(/<(\/?)saml:/g, '<$1');
  }
  if (signAssertion) {
    assertion = sign(assertion, 'Assertion', signer, alg, digest, {
      prefix: opts.defaultNamespace ? '' : 'ds',
      ...(opts.inclusivePrefixes ? { inclusiveNamespacesPrefixList: ['xs', 'xsi'] } : {}),
    });
  }
  const schemaNamespaces = ' xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="' + NS.xsi + '"';
  if (opts.inclusivePrefixes) assertion = assertion.replace(schemaNamespaces, '');
  if (opts.encrypt) assertion = await encryptAssertion(assertion, testSpKeys(), opts.contentEncryption ?? 'aes256-gcm');

  let xml =
    `<samlp:Response xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}"${opts.inclusivePrefixes ? schemaNamespaces : ''} ID="${responseID}" Version="2.0" IssueInstant="${at(opts.issueInstantSeconds ?? 0)}"${destination === null ? '' : ` Destination="${esc(destination)}"`}${irt}>` +
    (responseIssuer === null ? '' : `<saml:Issuer>${esc(responseIssuer)}</saml:Issuer>`) +
    `<samlp:Status><samlp:StatusCode Value="${esc(opts.status ?? 'urn:oasis:names:tc:SAML:2.0:status:Success')}"/></samlp:Status>` +
    assertion +
    `</samlp:Response>`;
  if (signResponse) {
    if (responseIssuer === null) throw new Error('a signed response in this fixture needs an Issuer to place the signature after');
    xml = sign(xml, 'Response', signer, alg, digest, { prefix: opts.defaultNamespace ? '' : 'ds' });
  }
  return { xml, base64: toBase64(xml), assertionID, responseID, inResponseTo };
}

export const toBase64 = (xml: string): string => Buffer.from(xml, 'utf8').toString('base64');

// ---------------------------------------------------------------------------------------------
// Hostile variants of a signed response

function parse(xml: string): Document {
  return new DOMParser().parseFromString(xml, 'text/xml');
}
function serialize(doc: Document): string {
  return new XMLSerializer().serializeToString(doc);
}
function first(root: Document | Element, ns: string, localName: string): Element {
  const el = root.getElementsByTagNameNS(ns, localName)[0];
  if (el === undefined) throw new Error(`fixture: no ${localName}`);
  return el;
}
function directChild(parent: Element, ns: string, localName: string): Element {
  for (let n = parent.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).localName === localName && (n as Element).namespaceURI === ns) return n as Element;
  }
  throw new Error(`fixture: no ${localName} under ${parent.localName}`);
}
function setNameID(assertion: Element, value: string): void {
  const nameID = first(assertion, NS.saml, 'NameID');
  while (nameID.firstChild !== null) nameID.removeChild(nameID.firstChild);
  nameID.appendChild((nameID.ownerDocument as Document).createTextNode(value));
}

/** Changes the NameID after signing. */
export function tamperNameID(xml: string, nameID = 'mallory@acme.test'): string {
  const doc = parse(xml);
  setNameID(first(doc, NS.saml, 'Assertion'), nameID);
  return serialize(doc);
}

/** Inserts a comment into the signed NameID (c14n drops comments, so the signature still verifies). */
export function injectCommentInNameID(xml: string, at: number): string {
  const doc = parse(xml);
  const nameID = first(doc, NS.saml, 'NameID');
  const value = nameID.textContent ?? '';
  while (nameID.firstChild !== null) nameID.removeChild(nameID.firstChild);
  nameID.appendChild(doc.createTextNode(value.slice(0, at)));
  nameID.appendChild(doc.createComment(''));
  nameID.appendChild(doc.createTextNode(value.slice(at)));
  return serialize(doc);
}

/** An internal DTD with an external entity used in the NameID (XXE). */
export function withDoctype(xml: string): string {
  const body = xml.replace(/^<\?xml[^>]*\?>/, '');
  return `<?xml version="1.0"?><!DOCTYPE samlp:Response [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${body.replace('alice@acme.test</saml:NameID>', '&xxe;</saml:NameID>')}`;
}

export type WrappingShape =
  | 'XSW1-response-clone-wraps-original'
  | 'XSW2-response-detached-original'
  | 'XSW3-evil-assertion-before-signed'
  | 'XSW4-evil-assertion-wraps-signed'
  | 'XSW5-signature-moved-to-evil-copy'
  | 'XSW6-signed-inside-signature-of-evil'
  | 'XSW7-signed-in-extensions'
  | 'XSW8-signed-in-signature-object'
  | 'evil-assertion-reuses-signed-id';

/**
 * The known XML signature wrapping shapes (Somorovsky et al., "On Breaking SAML", 2012): the
 * signed element stays intact somewhere so the digest still matches, while an attacker-controlled
 * element sits where a careless SP reads. XSW1/2 need a response signature, the others an
 * assertion signature.
 */
export function wrap(xml: string, shape: WrappingShape, evilNameID = 'mallory@acme.test'): string {
  const doc = parse(xml);
  const response = doc.documentElement as Element;
  const original = directChild(response, NS.saml, 'Assertion');
  const evilAssertion = (id: string): Element => {
    const evil = original.cloneNode(true) as Element;
    evil.setAttribute('ID', id);
    for (let n = evil.firstChild; n !== null; n = n.nextSibling) {
      if (n.nodeType === 1 && (n as Element).localName === 'Signature') {
        evil.removeChild(n);
        break;
      }
    }
    setNameID(evil, evilNameID);
    return evil;
  };
  switch (shape) {
    case 'XSW1-response-clone-wraps-original':
    case 'XSW2-response-detached-original': {
      // A new, unsigned root response with an evil assertion; the original signed response is
      // kept inside the moved signature (XSW1) or next to it (XSW2).
      const evilDoc = parse(xml);
      const evilRoot = evilDoc.documentElement as Element;
      evilRoot.setAttribute('ID', newID());
      const evilSig = directChild(evilRoot, NS.ds, 'Signature');
      const evilAssertionEl = directChild(evilRoot, NS.saml, 'Assertion');
      evilAssertionEl.setAttribute('ID', newID());
      setNameID(evilAssertionEl, evilNameID);
      const originalCopy = evilDoc.importNode(response, true);
      for (let n = originalCopy.firstChild; n !== null; n = n.nextSibling) {
        if (n.nodeType === 1 && (n as Element).localName === 'Signature') {
          originalCopy.removeChild(n);
          break;
        }
      }
      if (shape === 'XSW1-response-clone-wraps-original') {
        evilSig.appendChild(originalCopy);
      } else {
        evilRoot.insertBefore(originalCopy, evilSig);
      }
      return serialize(evilDoc);
    }
    case 'XSW3-evil-assertion-before-signed':
      response.insertBefore(evilAssertion(newID()), original);
      return serialize(doc);
    case 'XSW4-evil-assertion-wraps-signed': {
      const evil = evilAssertion(newID());
      response.replaceChild(evil, original);
      evil.appendChild(original);
      return serialize(doc);
    }
    case 'XSW5-signature-moved-to-evil-copy': {
      // The evil assertion carries the original signature; the original is appended at the end.
      const evil = evilAssertion(newID());
      const signature = directChild(original, NS.ds, 'Signature');
      original.removeChild(signature);
      evil.insertBefore(signature, evil.firstChild?.nextSibling ?? null);
      response.replaceChild(evil, original);
      response.appendChild(original);
      return serialize(doc);
    }
    case 'XSW6-signed-inside-signature-of-evil': {
      const evil = evilAssertion(newID());
      const signature = directChild(original, NS.ds, 'Signature');
      original.removeChild(signature);
      evil.insertBefore(signature, evil.firstChild?.nextSibling ?? null);
      response.replaceChild(evil, original);
      signature.appendChild(original);
      return serialize(doc);
    }
    case 'XSW7-signed-in-extensions': {
      const ext = doc.createElementNS(NS.samlp, 'samlp:Extensions');
      const evil = evilAssertion(newID());
      response.replaceChild(evil, original);
      ext.appendChild(original);
      response.insertBefore(ext, directChild(response, NS.samlp, 'Status'));
      return serialize(doc);
    }
    case 'XSW8-signed-in-signature-object': {
      // The evil assertion keeps the signature; the original (without its signature) sits in a
      // ds:Object inside it, so the reference resolves there.
      const evil = evilAssertion(newID());
      const signature = directChild(original, NS.ds, 'Signature');
      original.removeChild(signature);
      evil.insertBefore(signature, evil.firstChild?.nextSibling ?? null);
      response.replaceChild(evil, original);
      const object = doc.createElementNS(NS.ds, 'ds:Object');
      object.appendChild(original);
      signature.appendChild(object);
      return serialize(doc);
    }
    case 'evil-assertion-reuses-signed-id': {
      const evil = evilAssertion(original.getAttribute('ID') ?? '');
      response.insertBefore(evil, original);
      return serialize(doc);
    }
  }
}
