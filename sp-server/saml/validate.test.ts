import { X509Certificate } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { SignedXml } from 'xml-crypto';
import xmlenc from 'xml-encryption';
import {
  buildResponse,
  ecIdpKeys,
  encryptAssertion,
  injectCommentInNameID,
  makeKeyPair,
  newID,
  rotatedIdpKeys,
  tamperNameID,
  testIdpKeys,
  testProfile,
  testSpKeys,
  toBase64,
  untrustedKeys,
  withDoctype,
  wrap,
  type ResponseOptions,
  type WrappingShape,
} from '../../test/support/saml-fixtures.ts';
import { exclusiveC14n } from './exc-c14n.ts';
import { RETIRED_SAML_ERROR_CODES, SAML_ERROR_CODES, SamlValidationError, type SamlErrorCode } from './errors.ts';
import { memoryReplayCache, peekInResponseTo, validateSamlResponse, type ValidationContext } from './validate.ts';
import { exceededBound } from '../../xml/bounds.ts';

const profile = testProfile();
const seenCodes = new Set<SamlErrorCode>();

function ctx(expectedInResponseTo: string | null, overrides: Partial<ValidationContext> = {}): ValidationContext {
  return { profile, expectedInResponseTo, replay: memoryReplayCache(), ...overrides };
}

async function accept(opts: ResponseOptions = {}, overrides: Partial<ValidationContext> = {}) {
  const r = await buildResponse(opts);
  const v = await validateSamlResponse(r.base64, ctx(r.inResponseTo, overrides));
  expect(v.assertionID).toBe(r.assertionID);
  return v;
}

async function expectCode(run: Promise<unknown>, code: SamlErrorCode): Promise<SamlValidationError> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SamlValidationError);
  const e = err as SamlValidationError;
  expect({ code: e.code, hint: e.hint }).toMatchObject({ code });
  expect(e.hint.length).toBeGreaterThan(10);
  expect(e.hint).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
  seenCodes.add(e.code);
  return e;
}

async function reject(opts: ResponseOptions, code: SamlErrorCode, overrides: Partial<ValidationContext> = {}) {
  const r = await buildResponse(opts);
  return expectCode(validateSamlResponse(r.base64, ctx(r.inResponseTo, overrides)), code);
}

/**
 * Whether the document's first signature still verifies for a verifier that checks only the
 * cryptography (xml-crypto alone): the wrapping shapes below keep the signed bytes intact, so only
 * the structural checks stand between them and a login.
 */
function signatureStillVerifies(xml: string): boolean {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const signature = doc.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature')[0];
  if (signature === undefined) return false;
  const sig = new SignedXml({ publicCert: testIdpKeys().certificatePem, getCertFromKeyInfo: () => null });
  sig.loadSignature(signature as never);
  try {
    return sig.checkSignature(xml);
  } catch {
    return false;
  }
}

