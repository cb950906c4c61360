// The rendered SP configuration: the contract between the operator, which writes it into one
// Secret in Gatehouse's own namespace, and the sp-server, which loads it and hot-reloads it.
// It holds what the sp-server needs per organization and profile, so the server never reads
// Secrets in organizations' namespaces. Per-user decisions are not here: they stay in
// ManagedUser status (a 100k-user organization would not fit in one object). It is part of the
// API: a profile's spec fields reach it through the one table below.
import { z } from 'zod';
import { DNS_NAME_PATTERN } from './common.ts';
import { MAX_ALLOWED_CLOCK_SKEW_SECONDS, SSO_PROFILE_DEFAULTS } from './defaults.ts';
import { durationSeconds } from './duration.ts';
import { renderedOIDC } from './oidc.ts';
import { NAMEID_FORMATS, SIGNATURE_ALGORITHMS, UNMANAGED_USER_POLICIES, type ssoProfileSpec } from './sso-profile.ts';

export const SP_CONFIG_FORMAT_VERSION = 1;
/** The key under which the Secret's data holds the JSON document. */
export const SP_CONFIG_SECRET_KEY = 'config.json';
/** Annotation on the Secret carrying the sha256 of the JSON document. */
export const SP_CONFIG_HASH_ANNOTATION = 'sso.gatehouse.dev/config-hash';
/** Label that marks the Secret as the operator's rendered config. */
export const SP_CONFIG_LABEL = 'sso.gatehouse.dev/rendered-config';
/** Namespace annotation naming the organization on end-user pages and in the portal. */
export const ORGANIZATION_DISPLAY_NAME_ANNOTATION = 'sso.gatehouse.dev/display-name';

const domain = z.string().regex(new RegExp(DNS_NAME_PATTERN));
const pem = z.string().min(64);

export const keyPair = z.object({
  privateKeyPem: pem,
  certificatePem: pem,
});

const renderedSAMLIdP = z.object({
  entityID: z.string().min(1),
  ssoURL: z.url(),
  certificates: z.array(pem).min(1),
});

export const renderedProfile = z.object({
  name: z.string().min(1),
  displayName: z.string().optional(),
  sp: z.object({
    entityID: z.string().min(1),
    acsURL: z.url(),
    metadataURL: z.url(),
    /** Signs AuthnRequests (when asked) and decrypts encrypted assertions; for OIDC, signs private_key_jwt client assertions. */
    key: keyPair,
  }),
  /** A SAML upstream: exactly one of idp and oidc is present. */
  idp: renderedSAMLIdP.optional(),
  /** An OpenID Connect upstream. */
  oidc: renderedOIDC.optional(),
  /** Verified domains of the organization that this profile serves. */
  domains: z.array(domain),
  nameIDFormat: z.enum(NAMEID_FORMATS),
  signAuthnRequests: z.boolean(),
  /** SAML ForceAuthn on every AuthnRequest of this profile (absent in configs rendered before the field). */
  forceAuthn: z.boolean().default(false),
  signatureAlgorithms: z.array(z.enum(SIGNATURE_ALGORITHMS)).min(1),
  allowedClockSkewSeconds: z.number().min(0).max(MAX_ALLOWED_CLOCK_SKEW_SECONDS),
  jit: z.object({ enabled: z.boolean(), defaultRoles: z.array(z.string()) }),
  roleMapping: z
    .object({ attribute: z.string(), rules: z.array(z.object({ value: z.string(), roles: z.array(z.string()) })) })
    .optional(),
  /**
   * Served domains on which enforcement is active (the operator's profile view): there even an
   * address without a ManagedUser is refused a password, unless unmanagedUsers is Allow.
   * Absent in configs rendered before the field: nothing beyond ManagedUser decisions.
   */
  enforcedDomains: z.array(domain).default([]),
  /** spec.enforcement.unmanagedUsers: what an enforced domain does with an address that is not a ManagedUser. */
  unmanagedUsers: z.enum(UNMANAGED_USER_POLICIES).default(SSO_PROFILE_DEFAULTS.unmanagedUsers),
  /** spec.enforcement.exempt, lower-cased: addresses that keep password login even when they are not ManagedUsers. */
  enforcementExempt: z.array(z.string()).default([]),
  /**
   * Present while spec.test is set: the token of the test link, who may use it and until when.
   * A link without expiresAt (rendered before links expired) is refused as expired.
   */
  test: z.object({ token: z.string().min(16), email: z.string(), expiresAt: z.iso.datetime({ offset: true }).optional() }).optional(),
}).refine((p) => (p.idp === undefined) !== (p.oidc === undefined), { message: 'a profile has exactly one upstream: idp (SAML) or oidc', path: ['idp'] });

