// What the operator accepts as metadata: signed by the pinned certificate over the whole document
// when the profile asks for it (never a part, never another key, never altered), not expired, and
// within the XML bounds; each refusal with the reason IdPConfigValid reports.
import { describe, expect, it } from 'vitest';
import { idpKeyPair, metadataXml, signMetadata } from '../../test/support/idp-fixtures.ts';
import { IdPConfigError } from './metadata.ts';
import { acceptMetadata } from './trust.ts';

const signer = idpKeyPair(3650, 'metadata-signer.example.com');
const other = idpKeyPair(3650, 'someone-else.example.com');
const now = new Date();
const trust = { signingCertificate: signer.certificatePem };
const unsigned = (o: Parameters<typeof metadataXml>[0] = {}) => metadataXml({ id: '_md1', ...o });
const signed = (o: Parameters<typeof metadataXml>[0] = {}) => signMetadata(unsigned(o), signer);

function reasonOf(xml: string, t: typeof trust | object = trust, at = now): string {
  try {
    acceptMetadata(xml, t, at);
  } catch (err) {
    if (err instanceof IdPConfigError) return `${err.reason}: ${err.message}`;
    throw err;
  }
  return 'accepted';
}

const entities = (inner: string, id = '_all') =>
  `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ID="${id}">${inner.replace(/^<\?xml[^>]*\?>/, '')}</md:EntitiesDescriptor>`;

describe('metadata trust', () => {
  it('accepts metadata signed over its root by the pinned certificate, EntityDescriptor or EntitiesDescriptor', () => {
    expect(acceptMetadata(signed(), trust, now)).toMatchObject({ entityID: 'https://idp.example.com/saml', ssoURL: 'https://idp.example.com/sso' });
    expect(acceptMetadata(signMetadata(entities(unsigned()), signer), trust, now).entityID).toBe('https://idp.example.com/saml');
  });

  it('accepts unsigned metadata when the profile pins no signing certificate', () => {
    expect(acceptMetadata(unsigned(), {}, now).entityID).toBe('https://idp.example.com/saml');
  });

  it('refuses unsigned metadata when a signing certificate is pinned', () => {
    expect(reasonOf(unsigned())).toMatch(/^MetadataUnsigned: .*carries no signature/);
  });

  it('refuses a signature by another key, whatever certificate KeyInfo shows', () => {
    // xml-crypto puts the signer's certificate in KeyInfo: it must not be trusted.
    expect(reasonOf(signMetadata(unsigned(), other))).toMatch(/^MetadataSignatureInvalid: .*does not verify with spec.idp.metadata.signingCertificate/);
  });

  it('says so when the pinned signing certificate is not a certificate', () => {
    expect(reasonOf(signed(), { signingCertificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' })).toMatch(/^CertificateInvalid: spec.idp.metadata.signingCertificate cannot be parsed as X.509/);
  });

  it('refuses metadata altered after it was signed', () => {
    const tampered = signed().replace('https://idp.example.com/sso', 'https://evil.example/sso');
    expect(reasonOf(tampered)).toMatch(/^MetadataSignatureInvalid: .*modified after it was signed/);
  });

  it('refuses a signature over a part only: a signed child EntityDescriptor inside an unsigned aggregate', () => {
    const wrapped = entities(signed()).replace('<md:EntitiesDescriptor ', '<md:EntitiesDescriptor xmlns:ds="http://www.w3.org/2000/09/xmldsig#" ');
    expect(reasonOf(wrapped)).toMatch(/^MetadataSignatureInvalid: .*signed only in part \(a signature on a EntityDescriptor\)/);
  });

  it('refuses a root signature whose reference points at a child element', () => {
    const inner = unsigned().replace('<md:IDPSSODescriptor ', '<md:IDPSSODescriptor ID="_child" ');
    const childSigned = signMetadata(inner, signer, { xpath: "//*[local-name(.)='IDPSSODescriptor']" });
    // Move the signature from the child to the root: still a valid signature, over the child only.
    const signature = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(childSigned)?.[0] ?? '';
    const moved = childSigned.replace(signature, '').replace(/(<md:EntityDescriptor[^>]*>)/, `$1${signature}`);
    expect(reasonOf(moved)).toMatch(/^MetadataSignatureInvalid: .*must cover the root EntityDescriptor alone/);
  });

  it('never reads what is hidden inside the signature element (not covered by the enveloped signature)', () => {
    const evil = '<ds:Object><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://evil.example/sso"/></md:IDPSSODescriptor></ds:Object>';
    const smuggled = signed().replace('</ds:Signature>', `${evil}</ds:Signature>`);
    expect(acceptMetadata(smuggled, trust, now).ssoURL).toBe('https://idp.example.com/sso');
  });

  it('refuses SHA-1 signatures and digests', () => {
    const sha1 = signMetadata(unsigned(), signer, { signatureAlgorithm: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' });
    expect(reasonOf(sha1)).toMatch(/^MetadataSignatureInvalid: .*signature algorithm "http:\/\/www.w3.org\/2000\/09\/xmldsig#rsa-sha1"/);
    const sha1Digest = signMetadata(unsigned(), signer, { digestAlgorithm: 'http://www.w3.org/2000/09/xmldsig#sha1' });
    expect(reasonOf(sha1Digest)).toMatch(/^MetadataSignatureInvalid: .*digest/);
  });

  it('honours validUntil: expired metadata is refused, signed or not', () => {
    const past = new Date(now.getTime() - 60_000).toISOString();
    const future = new Date(now.getTime() + 86_400_000).toISOString();
    expect(reasonOf(signed({ validUntil: past }))).toMatch(/^MetadataExpired: the IdP metadata expired at/);
    expect(reasonOf(unsigned({ validUntil: past }), {})).toMatch(/^MetadataExpired/);
    expect(acceptMetadata(signed({ validUntil: future }), trust, now).validUntil?.toISOString()).toBe(future);
    // An aggregate's validUntil bounds the entities inside it.
    expect(reasonOf(entities(unsigned({ validUntil: future })).replace('ID="_all"', `ID="_all" validUntil="${past}"`), {})).toMatch(/^MetadataExpired/);
  });

  it('refuses a document over the XML bounds before parsing it', () => {
    const stuffed = unsigned().replace('<md:IDPSSODescriptor ', `<md:IDPSSODescriptor ${Array.from({ length: 100 }, (_, i) => `xmlns:p${i}="urn:x:${i}"`).join(' ')} `);
    expect(reasonOf(stuffed, {})).toMatch(/^MetadataInvalid: IdP metadata is refused unparsed: it has an element with more than 64 attributes/);
  });
});