describe('validateSamlResponse accepts', () => {
  it('a signed response (Okta, Entra default) and returns the verified claims', async () => {
    const now = new Date();
    const r = await buildResponse({ now, attributes: 5 });
    const v = await validateSamlResponse(r.base64, ctx(r.inResponseTo, { now }));
    expect(v.issuer).toBe(profile.idp.entityID);
    expect(v.nameID).toBe('alice@acme.test');
    expect(v.nameIDFormat).toBe('urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress');
    expect(v.inResponseTo).toBe(r.inResponseTo);
    expect(v.sessionIndex).toMatch(/^_/);
    expect(v.authnInstant?.getTime()).toBe(Math.floor(now.getTime() / 1000) * 1000 - 1000);
    expect(v.notOnOrAfter.getTime()).toBe(Math.floor(now.getTime() / 1000) * 1000 + 300_000);
    expect(v.attributes['http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname']).toEqual(['Alice']);
    expect(Object.values(v.attributes).flat()).toHaveLength(5);
  });

  it('an XML declaration and whitespace around the document', async () => {
    const r = await buildResponse();
    await validateSamlResponse(toBase64(`<?xml version="1.0" encoding="UTF-8"?>\n${r.xml}\n`), ctx(r.inResponseTo));
  });

  it('an unsigned response with a signed assertion, without Destination', async () => {
    const v = await accept({ signResponse: false, signAssertion: true, destination: null });
    expect(v.nameID).toBe('alice@acme.test');
  });

  it('a signed response with a signed assertion', async () => {
    await accept({ signResponse: true, signAssertion: true });
  });

  it.each(['rsa-sha256', 'rsa-sha384', 'rsa-sha512'] as const)('signature algorithm %s', async (alg) => {
    await accept({ signatureAlgorithm: alg, signAssertion: true });
  });

  it.each(['ecdsa-sha256', 'ecdsa-sha384', 'ecdsa-sha512'] as const)('ECDSA signature algorithm %s', async (alg) => {
    const ec = testProfile({ idp: { ...profile.idp, certificates: [ecIdpKeys().certificatePem] } });
    await accept({ signer: ecIdpKeys(), signatureAlgorithm: alg, signAssertion: true }, { profile: ec });
  });

  it('rsa-sha1 when the profile lists it', async () => {
    await accept({ signatureAlgorithm: 'rsa-sha1' }, { profile: testProfile({ signatureAlgorithms: ['rsa-sha256', 'rsa-sha1'] }) });
  });

  it('any of the profile certificates during rotation', async () => {
    const rotating = testProfile({ idp: { ...profile.idp, certificates: [testIdpKeys().certificatePem, rotatedIdpKeys().certificatePem] } });
    await accept({ signer: rotatedIdpKeys() }, { profile: rotating });
    await accept({ signer: testIdpKeys(), signAssertion: true, signResponse: false }, { profile: rotating });
  });

  it.each(['aes128-cbc', 'aes256-cbc', 'aes128-gcm', 'aes256-gcm'] as const)('an encrypted assertion (%s) under a signed response', async (contentEncryption) => {
    const v = await accept({ encrypt: true, contentEncryption });
    expect(v.nameID).toBe('alice@acme.test');
  });

  it('an encrypted signed assertion under an unsigned response (ADFS)', async () => {
    const v = await accept({ encrypt: true, signAssertion: true, signResponse: false });
    expect(v.attributes['http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress']).toEqual(['alice@acme.test']);
  });

  it('Entra-style default namespaces without prefixes', async () => {
    const r = await buildResponse({ defaultNamespace: true, signAssertion: true, signResponse: true });
    expect(r.xml).toContain(`<Assertion xmlns="urn:oasis:names:tc:SAML:2.0:assertion"`);
    expect(r.xml).toContain('<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">');
    const v = await validateSamlResponse(r.base64, ctx(r.inResponseTo));
    expect(v.nameID).toBe('alice@acme.test');
  });

  it('InclusiveNamespaces prefixes declared on the Response, outside the signed assertion', async () => {
    const r = await buildResponse({ inclusivePrefixes: true, signAssertion: true, signResponse: false });
    expect(r.xml).toMatch(/PrefixList="xs xsi"/);
    expect(/<saml:Assertion[^>]*>/.exec(r.xml)?.[0]).not.toContain('xmlns:xs=');
    await validateSamlResponse(r.base64, ctx(r.inResponseTo));
    // The inherited declaration is part of what is signed: rebinding it on the Response breaks the digest.
    const again = await buildResponse({ inclusivePrefixes: true, signAssertion: true, signResponse: false });
    await expectCode(
      validateSamlResponse(toBase64(again.xml.replace(' xmlns:xs="http://www.w3.org/2001/XMLSchema"', ' xmlns:xs="urn:other"')), ctx(again.inResponseTo)),
      'SIGNATURE_INVALID',
    );
  });

  it('NotBefore slightly in the future, within the clock skew', async () => {
    await accept({ notBeforeSeconds: 60 });
  });

  it('150 attribute values (Entra ID with many groups)', async () => {
    const v = await accept({ attributes: 150 });
    expect(Object.values(v.attributes).flat()).toHaveLength(150);
    expect(v.attributes['http://schemas.microsoft.com/ws/2008/06/identity/claims/groups']).toHaveLength(146);
  });

  it('a NameID split by a comment reads the whole signed value, not the first text node', async () => {
    const r = await buildResponse({ nameID: 'admin@acme.test.evil.test' });
    const injected = injectCommentInNameID(r.xml, 'admin@acme.test'.length);
    expect(injected).toContain('admin@acme.test<!---->.evil.test');
    const v = await validateSamlResponse(toBase64(injected), ctx(r.inResponseTo));
    expect(v.nameID).toBe('admin@acme.test.evil.test');
  });
});