export const renderedOrganization = z.object({
  namespace: z.string().min(1),
  /** The namespace's ORGANIZATION_DISPLAY_NAME_ANNOTATION, shown on end-user pages; absent: the namespace. */
  displayName: z.string().min(1).max(256).optional(),
  /** Every Verified domain of the organization, whether or not a profile serves it. */
  verifiedDomains: z.array(domain),
  profiles: z.array(renderedProfile),
  /**
   * Domains whose enforcement is latched but that no rendered profile serves (the profile is
   * left out of `profiles` because its IdP or SP key is broken, or the domain's verification
   * lapsed), with that profile's policy for addresses that are not ManagedUsers: such a failure
   * means no login for them, never a password. A serving profile carries its enforced domains
   * itself (`enforcedDomains`).
   */
  enforcedWithoutProfile: z
    .array(z.object({ domain, profile: z.string().min(1), unmanagedUsers: z.enum(UNMANAGED_USER_POLICIES), exempt: z.array(z.string()) }))
    .optional(),
  /**
   * SCIM provisioning, present when enabled for the organization: sha256 (hex) digests of the
   * bearer tokens the SCIM endpoint accepts (the token itself never leaves the organization's
   * Secret). A list so a rotation can overlap.
   */
  scim: z.object({ tokenSHA256: z.array(z.string().regex(/^[0-9a-f]{64}$/)) }).optional(),
});

export const spConfig = z.object({
  formatVersion: z.literal(SP_CONFIG_FORMAT_VERSION),
  /** Sorted by namespace; the operator renders deterministically so equal input gives equal bytes. */
  organizations: z.array(renderedOrganization),
});

export type KeyPair = z.infer<typeof keyPair>;
export type RenderedProfile = z.infer<typeof renderedProfile>;
/** A profile whose upstream is a SAML IdP. */
export type RenderedSAMLProfile = RenderedProfile & { idp: z.infer<typeof renderedSAMLIdP>; oidc?: undefined };
/** A profile whose upstream is an OpenID Provider. */
export type RenderedOIDCProfile = RenderedProfile & { oidc: NonNullable<RenderedProfile['oidc']>; idp?: undefined };

export function isSAMLProfile(p: RenderedProfile): p is RenderedSAMLProfile {
  return p.idp !== undefined;
}
export function isOIDCProfile(p: RenderedProfile): p is RenderedOIDCProfile {
  return p.oidc !== undefined;
}
export type RenderedOrganization = z.infer<typeof renderedOrganization>;
export type DomainEnforcement = NonNullable<RenderedOrganization['enforcedWithoutProfile']>[number];
export type SPConfig = z.infer<typeof spConfig>;

/** A spec as the operator may hold it: the API server's defaults are not guaranteed to be applied. */
export type SSOProfileSpecInput = z.input<typeof ssoProfileSpec>;

/** What the operator resolves or owns itself (IdP metadata or OIDC discovery, served and enforced domains, SP key, test link). */
export type ResolvedProfileFields = 'name' | 'sp' | 'idp' | 'oidc' | 'domains' | 'enforcedDomains' | 'test';
type SpecCarriedField = Exclude<keyof RenderedProfile, ResolvedProfileFields>;

/**
 * How each spec field reaches the rendered profile, with the CRD's defaults. `-?` makes every
 * contract field a required row, so a field the operator does not resolve cannot be forgotten.
 */
const CARRIED_FROM_SPEC: { [K in SpecCarriedField]-?: (spec: SSOProfileSpecInput) => RenderedProfile[K] } = {
  displayName: (spec) => spec.displayName,
  nameIDFormat: (spec) => spec.nameIDFormat ?? SSO_PROFILE_DEFAULTS.nameIDFormat,
  signAuthnRequests: (spec) => spec.signAuthnRequests ?? SSO_PROFILE_DEFAULTS.signAuthnRequests,
  forceAuthn: (spec) => spec.forceAuthn === true,
  signatureAlgorithms: (spec) => [...(spec.signatureAlgorithms ?? SSO_PROFILE_DEFAULTS.signatureAlgorithms)].sort(),
  allowedClockSkewSeconds: (spec) => durationSeconds(spec.allowedClockSkew ?? SSO_PROFILE_DEFAULTS.allowedClockSkew),
  jit: (spec) => ({
    enabled: spec.provisioning?.jit?.enabled ?? SSO_PROFILE_DEFAULTS.jitEnabled,
    defaultRoles: [...(spec.provisioning?.jit?.defaultRoles ?? [])].sort(),
  }),
  roleMapping: (spec) => spec.roleMapping,
  unmanagedUsers: (spec) => enforcementPolicy(spec).unmanagedUsers,
  enforcementExempt: (spec) => enforcementPolicy(spec).exempt,
};

/**
 * What an enforced domain of this spec does with addresses that are not ManagedUsers, and who is
 * exempt (lower-cased): rendered with a serving profile and, for a profile left out, with the
 * organization's `enforcedWithoutProfile` entries.
 */
export function enforcementPolicy(spec: SSOProfileSpecInput): Pick<DomainEnforcement, 'unmanagedUsers' | 'exempt'> {
  return {
    unmanagedUsers: spec.enforcement?.unmanagedUsers ?? SSO_PROFILE_DEFAULTS.unmanagedUsers,
    exempt: [...new Set((spec.enforcement?.exempt ?? []).map((e) => e.toLowerCase()))].sort(),
  };
}

/** One profile's entry of the rendered config: the spec's fields plus what the operator resolved. */
export function renderProfile(spec: SSOProfileSpecInput, resolved: Pick<RenderedProfile, ResolvedProfileFields>): RenderedProfile {
  const carried = Object.fromEntries(Object.entries(CARRIED_FROM_SPEC).map(([field, carry]) => [field, carry(spec)]));
  return { ...resolved, ...carried } as RenderedProfile;
}
