import { createVerify, generateKeyPairSync, verify } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { validate as validateSchema } from '@authenio/samlify-node-xmllint';
import { DOMParser } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { testProfile, testSpKeys } from '../../test/support/saml-fixtures.ts';
import { buildAuthnRequestRedirect } from './authn-request.ts';

function decode(url: string) {
  const u = new URL(url);
  const xml = inflateRawSync(Buffer.from(u.searchParams.get('SAMLRequest') ?? '', 'base64')).toString('utf8');
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  return { u, xml, root: doc.documentElement };
}

describe('buildAuthnRequestRedirect', () => {
  it('builds a schema-valid unsigned AuthnRequest for the profile', async () => {
    const profile = testProfile({ signAuthnRequests: false });
    const { url, id } = buildAuthnRequestRedirect(profile, { relayState: 'rs-1' });
    const { u, xml, root } = decode(url);
    expect(`${u.origin}${u.pathname}`).toBe(profile.idp.ssoURL);
    await expect(validateSchema(xml)).resolves.toBe('SUCCESS_VALIDATE_XML');
    expect(root?.getAttribute('ID')).toBe(id);
    expect(id).toMatch(/^_[0-9a-f]{40}$/);
    expect(root?.getAttribute('Destination')).toBe(profile.idp.ssoURL);
    expect(root?.getAttribute('AssertionConsumerServiceURL')).toBe(profile.sp.acsURL);
    expect(xml).toContain(`<saml:Issuer>${profile.sp.entityID}</saml:Issuer>`);
    expect(u.searchParams.get('RelayState')).toBe('rs-1');
    expect(u.searchParams.has('Signature')).toBe(false);
    expect(u.searchParams.has('SigAlg')).toBe(false);
  });

  it('signs the query string with the SP key when the profile asks', () => {
    const profile = testProfile({ signAuthnRequests: true, idp: { ...testProfile().idp, ssoURL: 'https://idp.acme.test/sso?tenant=acme' } });
    const { url } = buildAuthnRequestRedirect(profile, { relayState: 'a b&c' });
    const u = new URL(url);
    expect(u.searchParams.get('tenant')).toBe('acme');
    expect(u.searchParams.get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    const raw = url.slice(url.indexOf('SAMLRequest='), url.indexOf('&Signature='));
    const verifier = createVerify('sha256');
    verifier.update(raw);
    expect(verifier.verify(testSpKeys().certificatePem, u.searchParams.get('Signature') ?? '', 'base64')).toBe(true);
    // Changing any signed parameter breaks the signature.
    const tampered = createVerify('sha256');
    tampered.update(raw.replace('RelayState=a', 'RelayState=b'));
    expect(tampered.verify(testSpKeys().certificatePem, u.searchParams.get('Signature') ?? '', 'base64')).toBe(false);
  });

  it('signs with the key the profile has now, after the SP key was renewed (ECDSA, P1363 encoding)', () => {
    const before = testProfile({ signAuthnRequests: true });
    buildAuthnRequestRedirect(before);
    const renewed = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const profile = testProfile({ signAuthnRequests: true, sp: { ...before.sp, key: { ...before.sp.key, privateKeyPem: renewed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() } } });
    const { url } = buildAuthnRequestRedirect(profile);
    const u = new URL(url);
    expect(u.searchParams.get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256');
    const signed = Buffer.from(url.slice(url.indexOf('SAMLRequest='), url.indexOf('&Signature=')));
    const signature = Buffer.from(u.searchParams.get('Signature') ?? '', 'base64');
    expect(verify('sha256', signed, { key: renewed.publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
    // And the earlier profile still signs with its own key.
    const again = new URL(buildAuthnRequestRedirect(before).url);
    expect(again.searchParams.get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
  });

  it('issues a fresh ID per request', () => {
    const profile = testProfile();
    expect(buildAuthnRequestRedirect(profile).id).not.toBe(buildAuthnRequestRedirect(profile).id);
  });
});
