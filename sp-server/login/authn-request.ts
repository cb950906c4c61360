// SP side of SAML: the AuthnRequest (HTTP-Redirect binding, signed when the profile asks) and the
// SP metadata an admin loads into the IdP.
import { createSign, randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import type { RenderedProfile } from '../config/schema.ts';

const NAMEID_FORMAT_URN: Record<RenderedProfile['nameIDFormat'], string> = {
  emailAddress: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
};

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function newRequestID(): string {
  // An xs:ID must not start with a digit.
  return `_gh${randomBytes(20).toString('hex')}`;
}

export interface AuthnRequestOptions {
  id: string;
  issueInstant?: Date;
  relayState?: string;
  loginHint?: string;
}

export function authnRequestXml(profile: RenderedProfile, opts: AuthnRequestOptions): string {
  const instant = (opts.issueInstant ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const subject = opts.loginHint
    ? `<saml:Subject><saml:NameID Format="${NAMEID_FORMAT_URN.emailAddress}">${xmlEscape(opts.loginHint)}</saml:NameID></saml:Subject>`
    : '';
  return (
    `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"` +
    ` ID="${opts.id}" Version="2.0" IssueInstant="${instant}" Destination="${xmlEscape(profile.idp.ssoURL)}"` +
    ` ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" AssertionConsumerServiceURL="${xmlEscape(profile.sp.acsURL)}">` +
    `<saml:Issuer>${xmlEscape(profile.sp.entityID)}</saml:Issuer>` +
    subject +
    `<samlp:NameIDPolicy Format="${NAMEID_FORMAT_URN[profile.nameIDFormat]}" AllowCreate="true"/>` +
    `</samlp:AuthnRequest>`
  );
}

const REDIRECT_SIG_ALG = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';

/** The IdP URL carrying the deflated request (and the query-string signature when asked). */
export function redirectURL(profile: RenderedProfile, opts: AuthnRequestOptions): string {
  const xml = authnRequestXml(profile, opts);
  let query = `SAMLRequest=${encodeURIComponent(deflateRawSync(Buffer.from(xml)).toString('base64'))}`;
  if (opts.relayState) query += `&RelayState=${encodeURIComponent(opts.relayState)}`;
  if (profile.signAuthnRequests) {
    query += `&SigAlg=${encodeURIComponent(REDIRECT_SIG_ALG)}`;
    const sig = createSign('RSA-SHA256').update(query).sign(profile.sp.key.privateKeyPem, 'base64');
    query += `&Signature=${encodeURIComponent(sig)}`;
  }
  const sep = profile.idp.ssoURL.includes('?') ? '&' : '?';
  return profile.idp.ssoURL + sep + query;
}

function certBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

export function spMetadataXml(profile: RenderedProfile): string {
  const cert = certBody(profile.sp.key.certificatePem);
  const keyDescriptor = (use: string) =>
    `<md:KeyDescriptor use="${use}"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${xmlEscape(profile.sp.entityID)}">` +
    `<md:SPSSODescriptor AuthnRequestsSigned="${profile.signAuthnRequests}" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
    keyDescriptor('signing') +
    keyDescriptor('encryption') +
    `<md:NameIDFormat>${NAMEID_FORMAT_URN[profile.nameIDFormat]}</md:NameIDFormat>` +
    `<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${xmlEscape(profile.sp.acsURL)}" index="0" isDefault="true"/>` +
    `</md:SPSSODescriptor></md:EntityDescriptor>\n`
  );
}
