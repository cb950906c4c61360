// SSOProfile: one identity provider connection of an organization, SAML 2.0 (spec.idp) or
// OpenID Connect (spec.oidc).
import { z } from 'zod';
import { oidcSpec, oidcStatus } from './oidc.ts';
import { commonStatus, dnsName, email, httpsOrHttpUrl, roleName } from './common.ts';
import { MAX_ALLOWED_CLOCK_SKEW, MIN_METADATA_REFRESH_INTERVAL, SSO_PROFILE_DEFAULTS } from './defaults.ts';
import { duration } from './duration.ts';

export const SIGNATURE_ALGORITHMS = ['rsa-sha256', 'rsa-sha384', 'rsa-sha512', 'ecdsa-sha256', 'ecdsa-sha384', 'ecdsa-sha512', 'rsa-sha1'] as const;
export const ENFORCEMENT_PHASES = ['NotRequested', 'Blocked', 'InProgress', 'Enforced'] as const;
export const TEST_RESULTS = ['Pending', 'Succeeded', 'Failed'] as const;
export const NAMEID_FORMATS = ['emailAddress', 'unspecified', 'persistent'] as const;
/** What an enforced domain does with an address that is not a ManagedUser. */
export const UNMANAGED_USER_POLICIES = ['Refuse', 'Allow'] as const;
/** Setting or changing this annotation on an SSOProfile makes the operator issue a new test link. */
export const RENEW_TEST_LINK_ANNOTATION = 'sso.gatehouse.dev/renew-test-link';
/** Setting or changing this annotation on an SSOProfile makes the operator fetch its metadata URL again at once. */
export const REFRESH_METADATA_ANNOTATION = 'sso.gatehouse.dev/refresh-metadata';
/** Held by an SSOProfile while enforcement is latched: deleting it un-enforces its users first. */
export const ENFORCEMENT_FINALIZER = 'sso.gatehouse.dev/enforcement';

const pemCertificate = z
  .string()
  .min(64)
  .max(16384)
  .regex(/-----BEGIN CERTIFICATE-----/)
  .meta({ description: 'A PEM-encoded X.509 signing certificate of the IdP.' });

const domainList = z.array(dnsName).max(100).meta({ 'x-kubernetes-list-type': 'set' });

export const idpSpec = z
  .object({
    metadata: z
      .object({
        xml: z.string().max(262144).optional().meta({ description: 'The IdP metadata XML, inline.' }),
        url: httpsOrHttpUrl
          .optional()
          .meta({ description: 'Where to fetch the IdP metadata (https://; plain http:// only where the installation allows it); refreshed periodically.' }),
        refreshInterval: duration.default(SSO_PROFILE_DEFAULTS.metadataRefreshInterval).meta({
          description: `How often a metadata URL is fetched again; at least ${MIN_METADATA_REFRESH_INTERVAL}. Set or change the annotation ${REFRESH_METADATA_ANNOTATION} to fetch at once.`,
          'x-kubernetes-validations': [
            { rule: `duration(self) >= duration('${MIN_METADATA_REFRESH_INTERVAL}')`, message: `refreshInterval must be at least ${MIN_METADATA_REFRESH_INTERVAL}` },
          ],
        }),
        signingCertificate: pemCertificate.optional().meta({
          description:
            'The PEM certificate the IdP signs its metadata with. When set, the metadata must carry an enveloped XML signature over its root element by this certificate, or it is refused (a fetched document that fails keeps the last accepted one in use).',
        }),
      })
      .optional()
      .meta({
        'x-kubernetes-validations': [
          { rule: 'has(self.xml) != has(self.url)', message: 'set exactly one of metadata.xml and metadata.url' },
        ],
      }),
    entityID: z.string().min(1).max(1024).optional().meta({ description: 'The IdP\'s entityID (Issuer).' }),
    ssoURL: httpsOrHttpUrl.optional().meta({ description: 'The IdP\'s SingleSignOnService URL (HTTP-Redirect binding).' }),
    certificates: z
      .array(pemCertificate)
      .max(4)
      .optional()
      .meta({ description: 'Trusted signing certificates; list the old and the new one during a rotation.' }),
  })
  .meta({
    description: 'The identity provider: its metadata, or entityID + ssoURL + certificates.',
    'x-kubernetes-validations': [
      {
        rule: 'has(self.metadata) || (has(self.entityID) && has(self.ssoURL) && has(self.certificates) && size(self.certificates) > 0)',
        message: 'idp needs metadata (xml or url), or entityID, ssoURL and at least one certificate',
      },
      {
        rule: '!has(self.metadata) || (!has(self.entityID) && !has(self.ssoURL) && !has(self.certificates))',
        message: 'idp.metadata and idp.entityID/ssoURL/certificates are mutually exclusive',
      },
    ],
  });