describe('validateSamlResponse refuses', () => {
  it('a SignedInfo stuffed with namespace declarations is refused before it is parsed or canonicalized', async () => {
    const r = await buildResponse({ inResponseTo: '_x' });
    const decls = Array.from({ length: 16_000 }, (_, i) => ` xmlns:n${i}="urn:x:${i}"`).join('');
    const hostile = r.xml.replace(/<((?:\w+:)?SignedInfo)/, `<$1${decls}`);
    expect(hostile.length).toBeGreaterThan(400_000);
    const e = await expectCode(validateSamlResponse(toBase64(hostile), ctx('_x')), 'MALFORMED_RESPONSE');
    expect(e.hint).toContain('attributes');
  });

  it('a SignedInfo under the document bounds but carrying thousands of attributes and hundreds of namespace declarations: SIGNED_INFO_TOO_LARGE, before any c14n', async () => {
    const r = await buildResponse({ inResponseTo: '_x' });
    const declaring = Array.from({ length: 15 }, (_, e) => `<d${e} ${Array.from({ length: 30 }, (_, i) => `xmlns:p${e}x${i}="urn:x:${e}:${i}"`).join(' ')}/>`).join('');
    const attributed = `<a ${Array.from({ length: 30 }, (_, i) => `p0x${i}:v="${i}"`).join(' ')}/>`.repeat(600);
    const hostile = r.xml.replace(/(<(?:\w+:)?SignedInfo[^>]*>)/, `$1${declaring}<w xmlns:p0x0="urn:a" ${Array.from({ length: 29 }, (_, i) => `xmlns:p0x${i + 1}="urn:b${i}"`).join(' ')}>${attributed}</w>`);
    expect(exceededBound(hostile)).toBeUndefined();
    const c14n = vi.spyOn(exclusiveC14n, 'canonicalize');
    try {
      const e = await expectCode(validateSamlResponse(toBase64(hostile), ctx('_x')), 'SIGNED_INFO_TOO_LARGE');
      expect(e.hint).toContain('SignedInfo');
      expect(c14n).not.toHaveBeenCalled();
    } finally {
      c14n.mockRestore();
    }
  });

  it('input that is not base64, not XML, or not a SAML Response: MALFORMED_RESPONSE', async () => {
    await expectCode(validateSamlResponse('not base64!', ctx('_x')), 'MALFORMED_RESPONSE');
    await expectCode(validateSamlResponse(toBase64('<samlp:Response'), ctx('_x')), 'MALFORMED_RESPONSE');
    await expectCode(validateSamlResponse(toBase64('<a xmlns="urn:x"/>'), ctx('_x')), 'MALFORMED_RESPONSE');
    await expectCode(validateSamlResponse('', ctx('_x')), 'MALFORMED_RESPONSE');
    const r = await buildResponse();
    // Not well-formed, though xmldom would recover: an unquoted attribute value, an unknown entity.
    await expectCode(validateSamlResponse(toBase64(r.xml.replace('Version="2.0"', 'Version=2.0')), ctx(r.inResponseTo)), 'MALFORMED_RESPONSE');
    await expectCode(validateSamlResponse(toBase64(r.xml.replace('alice@acme.test<', 'alice&x;<')), ctx(r.inResponseTo)), 'MALFORMED_RESPONSE');
  });

  it('absurdly deep nesting: MALFORMED_RESPONSE, not a stack overflow', async () => {
    const r = await buildResponse();
    const deep = `${'<x>'.repeat(5000)}${'</x>'.repeat(5000)}`;
    const xml = r.xml.replace('</saml:Issuer>', `</saml:Issuer><samlp:Extensions>${deep}</samlp:Extensions>`);
    await expectCode(validateSamlResponse(toBase64(xml), ctx(r.inResponseTo)), 'MALFORMED_RESPONSE');
  });

  it('a DTD with an external entity (XXE) before parsing: DTD_FORBIDDEN', async () => {
    const r = await buildResponse();
    await expectCode(validateSamlResponse(toBase64(withDoctype(r.xml)), ctx(r.inResponseTo)), 'DTD_FORBIDDEN');
    await expectCode(validateSamlResponse(toBase64(`<!DOCTYPE x>${r.xml}`), ctx(r.inResponseTo)), 'DTD_FORBIDDEN');
  });

  it('a non-Success status: STATUS_NOT_SUCCESS, with the IdP status in the hint', async () => {
    const e = await reject({ status: 'urn:oasis:names:tc:SAML:2.0:status:Requester' }, 'STATUS_NOT_SUCCESS');
    expect(e.hint).toContain('Requester');
  });

  it('a response without an assertion: ASSERTION_MISSING', async () => {
    const r = await buildResponse({ signResponse: false });
    const xml = r.xml.replace(/<saml:Assertion[\s\S]*<\/saml:Assertion>/, '');
    await expectCode(validateSamlResponse(toBase64(xml), ctx(r.inResponseTo)), 'ASSERTION_MISSING');
  });

  it('two assertions: MULTIPLE_ASSERTIONS', async () => {
    const r = await buildResponse({ signResponse: false, signAssertion: true });
    const assertion = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(r.xml)?.[0] ?? '';
    const xml = r.xml.replace('</samlp:Response>', `${assertion.replace(r.assertionID, newID())}</samlp:Response>`);
    await expectCode(validateSamlResponse(toBase64(xml), ctx(r.inResponseTo)), 'MULTIPLE_ASSERTIONS');
  });

  it('an unsigned response and assertion: SIGNATURE_MISSING', async () => {
    await reject({ signResponse: false, signAssertion: false }, 'SIGNATURE_MISSING');
  });

  it('a response tampered after signing: SIGNATURE_INVALID', async () => {
    for (const opts of [{ signResponse: true }, { signResponse: false, signAssertion: true }]) {
      const r = await buildResponse(opts);
      await expectCode(validateSamlResponse(toBase64(tamperNameID(r.xml)), ctx(r.inResponseTo)), 'SIGNATURE_INVALID');
    }
  });

  it('a broken SignatureValue: SIGNATURE_INVALID', async () => {
    const r = await buildResponse();
    const xml = r.xml.replace(/<ds:SignatureValue>([A-Za-z0-9+/])/, (_m, c: string) => `<ds:SignatureValue>${c === 'A' ? 'B' : 'A'}`);
    await expectCode(validateSamlResponse(toBase64(xml), ctx(r.inResponseTo)), 'SIGNATURE_INVALID');
  });

  it('a signature by a key the profile does not trust: UNTRUSTED_CERTIFICATE', async () => {
    const e = await reject({ signer: untrustedKeys() }, 'UNTRUSTED_CERTIFICATE');
    const fp = new X509Certificate(untrustedKeys().certificatePem).fingerprint256;
    expect(e.hint).toContain(`certificate SHA-256 ${fp}`);
    await reject({ signer: untrustedKeys(), signResponse: false, signAssertion: true }, 'UNTRUSTED_CERTIFICATE');
  });

  it('an untrusted signer that puts a trusted certificate in KeyInfo: SIGNATURE_INVALID', async () => {
    const forged = { ...untrustedKeys(), certificatePem: testIdpKeys().certificatePem };
    await reject({ signer: forged }, 'SIGNATURE_INVALID');
  });

  it('rsa-sha1 unless the profile lists it, and a SHA-1 digest: ALGORITHM_NOT_ALLOWED', async () => {
    const e = await reject({ signatureAlgorithm: 'rsa-sha1' }, 'ALGORITHM_NOT_ALLOWED');
    expect(e.hint).toContain('rsa-sha1');
    await reject({ signatureAlgorithm: 'rsa-sha256', digestAlgorithm: 'sha1' }, 'ALGORITHM_NOT_ALLOWED');
    await reject({ signatureAlgorithm: 'rsa-sha512' }, 'ALGORITHM_NOT_ALLOWED', { profile: testProfile({ signatureAlgorithms: ['rsa-sha256'] }) });
  });

  it('inclusive canonicalization: ALGORITHM_NOT_ALLOWED', async () => {
    const r = await buildResponse();
    const xml = r.xml.replace('<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"', '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"');
    await expectCode(validateSamlResponse(toBase64(xml), ctx(r.inResponseTo)), 'ALGORITHM_NOT_ALLOWED');
  });

  const responseShapes: WrappingShape[] = ['XSW1-response-clone-wraps-original', 'XSW2-response-detached-original'];
  const assertionShapes: [WrappingShape, SamlErrorCode][] = [
    ['XSW3-evil-assertion-before-signed', 'MULTIPLE_ASSERTIONS'],
    ['XSW4-evil-assertion-wraps-signed', 'SIGNATURE_WRAPPING'],
    ['XSW5-signature-moved-to-evil-copy', 'MULTIPLE_ASSERTIONS'],
    ['XSW6-signed-inside-signature-of-evil', 'SIGNATURE_WRAPPING'],
    ['XSW7-signed-in-extensions', 'SIGNATURE_WRAPPING'],
    ['XSW8-signed-in-signature-object', 'SIGNATURE_WRAPPING'],
    ['evil-assertion-reuses-signed-id', 'SIGNATURE_WRAPPING'],
  ];
  it.each(responseShapes)('signature wrapping %s: SIGNATURE_WRAPPING', async (shape) => {
    const r = await buildResponse({ signResponse: true });
    const xml = wrap(r.xml, shape);
    expect(xml).toContain('mallory@acme.test');
    expect(signatureStillVerifies(xml)).toBe(true);
    await expectCode(validateSamlResponse(toBase64(xml), ctx(r.inResponseTo)), 'SIGNATURE_WRAPPING');
  });
  it.each(assertionShapes)('signature wrapping %s: %s', async (shape, code) => {
    const r = await buildResponse({ signResponse: false, signAssertion: true });
    const xml = wrap(r.xml, shape);
    expect(xml).toContain('mallory@acme.test');
    // Duplicate IDs are the one shape xml-crypto refuses by itself.
    expect(signatureStillVerifies(xml)).toBe(shape !== 'evil-assertion-reuses-signed-id');
    await expectCode(validateSamlResponse(toBase64(xml), ctx(r.inResponseTo)), code);
  });

  it('a signature whose reference points to a sibling, not its parent: SIGNATURE_WRAPPING', async () => {
    // The evil assertion carries the original signature, whose Reference names the signed assertion.
    const r = await buildResponse({ signResponse: false, signAssertion: true });
    const signed = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(r.xml)?.[0] ?? '';
    const evil = tamperNameID(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">${signed}</samlp:Response>`)
      .replace(/^<samlp:Response[^>]*>/, '')
      .replace('</samlp:Response>', '')
      .replace(`ID="${r.assertionID}"`, `ID="${newID()}"`);
    const xml = r.xml.replace(signed, evil);
    await expectCode(validateSamlResponse(toBase64(xml), ctx(r.inResponseTo)), 'SIGNATURE_WRAPPING');
  });

  it('a reference to the whole document, a second reference, or an XSLT transform', async () => {
    const r = await buildResponse();
    const emptyUri = r.xml.replace(/<ds:Reference URI="[^"]*"/, '<ds:Reference URI=""');
    await expectCode(validateSamlResponse(toBase64(emptyUri), ctx(r.inResponseTo)), 'SIGNATURE_WRAPPING');
    const reference = /<ds:Reference[\s\S]*?<\/ds:Reference>/.exec(r.xml)?.[0] ?? '';
    const twoRefs = r.xml.replace(reference, reference + reference.replace(/URI="[^"]*"/, `URI="#${r.assertionID}"`));
    await expectCode(validateSamlResponse(toBase64(twoRefs), ctx(r.inResponseTo)), 'SIGNATURE_WRAPPING');
    const xslt = r.xml.replace('<ds:Transforms>', '<ds:Transforms><ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"/>');
    await expectCode(validateSamlResponse(toBase64(xslt), ctx(r.inResponseTo)), 'ALGORITHM_NOT_ALLOWED');
  });

  it('another issuer in the assertion or the response: ISSUER_MISMATCH', async () => {
    const e = await reject({ issuer: 'https://evil.test', responseIssuer: profile.idp.entityID, signAssertion: true, signResponse: false }, 'ISSUER_MISMATCH');
    expect(e.hint).toBe(`issuer mismatch: the IdP sends "https://evil.test", expected "${profile.idp.entityID}"`);
    await reject({ responseIssuer: 'https://evil.test' }, 'ISSUER_MISMATCH');
  });

  it('another audience, or none: AUDIENCE_MISMATCH, naming both values', async () => {
    const e = await reject({ audience: 'https://other-sp.test' }, 'AUDIENCE_MISMATCH');
    expect(e.hint).toBe(`audience mismatch: the IdP sends "https://other-sp.test", expected "${profile.sp.entityID}"`);
    await reject({ audience: null }, 'AUDIENCE_MISMATCH');
  });

  it('another Destination: DESTINATION_MISMATCH; a signed response without one: DESTINATION_MISSING', async () => {
    await reject({ destination: 'https://gatehouse.test/saml/other/okta/acs' }, 'DESTINATION_MISMATCH');
    await reject({ destination: 'https://gatehouse.test/saml/other/okta/acs', signResponse: false, signAssertion: true }, 'DESTINATION_MISMATCH');
    await reject({ destination: null, signResponse: true }, 'DESTINATION_MISSING');
  });

  it('another Recipient: RECIPIENT_MISMATCH', async () => {
    await reject({ recipient: 'https://gatehouse.test/saml/other/okta/acs' }, 'RECIPIENT_MISMATCH');
  });

  it('no bearer SubjectConfirmation: SUBJECT_CONFIRMATION_MISSING', async () => {
    await reject({ omitSubjectConfirmation: true }, 'SUBJECT_CONFIRMATION_MISSING');
  });

  it('an InResponseTo of another request: IN_RESPONSE_TO_MISMATCH', async () => {
    const r = await buildResponse();
    await expectCode(validateSamlResponse(r.base64, ctx(newID())), 'IN_RESPONSE_TO_MISMATCH');
    // Unsigned response: the assertion's own InResponseTo decides.
    const a = await buildResponse({ signResponse: false, signAssertion: true });
    const xml = a.xml.replace(/(<samlp:Response[^>]*) InResponseTo="[^"]*"/, '$1');
    await expectCode(validateSamlResponse(toBase64(xml), ctx(newID())), 'IN_RESPONSE_TO_MISMATCH');
  });

  it('an IdP-initiated response that passes every other check: UNSOLICITED_RESPONSE', async () => {
    await reject({ inResponseTo: null }, 'UNSOLICITED_RESPONSE', { expectedInResponseTo: null });
    // A response answering some request, where none is pending, is no IdP-initiated response.
    const r = await buildResponse();
    await expectCode(validateSamlResponse(r.base64, ctx(null)), 'IN_RESPONSE_TO_MISMATCH');
    const a = await buildResponse({ signResponse: false, signAssertion: true });
    const outerStripped = a.xml.replace(/(<samlp:Response[^>]*) InResponseTo="[^"]*"/, '$1');
    await expectCode(validateSamlResponse(toBase64(outerStripped), ctx(null)), 'IN_RESPONSE_TO_MISMATCH');
    // An IdP-initiated response presented where a request is pending is still no match.
    const idp = await buildResponse({ inResponseTo: null });
    await expectCode(validateSamlResponse(idp.base64, ctx(newID())), 'IN_RESPONSE_TO_MISMATCH');
  });

  // UNSOLICITED_RESPONSE restarts a login at the same IdP: it must mean "genuine", so every other
  // check runs first, each with its own code, and the assertion ID is spent.
  it.each([
    ['expired', { notOnOrAfterSeconds: -600, subjectNotOnOrAfterSeconds: -600 }, 'EXPIRED'],
    ['for another audience', { audience: 'https://other-sp.test' }, 'AUDIENCE_MISMATCH'],
    ['for another destination', { destination: 'https://gatehouse.test/saml/other/okta/acs' }, 'DESTINATION_MISMATCH'],
    ['for another recipient', { recipient: 'https://gatehouse.test/saml/other/okta/acs' }, 'RECIPIENT_MISMATCH'],
    ['issued long ago', { issueInstantSeconds: -3600 }, 'ISSUE_INSTANT_OUT_OF_RANGE'],
    ['without an AuthnStatement', { omitAuthnStatement: true }, 'AUTHN_STATEMENT_MISSING'],
  ] as const)('a signed IdP-initiated response %s: %s, not UNSOLICITED_RESPONSE', async (_what, opts, code) => {
    await reject({ ...opts, inResponseTo: null }, code, { expectedInResponseTo: null });
  });

  it('an IdP-initiated response posted twice: UNSOLICITED_RESPONSE once, then ASSERTION_REPLAYED', async () => {
    const r = await buildResponse({ inResponseTo: null });
    const c = ctx(null);
    await expectCode(validateSamlResponse(r.base64, c), 'UNSOLICITED_RESPONSE');
    await expectCode(validateSamlResponse(r.base64, c), 'ASSERTION_REPLAYED');
  });

  it('NotBefore beyond the skew: NOT_YET_VALID', async () => {
    await reject({ notBeforeSeconds: 120 }, 'NOT_YET_VALID');
    await reject({ notBeforeSeconds: 20 }, 'NOT_YET_VALID', { profile: testProfile({ allowedClockSkewSeconds: 0 }) });
  });

  it('Conditions NotOnOrAfter past the skew: EXPIRED', async () => {
    await reject({ notOnOrAfterSeconds: -91, subjectNotOnOrAfterSeconds: 300 }, 'EXPIRED');
    const now = new Date(Date.now() + 10 * 60_000);
    await reject({ now: new Date() }, 'EXPIRED', { now });
  });

  it('an expired bearer confirmation: SUBJECT_CONFIRMATION_EXPIRED', async () => {
    await reject({ subjectNotOnOrAfterSeconds: -100 }, 'SUBJECT_CONFIRMATION_EXPIRED');
  });

  it('no Conditions: CONDITIONS_MISSING', async () => {
    await reject({ omitConditions: true }, 'CONDITIONS_MISSING');
  });

  it('the same assertion twice: ASSERTION_REPLAYED', async () => {
    const r = await buildResponse();
    const c = ctx(r.inResponseTo);
    await validateSamlResponse(r.base64, c);
    await expectCode(validateSamlResponse(r.base64, c), 'ASSERTION_REPLAYED');
  });

  it('an encrypted assertion that no signature covers: DECRYPTION_FAILED (no longer ENCRYPTED_ASSERTION_UNSIGNED)', async () => {
    await reject({ encrypt: true, signResponse: false, signAssertion: false }, 'DECRYPTION_FAILED');
  });

  it('under an unsigned Response, every decryption-stage failure is one code with one hint', async () => {
    const other = makeKeyPair('other-sp-3.test');
    const otherProfile = testProfile({ sp: { ...profile.sp, key: { privateKeyPem: other.privateKeyPem, certificatePem: other.certificatePem } } });
    const r = await buildResponse({ encrypt: true, signResponse: false, signAssertion: true, contentEncryption: 'aes256-cbc' });
    const encryptedPart = /<saml:EncryptedAssertion>[\s\S]*<\/saml:EncryptedAssertion>/;
    const cipherValues = [...r.xml.matchAll(/<xenc:CipherValue>([^<]*)<\/xenc:CipherValue>/g)].map((m) => m[1] as string);
    const content = cipherValues.at(-1) as string;
    const flipped = (b64: string, at: number): string => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[at] = (bytes[at] as number) ^ 0x01;
      return bytes.toString('base64');
    };
    const unsigned = await buildResponse({ encrypt: true, signResponse: false });
    const signedAssertion = async (o: ResponseOptions): Promise<string> => /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec((await buildResponse({ ...o, signResponse: false })).xml)?.[0] as string;
    const variants: Array<[string, () => Promise<unknown>]> = [
      ['wrong key', () => validateSamlResponse(r.base64, ctx(r.inResponseTo, { profile: otherProfile }))],
      ['refused algorithm', () => validateSamlResponse(toBase64(r.xml.replace('http://www.w3.org/2001/04/xmlenc#aes256-cbc', 'http://www.w3.org/2001/04/xmlenc#tripledes-cbc')), ctx(r.inResponseTo))],
      ['unknown algorithm', () => validateSamlResponse(toBase64(r.xml.replace('http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p', 'urn:x:nope')), ctx(r.inResponseTo))],
      ['malformed EncryptedData', () => validateSamlResponse(toBase64(r.xml.replace(/<xenc:CipherData>[\s\S]*?<\/xenc:CipherData>\s*<\/xenc:EncryptedData>/, '</xenc:EncryptedData>')), ctx(r.inResponseTo))],
      ['no EncryptedData', () => validateSamlResponse(toBase64(r.xml.replace(encryptedPart, '<saml:EncryptedAssertion/>')), ctx(r.inResponseTo))],
      // The last block's padding, and a middle block whose plaintext no longer parses or verifies.
      ['bad padding', () => validateSamlResponse(toBase64(r.xml.replace(content, flipped(content, Buffer.from(content, 'base64').length - 17))), ctx(r.inResponseTo))],
      ['altered block', () => validateSamlResponse(toBase64(r.xml.replace(content, flipped(content, 40))), ctx(r.inResponseTo))],
      ['unsigned assertion', () => validateSamlResponse(unsigned.base64, ctx(unsigned.inResponseTo))],
    ];
    for (const [name, o] of [['tampered signed assertion', { signAssertion: true }], ['untrusted signer', { signAssertion: true, signer: untrustedKeys() }]] as const) {
      const assertion = await signedAssertion(o);
      const xml = r.xml.replace(encryptedPart, await encryptAssertion(name === 'untrusted signer' ? assertion : assertion.replace('alice@acme.test</saml:NameID>', 'mallory@acme.test</saml:NameID>'), testSpKeys(), 'aes256-cbc'));
      variants.push([name, () => validateSamlResponse(toBase64(xml), ctx(r.inResponseTo))]);
    }
    const refusals = new Map<string, string>();
    for (const [name, run] of variants) {
      const e = await expectCode(run(), 'DECRYPTION_FAILED');
      refusals.set(name, e.message);
    }
    expect(new Set(refusals.values()).size, JSON.stringify(Object.fromEntries(refusals))).toBe(1);
    // Under a signed Response the ciphertext is covered, so the IdP's own mistakes keep their codes.
    const covered = await buildResponse({ encrypt: true, signResponse: true, signAssertion: false });
    await validateSamlResponse(covered.base64, ctx(covered.inResponseTo));
  });

  it('an assertion encrypted for another SP key: DECRYPTION_FAILED', async () => {
    const other = makeKeyPair('other-sp.test');
    const otherProfile = testProfile({ sp: { ...profile.sp, key: { privateKeyPem: other.privateKeyPem, certificatePem: other.certificatePem } } });
    await reject({ encrypt: true }, 'DECRYPTION_FAILED', { profile: otherProfile });
  });

  it('an EncryptedAssertion whose plaintext is not an assertion: DECRYPTION_FAILED, indistinguishable from a wrong key', async () => {
    const other = makeKeyPair('other-sp-2.test');
    const otherProfile = testProfile({ sp: { ...profile.sp, key: { privateKeyPem: other.privateKeyPem, certificatePem: other.certificatePem } } });
    const wrongKey = await reject({ encrypt: true, signResponse: false, signAssertion: true }, 'DECRYPTION_FAILED', { profile: otherProfile });
    const r = await buildResponse({ encrypt: true, signResponse: false, signAssertion: true, contentEncryption: 'aes256-cbc' });
    for (const plaintext of ['not xml <', '<!DOCTYPE x><x/>', `<samlp:Status xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`]) {
      const garbage = await encryptAssertion(plaintext, testSpKeys(), 'aes256-cbc');
      const xml = r.xml.replace(/<saml:EncryptedAssertion>[\s\S]*<\/saml:EncryptedAssertion>/, garbage);
      const e = await expectCode(validateSamlResponse(toBase64(xml), ctx(r.inResponseTo)), 'DECRYPTION_FAILED');
      expect(e.hint).toBe(wrongKey.hint);
    }
  });

  it('an EncryptedAssertion stuffed with elements: DECRYPTION_FAILED with the same hint, before xml-encryption queries it', async () => {
    const r = await buildResponse({ encrypt: true, signResponse: false, signAssertion: true });
    const wrongKey = await reject({ encrypt: true, signResponse: false, signAssertion: true }, 'DECRYPTION_FAILED', {
      profile: testProfile({ sp: { ...profile.sp, key: (({ privateKeyPem, certificatePem }) => ({ privateKeyPem, certificatePem }))(makeKeyPair('other-sp-3.test')) } }),
    });
    const stuffed = r.xml.replace(/(<xenc:EncryptedData[^>]*>)/, `$1${'<j/>'.repeat(4000)}`);
    expect(stuffed).not.toBe(r.xml);
    const decrypt = vi.spyOn(xmlenc, 'decrypt');
    try {
      const e = await expectCode(validateSamlResponse(toBase64(stuffed), ctx(r.inResponseTo)), 'DECRYPTION_FAILED');
      expect(e.hint).toBe(wrongKey.hint);
      expect(decrypt).not.toHaveBeenCalled();
    } finally {
      decrypt.mockRestore();
    }
  });

  it('an empty NameID: NAMEID_MISSING', async () => {
    await reject({ nameID: '' }, 'NAMEID_MISSING');
  });

  it('rejections leave the replay cache untouched', async () => {
    const r = await buildResponse();
    const replay = memoryReplayCache();
    await expectCode(validateSamlResponse(r.base64, ctx(newID(), { replay })), 'IN_RESPONSE_TO_MISMATCH');
    await expect(validateSamlResponse(r.base64, ctx(r.inResponseTo, { replay }))).resolves.toMatchObject({ nameID: 'alice@acme.test' });
  });
});

describe('validateSamlResponse checks what the assertion states about the sign-in', () => {
  it('an IssueInstant older than 5 minutes plus the skew, or ahead beyond the skew: ISSUE_INSTANT_OUT_OF_RANGE', async () => {
    const now = new Date();
    await accept({ now, issueInstantSeconds: -300 - 89, assertionIssueInstantSeconds: -300 - 89 }, { now });
    await accept({ now, issueInstantSeconds: 89, assertionIssueInstantSeconds: 89, notBeforeSeconds: 0 }, { now });
    const old = await reject({ now, issueInstantSeconds: -300 - 91 }, 'ISSUE_INSTANT_OUT_OF_RANGE', { now });
    expect(old.hint).toMatch(/^the Response was issued at .*, more than 300s/);
    await reject({ now, issueInstantSeconds: 91 }, 'ISSUE_INSTANT_OUT_OF_RANGE', { now });
    // The assertion's own IssueInstant is what a signature covers when the Response is unsigned.
    const a = await reject({ assertionIssueInstantSeconds: -3600, signResponse: false, signAssertion: true }, 'ISSUE_INSTANT_OUT_OF_RANGE');
    expect(a.hint).toMatch(/^the Assertion was issued/);
    await reject({ assertionIssueInstantSeconds: 600 }, 'ISSUE_INSTANT_OUT_OF_RANGE');
    const r = await buildResponse({ signResponse: false, signAssertion: true });
    const noInstant = r.xml.replace(/(<samlp:Response[^>]*) IssueInstant="[^"]*"/, '$1');
    await expectCode(validateSamlResponse(toBase64(noInstant), ctx(r.inResponseTo)), 'MALFORMED_RESPONSE');
  });

  it('a NameID Format the profile does not accept: NAMEID_FORMAT_MISMATCH', async () => {
    const persistent = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
    const transient = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';
    const unspecified = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
    // emailAddress (the default) also takes unspecified, and no Format at all.
    await accept({ nameIDFormat: unspecified });
    await accept({ nameIDFormat: null });
    const e = await reject({ nameIDFormat: persistent }, 'NAMEID_FORMAT_MISMATCH');
    expect(e.hint).toBe(`the IdP sends a NameID of format "${persistent}", the profile expects "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" (nameIDFormat emailAddress)`);
    await reject({ nameIDFormat: transient }, 'NAMEID_FORMAT_MISMATCH');
    await reject({ nameIDFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName' }, 'NAMEID_FORMAT_MISMATCH');
    // persistent takes persistent only; unspecified takes anything.
    const persistentProfile = testProfile({ nameIDFormat: 'persistent' });
    await accept({ nameIDFormat: persistent, nameID: 'a1b2c3' }, { profile: persistentProfile });
    await reject({}, 'NAMEID_FORMAT_MISMATCH', { profile: persistentProfile });
    await reject({ nameIDFormat: null }, 'NAMEID_FORMAT_MISMATCH', { profile: persistentProfile });
    for (const nameIDFormat of [transient, persistent, null]) await accept({ nameIDFormat }, { profile: testProfile({ nameIDFormat: 'unspecified' }) });
  });

  it('no AuthnStatement, or one without AuthnInstant: AUTHN_STATEMENT_MISSING', async () => {
    await reject({ omitAuthnStatement: true }, 'AUTHN_STATEMENT_MISSING');
    await reject({ omitAuthnStatement: true, signResponse: false, signAssertion: true }, 'AUTHN_STATEMENT_MISSING');
    await reject({ authnInstantSeconds: null }, 'AUTHN_STATEMENT_MISSING');
  });

  it('an AuthnInstant ahead of the clock beyond the skew: NOT_YET_VALID', async () => {
    await accept({ authnInstantSeconds: 80 });
    await reject({ authnInstantSeconds: 120 }, 'NOT_YET_VALID');
  });

  it('after ForceAuthn, a sign-in older than the request (minus the skew): AUTHN_INSTANT_TOO_OLD', async () => {
    const now = new Date();
    const requestedAt = new Date(now.getTime() - 60_000);
    const forced = { now, authnRequest: { requestedAt, forceAuthn: true } };
    await accept({ now, authnInstantSeconds: -30 }, forced);
    await accept({ now, authnInstantSeconds: -60 - 89 }, forced);
    const e = await reject({ now, authnInstantSeconds: -60 - 91 }, 'AUTHN_INSTANT_TOO_OLD', forced);
    expect(e.hint).toContain('ForceAuthn');
    // Without ForceAuthn an IdP session of any age is fine.
    await accept({ now, authnInstantSeconds: -86_400 }, { now, authnRequest: { requestedAt, forceAuthn: false } });
  });

  it('a sign-in older than the OAuth request\'s max_age (plus the skew): AUTHN_INSTANT_TOO_OLD', async () => {
    const now = new Date();
    const maxAge = { now, authnRequest: { requestedAt: now, forceAuthn: false, maxAgeSeconds: 600 } };
    await accept({ now, authnInstantSeconds: -600 - 89 }, maxAge);
    const e = await reject({ now, authnInstantSeconds: -600 - 91 }, 'AUTHN_INSTANT_TOO_OLD', maxAge);
    expect(e.hint).toContain('max_age of 600s');
  });

  it('keys the replay cache by issuer and assertion ID', async () => {
    const replay = memoryReplayCache();
    const assertionID = newID();
    const other = 'https://idp.other.test/saml';
    const otherProfile = testProfile({ idp: { ...profile.idp, entityID: other } });
    await accept({ assertionID }, { replay });
    // Another IdP's assertion with the same ID is a different assertion.
    await accept({ assertionID, issuer: other }, { replay, profile: otherProfile });
    // The same IdP's ID again is a replay, even in another response.
    await reject({ assertionID, issuer: other }, 'ASSERTION_REPLAYED', { replay, profile: otherProfile });
    await reject({ assertionID }, 'ASSERTION_REPLAYED', { replay });
  });
});

describe('peekInResponseTo', () => {
  it('reads the root InResponseTo without verifying anything', async () => {
    const r = await buildResponse();
    expect(peekInResponseTo(r.base64)).toBe(r.inResponseTo);
    expect(peekInResponseTo(toBase64(`<?xml version="1.0"?><!-- x --><samlp:Response InResponseTo='_abc' ID="_1">`))).toBe('_abc');
  });
  it('finds the root start tag after a prolog longer than the head it decodes first', () => {
    const longComment = `<!-- ${'<a InResponseTo="_decoy">'.repeat(600)} -->`;
    expect(peekInResponseTo(toBase64(`${longComment}<samlp:Response InResponseTo="_real" ID="_1"/>`))).toBe('_real');
    expect(peekInResponseTo(toBase64(`${longComment}<samlp:Response ID="_1"/>`))).toBeNull();
  });
  it('returns null for IdP-initiated responses and garbage', async () => {
    const r = await buildResponse({ inResponseTo: null });
    expect(peekInResponseTo(r.base64)).toBeNull();
    expect(peekInResponseTo('%%%')).toBeNull();
    expect(peekInResponseTo(toBase64('<samlp:Response ID="_1"><x InResponseTo="_inner"/>'))).toBeNull();
  });
});

describe('memoryReplayCache', () => {
  it('refuses an ID until it expires', async () => {
    const cache = memoryReplayCache();
    const until = new Date(Date.now() + 60_000);
    expect(await cache.remember('https://idp-a.test', '_a', until)).toBe(true);
    expect(await cache.remember('https://idp-a.test', '_a', until)).toBe(false);
    expect(await cache.remember('https://idp-a.test', '_b', until)).toBe(true);
    expect(await cache.remember('https://idp-b.test', '_a', until)).toBe(true);
  });
});

afterAll(() => {
  // Every stable code is produced by at least one hostile response above.
  expect(SAML_ERROR_CODES.filter((c) => !seenCodes.has(c) && !RETIRED_SAML_ERROR_CODES.includes(c))).toEqual([]);
  expect(RETIRED_SAML_ERROR_CODES.filter((c) => seenCodes.has(c))).toEqual([]);
});
