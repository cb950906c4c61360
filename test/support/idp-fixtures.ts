// IdP-side fixtures: signing certificates with chosen validity, and SAML metadata around them.
import { generateSPKeyPair, type SPKeyPair } from '../../operator/sp-keys.ts';

const DAY = 86_400_000;

/** A key pair whose certificate expires `expiresInDays` from now (negative: already expired). */
export function idpKeyPair(expiresInDays = 3650, cn = 'idp.example.com'): SPKeyPair {
  const years = Math.max(1, Math.ceil(expiresInDays / 365) + 1);
  const notBefore = new Date(Date.now() + expiresInDays * DAY - years * 365 * DAY);
  return generateSPKeyPair(cn, years, notBefore);
}

export const certBase64 = (pem: string): string => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');

export function metadataXml(opts: { entityID?: string; ssoURL?: string; certificatePem?: string; doctype?: string } = {}): string {
  const cert = certBase64(opts.certificatePem ?? idpKeyPair().certificatePem);
  return `<?xml version="1.0"?>${opts.doctype ?? ''}
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${opts.entityID ?? 'https://idp.example.com/saml'}">
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