export const ssoProfileSpec = z
  .object({
    displayName: z.string().max(256).optional().meta({ description: 'Shown to users, e.g. "Okta".' }),
    idp: idpSpec.optional().meta({ description: 'A SAML 2.0 identity provider: its metadata, or entityID + ssoURL + certificates. Exactly one of idp and oidc.' }),
    oidc: oidcSpec.optional().meta({ description: 'An OpenID Connect identity provider (Google, Microsoft Entra ID or any OpenID Provider). Exactly one of idp and oidc.' }),
    domains: domainList
      .min(1)
      .meta({ description: 'Verified domains (VerifiedDomain.spec.domain) whose users this profile serves.' }),
    nameIDFormat: z.enum(NAMEID_FORMATS).default(SSO_PROFILE_DEFAULTS.nameIDFormat),
    signAuthnRequests: z.boolean().default(SSO_PROFILE_DEFAULTS.signAuthnRequests).meta({ description: 'Sign AuthnRequests with the SP key the operator keeps.' }),
    forceAuthn: z
      .boolean()
      .optional()
      .meta({ description: 'Ask the IdP to authenticate the user again at every sign-in (SAML ForceAuthn), for organizations whose policy forbids reusing an IdP session.' }),
    signatureAlgorithms: z
      .array(z.enum(SIGNATURE_ALGORITHMS))
      .min(1)
      .max(SIGNATURE_ALGORITHMS.length)
      .default([...SSO_PROFILE_DEFAULTS.signatureAlgorithms])
      .meta({
        'x-kubernetes-list-type': 'set',
        description: 'Accepted IdP signature algorithms. rsa-sha1 is refused unless listed here.',
      }),
    allowedClockSkew: duration
      .default(SSO_PROFILE_DEFAULTS.allowedClockSkew)
      .meta({
        description: `Tolerance for the IdP's clock on NotBefore/NotOnOrAfter. At most ${MAX_ALLOWED_CLOCK_SKEW}.`,
        'x-kubernetes-validations': [
          { rule: `duration(self) <= duration('${MAX_ALLOWED_CLOCK_SKEW}')`, message: `allowedClockSkew must be at most ${MAX_ALLOWED_CLOCK_SKEW}` },
        ],
      }),
    test: z
      .object({ email: email.meta({ description: 'The managed user who tests the connection.' }) })
      .optional()
      .meta({
        description: `Who tests the connection. The test link appears in status.test.url and expires at status.test.expiresAt; set or change the annotation ${RENEW_TEST_LINK_ANNOTATION} to get a new one.`,
      }),
    enforcement: z
      .object({
        domains: domainList.meta({ description: 'Domains (a subset of spec.domains) on which SSO is enforced.' }),
        exempt: z
          .array(email)
          .max(32)
          .optional()
          .meta({ 'x-kubernetes-list-type': 'set', description: 'Admins who keep password login.' }),
        unmanagedUsers: z
          .enum(UNMANAGED_USER_POLICIES)
          .optional()
          .meta({
            // Optional in the type (a spec read without the API server's defaulting may lack it);
            // the CRD still fills it in, and the render falls back to the same default.
            default: SSO_PROFILE_DEFAULTS.unmanagedUsers,
            description:
              'Addresses of an enforced domain that are not ManagedUsers: Refuse (the default) refuses them a password (SSO only where JIT provisioning creates the user, otherwise no login); Allow leaves them to password login.',
          }),
      })
      .optional(),
    provisioning: z
      .object({
        jit: z
          .object({
            enabled: z.boolean().default(SSO_PROFILE_DEFAULTS.jitEnabled),
            defaultRoles: z.array(roleName).max(16).optional().meta({ 'x-kubernetes-list-type': 'set' }),
          })
          .optional()
          .meta({ description: 'Create a ManagedUser on the first SSO login of an unknown user of a verified domain.' }),
      })
      .optional(),
    roleMapping: z
      .object({
        attribute: z.string().min(1).max(512).meta({ description: 'The SAML attribute or OIDC ID token claim carrying groups, e.g. groups or http://schemas.microsoft.com/ws/2008/06/identity/claims/groups.' }),
        rules: z
          .array(
            z.object({
              value: z.string().min(1).max(512).meta({ description: 'An attribute value, e.g. a group name or object ID.' }),
              roles: z.array(roleName).min(1).max(16).meta({ 'x-kubernetes-list-type': 'set' }),
            }),
          )
          .max(256),
      })
      .optional()
      .meta({ description: 'Maps IdP group/attribute (SAML) or claim (OIDC) values to application roles.' }),
  })
  .meta({
    description: 'One identity provider connection: SAML 2.0 (spec.idp) or OpenID Connect (spec.oidc). nameIDFormat, signAuthnRequests, forceAuthn\'s SAML form and signatureAlgorithms apply to SAML only.',
    'x-kubernetes-validations': [
      { rule: 'has(self.idp) != has(self.oidc)', message: 'set exactly one of spec.idp (SAML) and spec.oidc (OpenID Connect)' },
      {
        rule: '!has(self.enforcement) || self.enforcement.domains.all(d, d in self.domains)',
        message: 'every spec.enforcement.domains entry must also be listed in spec.domains',
        fieldPath: '.enforcement.domains',
      },
      {
        rule: "!has(self.test) || self.domains.exists(d, self.test.email.lowerAscii().endsWith('@' + d))",
        message: 'spec.test.email must belong to one of spec.domains',
        fieldPath: '.test.email',
      },
    ],
  });

