// Small helpers shared by the SAML documents Gatehouse writes.
import type { RenderedProfile } from '../../crds/api/index.ts';

/** Escapes text and attribute values (double-quoted) for XML. */
export function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The base64 body of a PEM certificate, as KeyInfo/X509Certificate carries it. */
export function pemBody(pem: string): string {
  const match = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (match?.[1] === undefined) throw new Error('not a PEM certificate');
  return match[1].replace(/\s+/g, '');
}

export const NAMEID_FORMAT_URIS: Record<RenderedProfile['nameIDFormat'], string> = {
  emailAddress: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
};

export const BINDING_HTTP_POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
export const BINDING_HTTP_REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

/** SAML xs:dateTime, UTC, whole seconds. */
export const samlTime = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
