// Interoperability with an independent SAML implementation: samlify playing the IdP signs (and
// encrypts, with its own xml-encryption fork) responses from Gatehouse's SP metadata, and parses
// Gatehouse's AuthnRequests, signatures included.
import { randomUUID } from 'node:crypto';
import * as validator from '@authenio/samlify-node-xmllint';
import * as samlify from 'samlify';
import { describe, expect, it } from 'vitest';
import { testIdpKeys, testProfile, toBase64 } from '../../test/support/saml-fixtures.ts';
import { buildAuthnRequestRedirect } from './authn-request.ts';
import { SamlValidationError } from './errors.ts';
import { spMetadata } from './metadata.ts';
import { memoryReplayCache, validateSamlResponse } from './validate.ts';

samlify.setSchemaValidator(validator);

// samlify's default template leaves the AuthnStatement out; a samlify IdP serving web sign-in
// fills it in through its own template, as Gatehouse requires one.
const AUTHN_STATEMENT = '<saml:AuthnStatement AuthnInstant="{IssueInstant}" SessionIndex="{AssertionID}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>';
const LOGIN_RESPONSE_TEMPLATE = samlify.SamlLib.defaultLoginResponseTemplate.context.replace('{AuthnStatement}', AUTHN_STATEMENT);

/** samlify's tag values for a login response, as its own default replacement would fill them. */
function loginResponseTags(profile: ReturnType<typeof testProfile>, requestID: string, email: string) {
  const id = `_${randomUUID()}`;
  const now = new Date();
  const later = new Date(now.getTime() + 5 * 60_000).toISOString();
  const values = {
    ID: id,
    AssertionID: `_${randomUUID()}`,
    Destination: profile.sp.acsURL,
    Audience: profile.sp.entityID,
    SubjectRecipient: profile.sp.acsURL,
    Issuer: profile.idp.entityID,
    IssueInstant: now.toISOString(),
    StatusCode: samlify.Constants.StatusCode.Success,
    ConditionsNotBefore: now.toISOString(),
    ConditionsNotOnOrAfter: later,
    SubjectConfirmationDataNotOnOrAfter: later,
    NameIDFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    NameID: email,
    InResponseTo: requestID,
    AttributeStatement: '',
  };
  return (template: string) => ({ id, context: samlify.SamlLib.replaceTagsByValue(template, values) });
}

function samlifyIdp(profile: ReturnType<typeof testProfile>, encrypt: boolean) {
  return samlify.IdentityProvider({
    entityID: profile.idp.entityID,
    privateKey: testIdpKeys().privateKeyPem,
    signingCert: testIdpKeys().certificatePem,
    singleSignOnService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: profile.idp.ssoURL }],
    singleLogoutService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: profile.idp.ssoURL }],
    isAssertionEncrypted: encrypt,
    loginResponseTemplate: { context: LOGIN_RESPONSE_TEMPLATE, attributes: [] },
    wantAuthnRequestsSigned: profile.signAuthnRequests,
  });
}

describe('interoperability with samlify', () => {
  it.each([false, true])('accepts a response samlify signs from Gatehouse metadata (encrypted: %s)', async (encrypt) => {
    const profile = testProfile();
    const sp = samlify.ServiceProvider({ metadata: spMetadata(profile) });
    const idp = samlifyIdp(profile, encrypt);
    const { id } = buildAuthnRequestRedirect(profile);
    const res = (await idp.createLoginResponse(sp, { extract: { request: { id } } } as never, 'post', { email: 'alice@acme.test' }, loginResponseTags(profile, id, 'alice@acme.test'))) as { context: string };
    const xml = Buffer.from(res.context, 'base64').toString('utf8');
    expect(xml.includes('EncryptedAssertion')).toBe(encrypt);
    const v = await validateSamlResponse(res.context, { profile, expectedInResponseTo: id, replay: memoryReplayCache() });
    expect(v).toMatchObject({ issuer: profile.idp.entityID, nameID: 'alice@acme.test', inResponseTo: id });
    if (!encrypt) {
      const tampered = xml.replace('alice@acme.test</saml:NameID>', 'mallory@acme.test</saml:NameID>');
      const err = await validateSamlResponse(toBase64(tampered), { profile, expectedInResponseTo: id, replay: memoryReplayCache() }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SamlValidationError);
      expect((err as SamlValidationError).code).toBe('SIGNATURE_INVALID');
    }
  });

  it('samlify as the IdP accepts Gatehouse\'s signed AuthnRequest', async () => {
    const profile = testProfile({ signAuthnRequests: true });
    const sp = samlify.ServiceProvider({ metadata: spMetadata(profile) });
    const idp = samlifyIdp(profile, false);
    const { url, id } = buildAuthnRequestRedirect(profile, { relayState: 'state-1' });
    const query = Object.fromEntries(new URL(url).searchParams);
    const octetString = url.slice(url.indexOf('?') + 1, url.indexOf('&Signature='));
    const parsed = await idp.parseLoginRequest(sp, 'redirect', { query, octetString } as never);
    expect(parsed.extract.request?.id).toBe(id);
    expect(parsed.extract.issuer).toBe(profile.sp.entityID);
    // samlify does check the signature: another RelayState under the same signature is refused.
    const forged = { query: { ...query, RelayState: 'state-2' }, octetString: octetString.replace('state-1', 'state-2') };
    await expect(idp.parseLoginRequest(sp, 'redirect', forged as never)).rejects.toBeDefined();
  });
});
