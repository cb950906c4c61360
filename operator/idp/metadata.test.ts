import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSPKeyPair } from '../sp-keys.ts';
import { metadataXml as fixture } from '../../test/support/idp-fixtures.ts';
import { IdPConfigError, judgeCertificates, parseCertificate, parseIdPMetadata } from './metadata.ts';

const pair = generateSPKeyPair('idp.example.com');
const metadataXml = (o: { doctype?: string } = {}) => fixture({ certificatePem: pair.certificatePem, ...o });

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