const certificateInfo = z.object({
  fingerprintSHA256: z.string().max(128),
  subject: z.string().max(1024).optional(),
  notBefore: z.iso.datetime({ offset: true }).optional(),
  notAfter: z.iso.datetime({ offset: true }).optional(),
});

export const ssoProfileStatus = z
  .object({
    ...commonStatus,
    sp: z
      .object({
        entityID: z.string().max(2048).optional().meta({ description: 'Paste into the IdP as the Audience / SP Entity ID.' }),
        acsURL: z.string().max(2048).optional().meta({ description: 'Paste into the IdP as the ACS / Reply URL.' }),
        metadataURL: z.string().max(2048).optional().meta({ description: 'SP metadata to load into the IdP.' }),
        redirectURI: z.string().max(2048).optional().meta({ description: 'OIDC: paste into the provider as the redirect URI (Google: Authorized redirect URI; Entra: Web redirect URI).' }),
        jwksURL: z.string().max(2048).optional().meta({ description: 'OIDC with private_key_jwt: the public key Gatehouse signs its client assertions with (Entra: upload the certificate instead).' }),
      })
      .optional(),
    idp: z
      .object({
        entityID: z.string().max(1024).optional(),
        ssoURL: z.string().max(2048).optional(),
        certificates: z.array(certificateInfo).max(8).optional(),
        metadataFetchedTime: z.iso.datetime({ offset: true }).optional(),
      })
      .optional(),
    oidc: oidcStatus.optional(),
    test: z
      .object({
        url: z.string().max(2048).optional().meta({ description: 'Open while signed in to the IdP as spec.test.email.' }),
        expiresAt: z.iso.datetime({ offset: true }).optional().meta({ description: `When the test link stops working; set or change the annotation ${RENEW_TEST_LINK_ANNOTATION} for a new one.` }),
        email: z.string().max(320).optional(),
        result: z.enum(TEST_RESULTS).optional(),
        errorCode: z.string().max(64).optional(),
        message: z.string().max(1024).optional(),
        attemptedTime: z.iso.datetime({ offset: true }).optional(),
        completedTime: z.iso.datetime({ offset: true }).optional(),
        lastPassed: z
          .object({
            email: z.string().max(320),
            time: z.iso.datetime({ offset: true }),
          })
          .optional()
          .meta({
            description:
              'The last successful test login, kept by the operator: a later attempt (pending or failed) does not erase it. It counts for entering enforcement while its email is spec.test.email.',
          }),
      })
      .optional(),
    recentFailures: z
      .array(
        z.object({
          code: z.string().max(64),
          hint: z.string().max(1024),
          count: z.int().min(0),
          lastSeenTime: z.iso.datetime({ offset: true }),
        }),
      )
      .max(10)
      .optional()
      .meta({ description: 'The latest sign-in refusals for this profile (SAML or OIDC), written at a bounded rate by the sp-server.' }),
    enforcement: z
      .object({
        phase: z.enum(ENFORCEMENT_PHASES),
        reason: z.string().max(128).optional(),
        message: z.string().max(1024).optional(),
        domains: z.array(z.string().max(253)).max(100).optional(),
        latchedDomains: z
          .array(z.string().max(253))
          .max(100)
          .optional()
          .meta({
            description:
              'Domains on which enforcement was reached (after a passed test) and is held: their users stay enforced whatever later breaks (test, IdP, certificates) until the domain leaves spec.enforcement.domains or the profile is deleted. Written and read only by the operator.',
          }),
        matchedUsers: z.int().min(0).optional(),
        enforcedUsers: z.int().min(0).optional(),
      })
      .optional(),
  })
  .meta({ description: 'What the operator (and, for test results, the sp-server) observed.' });

export type SSOProfileSpec = z.infer<typeof ssoProfileSpec>;
export type SSOProfileStatus = z.infer<typeof ssoProfileStatus>;
export type EnforcementPhase = (typeof ENFORCEMENT_PHASES)[number];
export type UnmanagedUserPolicy = (typeof UNMANAGED_USER_POLICIES)[number];
export type SignatureAlgorithm = (typeof SIGNATURE_ALGORITHMS)[number];
