// The validators bench:acs puts side by side on the same signed responses: Gatehouse's ACS path
// minus HTTP, and three peers configured as their users configure them (samlify, node-saml, and
// Ory Polis's parser @boxyhq/saml20). Each one checks what its validator returned, so a peer that
// silently accepts nothing (or everything) cannot pass for a fast one.
import saml20 from '@boxyhq/saml20';
import * as xmllint from '@authenio/samlify-node-xmllint';
import { SAML, ValidateInResponseTo, type CacheProvider } from '@node-saml/node-saml';
import * as samlify from 'samlify';
import type { RenderedSAMLProfile } from '../crds/api/index.ts';
import { testIdpKeys, type BuiltResponse } from '../test/support/saml-fixtures.ts';
import { memoryReplayCache, peekInResponseTo, validateSamlResponse } from '../sp-server/saml/validate.ts';

export interface Contender {
  name: string;
  /** The name in the summary's ratios. */
  short: string;
  /** Registers the pending request a response answers, as the login start would have. */
  expect(r: BuiltResponse): void;
  /** Validates one response; throws unless the library accepted it and returned the fixture's user. */
  validate(r: BuiltResponse): Promise<void>;
}

/** `groups`: the number of group values every response of the run carries (the fixture's attributes − 4). */
export type MakeContender = (profile: RenderedSAMLProfile, groups: number) => Contender | Promise<Contender>;

const USER = 'alice@acme.test';
const GROUPS_CLAIM = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups';

function checkUser(library: string, nameID: unknown, groupValues: unknown, expected: number): void {
  const count = Array.isArray(groupValues) ? groupValues.length : typeof groupValues === 'string' ? 1 : 0;
  if (nameID !== USER || count !== expected) throw new Error(`${library} accepted the response but returned user ${String(nameID)} with ${count} of ${expected} groups`);
}

// Gatehouse: find the pending request, validate (both signatures, every check), consume it.
export const gatehouse: MakeContender = (profile, groups) => {
  const pending = new Map<string, true>();
  const replay = memoryReplayCache();
  return {
    name: 'Gatehouse validateSamlResponse',
    short: 'Gatehouse',
    expect(r) {
      pending.set(r.inResponseTo as string, true);
    },
    async validate(r) {
      const id = peekInResponseTo(r.base64);
      const found = id !== null && pending.delete(id);
      const result = await validateSamlResponse(r.base64, { profile, expectedInResponseTo: found ? id : null, replay });
      checkUser('Gatehouse', result.nameID, result.attributes[GROUPS_CLAIM], groups);
    },
  };
};

// samlify 2.13, schema validation on (it refuses responses without a validator).
export const samlifyPeer: MakeContender = (profile, groups) => {
  samlify.setSchemaValidator(xmllint);
  const sp = samlify.ServiceProvider({
    entityID: profile.sp.entityID,
    assertionConsumerService: [{ Binding: samlify.Constants.namespace.binding.post, Location: profile.sp.acsURL }],
    wantAssertionsSigned: true,
    clockDrifts: [-profile.allowedClockSkewSeconds * 1000, profile.allowedClockSkewSeconds * 1000],
  });
  const idp = samlify.IdentityProvider({
    entityID: profile.idp.entityID,
    signingCert: testIdpKeys().certificatePem,
    singleSignOnService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: profile.idp.ssoURL }],
    singleLogoutService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: profile.idp.ssoURL }],
  });
  return {
    name: 'samlify parseLoginResponse',
    short: 'samlify',
    expect() {},
    async validate(r) {
      const { extract } = (await sp.parseLoginResponse(idp, 'post', { body: { SAMLResponse: r.base64 } })) as { extract: { nameID?: unknown; attributes?: Record<string, unknown> } };
      checkUser('samlify', extract.nameID, extract.attributes?.[GROUPS_CLAIM], groups);
    },
  };
};

// @node-saml/node-saml 5, InResponseTo validated against a cache of pending requests.
export const nodeSamlPeer: MakeContender = (profile, groups) => {
  const cache = new Map<string, string>();
  const cacheProvider: CacheProvider = {
    async saveAsync(key, value) {
      cache.set(key, value);
      return { value, createdAt: Date.now() };
    },
    async getAsync(key) {
      return cache.get(key) ?? null;
    },
    async removeAsync(key) {
      if (key === null) return null;
      const v = cache.get(key) ?? null;
      cache.delete(key);
      return v;
    },
  };
  const saml = new SAML({
    callbackUrl: profile.sp.acsURL,
    entryPoint: profile.idp.ssoURL,
    issuer: profile.sp.entityID,
    audience: profile.sp.entityID,
    idpCert: testIdpKeys().certificatePem,
    idpIssuer: profile.idp.entityID,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: true,
    validateInResponseTo: ValidateInResponseTo.always,
    cacheProvider,
    acceptedClockSkewMs: profile.allowedClockSkewSeconds * 1000,
  });
  return {
    name: 'node-saml validatePostResponseAsync',
    short: 'node-saml',
    expect(r) {
      cache.set(r.inResponseTo as string, new Date().toISOString());
    },
    async validate(r) {
      const { profile: p } = await saml.validatePostResponseAsync({ SAMLResponse: r.base64 });
      checkUser('node-saml', p?.nameID, p?.[GROUPS_CLAIM], groups);
    },
  };
};

// Ory Polis (saml-jackson) 's parser, configured the way saml-jackson configures a connection: the
// IdP metadata parsed by the library gives the trusted certificate thumbprint; its ACS decodes the
// POST, finds the connection by the response's Issuer, then validates with the thumbprint, the
// audience and the pending request's ID. It verifies one signature (the first it finds: the
// assertion's) where Gatehouse and node-saml verify both.
export const polisPeer: MakeContender = async (profile, groups) => {
  const polis = saml20.default;
  const metadata = polis.createIdPMetadataXML({ ssoUrl: profile.idp.ssoURL, entityId: profile.idp.entityID, x509cert: testIdpKeys().certificatePem, wantAuthnRequestsSigned: false });
  const { thumbprint } = (await polis.parseMetadata(metadata, {})) as { thumbprint?: string };
  if (thumbprint === undefined) throw new Error('@boxyhq/saml20 found no certificate in the IdP metadata');
  const pending = new Set<string>();
  return {
    name: 'Ory Polis @boxyhq/saml20 validate',
    short: 'Polis',
    expect(r) {
      pending.add(r.inResponseTo as string);
    },
    async validate(r) {
      const raw = Buffer.from(r.base64, 'base64').toString('utf8');
      if (polis.parseIssuer(raw) !== profile.idp.entityID) throw new Error('@boxyhq/saml20 found no connection for the Issuer');
      const inResponseTo = r.inResponseTo as string;
      if (!pending.delete(inResponseTo)) throw new Error('Polis: no pending request');
      const { claims, audience } = await polis.validate(raw, { thumbprint, audience: profile.sp.entityID, inResponseTo });
      if (audience !== profile.sp.entityID) throw new Error(`@boxyhq/saml20 returned audience ${audience}`);
      checkUser('@boxyhq/saml20', claims['http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier'], claims[GROUPS_CLAIM], groups);
    },
  };
};

export const PEERS: Record<string, MakeContender> = { polis: polisPeer, 'node-saml': nodeSamlPeer, samlify: samlifyPeer };
