// SP metadata for one profile, to paste or point the IdP at. Deterministic for equal input, so
// the document (and its ETag) changes only when the profile does.
import type { RenderedProfile } from '../../crds/api/index.ts';
import { BINDING_HTTP_POST, NAMEID_FORMAT_URIS } from './uris.ts';
import { escapeXml, pemBody } from './xml.ts';

const ENCRYPTION_METHODS = [
  'http://www.w3.org/2009/xmlenc11#aes256-gcm',
  'http://www.w3.org/2009/xmlenc11#aes128-gcm',
  'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
  'http://www.w3.org/2001/04/xmlenc#aes128-cbc',
  'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
];

export const SP_METADATA_CONTENT_TYPE = 'application/samlmetadata+xml';

export function spMetadata(profile: RenderedProfile): string {
  const cert = pemBody(profile.sp.key.certificatePem);
  const keyInfo = `<ds:KeyInfo><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>`;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${escapeXml(profile.sp.entityID)}">` +
    `<md:SPSSODescriptor AuthnRequestsSigned="${profile.signAuthnRequests}" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
    (profile.signAuthnRequests ? `<md:KeyDescriptor use="signing">${keyInfo}</md:KeyDescriptor>` : '') +
    `<md:KeyDescriptor use="encryption">${keyInfo}${ENCRYPTION_METHODS.map((m) => `<md:EncryptionMethod Algorithm="${m}"/>`).join('')}</md:KeyDescriptor>` +
    `<md:NameIDFormat>${NAMEID_FORMAT_URIS[profile.nameIDFormat]}</md:NameIDFormat>` +
    `<md:AssertionConsumerService Binding="${BINDING_HTTP_POST}" Location="${escapeXml(profile.sp.acsURL)}" index="0" isDefault="true"/>` +
    '</md:SPSSODescriptor>' +
    '</md:EntityDescriptor>\n'
  );
}
