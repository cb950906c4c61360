import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSPKeyPair } from '../sp-keys.ts';
import { IdPConfigError, judgeCertificates, parseCertificate, parseIdPMetadata } from './metadata.ts';

const pair = generateSPKeyPair('idp.example.com');
const b64 = pair.certificatePem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');

export function metadataXml(opts: { entityID?: string; ssoURL?: string; certB64?: string; doctype?: string } = {}): string {
  return `<?xml version="1.0"?>${opts.doctype ?? ''}
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${opts.entityID ?? 'https://idp.example.com/saml'}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>
${opts.certB64 ?? b64}
    </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/post"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${opts.ssoURL ?? 'https://idp.example.com/sso'}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
}

describe('parseIdPMetadata', () => {
  it('reads entityID, the HTTP-Redirect SSO URL and only the signing certificates', () => {
    const d = parseIdPMetadata(metadataXml());
    expect(d.entityID).toBe('https://idp.example.com/saml');
    expect(d.ssoURL).toBe('https://idp.example.com/sso');
    expect(d.certificates).toHaveLength(1);
    expect(new X509Certificate(d.certificates[0] as string).fingerprint256).toBe(new X509Certificate(pair.certificatePem).fingerprint256);
  });

  it('refuses a DTD (entity expansion) before parsing', () => {
    const xml = metadataXml({ doctype: '<!DOCTYPE x [<!ENTITY a "aaaa">]>' });
    expect(() => parseIdPMetadata(xml)).toThrow(/must not contain a DTD/);
  });

  it('says what is missing', () => {
    expect(() => parseIdPMetadata('<a>')).toThrow(IdPConfigError);
    expect(() => parseIdPMetadata(metadataXml().replace(/HTTP-Redirect/, 'HTTP-Artifact'))).toThrow(/HTTP-Redirect/);
    expect(() => parseIdPMetadata(metadataXml().replace(/entityID="[^"]*"/, ''))).toThrow(/no entityID/);
  });
});

describe('judgeCertificates', () => {
  const info = parseCertificate(pair.certificatePem);
  const day = 86_400_000;

  it('is valid well ahead of expiry, warns inside the threshold, fails once all expired', () => {
    expect(judgeCertificates([info], 30 * day).reason).toBe('Valid');
    const nearEnd = new Date(info.notAfter.getTime() - 5 * day);
    const warn = judgeCertificates([info], 30 * day, nearEnd);
    expect(warn).toMatchObject({ status: 'True', reason: 'ExpiringSoon' });
    const after = judgeCertificates([info], 30 * day, new Date(info.notAfter.getTime() + day));
    expect(after).toMatchObject({ status: 'False', reason: 'Expired' });
  });

  it('refuses text that is not a certificate', () => {
    expect(() => parseCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')).toThrow(/cannot be parsed as X.509/);
  });
});
