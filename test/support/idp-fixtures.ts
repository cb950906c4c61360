// IdP-side fixtures: signing certificates with chosen validity, and SAML metadata around them,
// signed the way IdPs sign their metadata when a test needs it.
import { SignedXml } from 'xml-crypto';
import { generateSPKeyPair, type SPKeyPair } from '../../operator/sp-keys.ts';

const DAY = 86_400_000;

/** A key pair whose certificate expires `expiresInDays` from now (negative: already expired). */
export function idpKeyPair(expiresInDays = 3650, cn = 'idp.example.com'): SPKeyPair {
  const years = Math.max(1, Math.ceil(expiresInDays / 365) + 1);
  const notBefore = new Date(Date.now() + expiresInDays * DAY - years * 365 * DAY);
  return generateSPKeyPair(cn, years, notBefore);
}

export const certBase64 = (pem: string): string => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');

export function metadataXml(opts: { entityID?: string; ssoURL?: string; certificatePem?: string; doctype?: string; id?: string; validUntil?: string } = {}): string {
  const cert = certBase64(opts.certificatePem ?? idpKeyPair().certificatePem);
  const extra = `${opts.id ? ` ID="${opts.id}"` : ''}${opts.validUntil ? ` validUntil="${opts.validUntil}"` : ''}`;
  return `<?xml version="1.0"?>${opts.doctype ?? ''}
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${opts.entityID ?? 'https://idp.example.com/saml'}"${extra}>
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>
${cert}
    </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/post"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${opts.ssoURL ?? 'https://idp.example.com/sso'}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
}

/**
 * Signs metadata the way IdPs do: an enveloped RSA-SHA256 signature, first child of the element
 * `xpath` selects (the root by default), referencing that element's ID.
 */
export function signMetadata(xml: string, signer: SPKeyPair, o: { xpath?: string; signatureAlgorithm?: string; digestAlgorithm?: string } = {}): string {
  const xpath = o.xpath ?? '/*';
  const sig = new SignedXml({
    privateKey: signer.privateKeyPem,
    publicCert: signer.certificatePem,
    signatureAlgorithm: o.signatureAlgorithm ?? 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  sig.addReference({
    xpath,
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestAlgorithm: o.digestAlgorithm ?? 'http://www.w3.org/2001/04/xmlenc#sha256',
  });
  sig.computeSignature(xml, { prefix: 'ds', location: { reference: xpath, action: 'prepend' } });
  return sig.getSignedXml();
}
