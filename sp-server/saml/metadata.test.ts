import { DOMParser } from '@xmldom/xmldom';
import * as samlify from 'samlify';
import { describe, expect, it } from 'vitest';
import { testProfile, testSpKeys } from '../../test/support/saml-fixtures.ts';
import { spMetadata } from './metadata.ts';
import { pemBody } from './xml.ts';

describe('spMetadata', () => {
  it('describes the profile so an IdP (samlify here) can load it', () => {
    const profile = testProfile({ signAuthnRequests: true });
    const xml = spMetadata(profile);
    const sp = samlify.ServiceProvider({ metadata: xml });
    expect(sp.entityMeta.getEntityID()).toBe(profile.sp.entityID);
    expect(sp.entityMeta.getAssertionConsumerService(samlify.Constants.wording.binding.post)).toBe(profile.sp.acsURL);
    expect(sp.entityMeta.isAuthnRequestSigned()).toBe(true);
    expect(sp.entityMeta.isWantAssertionsSigned()).toBe(true);
    expect(sp.entityMeta.getX509Certificate('signing')).toBe(pemBody(testSpKeys().certificatePem));
    expect(sp.entityMeta.getX509Certificate('encryption')).toBe(pemBody(testSpKeys().certificatePem));
    expect(sp.entityMeta.getNameIDFormat()).toContain('urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress');
  });

  it('omits the signing key when AuthnRequests are not signed, and escapes values', () => {
    const profile = testProfile({ signAuthnRequests: false });
    const xml = spMetadata({ ...profile, sp: { ...profile.sp, entityID: 'urn:x:a&b"<c>' } });
    const doc = new DOMParser().parseFromString(xml, 'text/xml');
    const root = doc.documentElement;
    expect(root?.getAttribute('entityID')).toBe('urn:x:a&b"<c>');
    const uses = Array.from(doc.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:metadata', 'KeyDescriptor')).map((k) => k.getAttribute('use'));
    expect(uses).toEqual(['encryption']);
    expect(xml).toContain('AuthnRequestsSigned="false"');
  });

  it('is deterministic', () => {
    const profile = testProfile();
    expect(spMetadata(profile)).toBe(spMetadata(structuredClone(profile)));
  });
});
