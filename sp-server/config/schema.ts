// The rendered SP configuration: the contract between the operator, which writes it into one
// Secret in Gatehouse's own namespace, and the sp-server, which loads it and hot-reloads it.
// It holds what the sp-server needs per organization and profile, so the server never reads
// Secrets in organizations' namespaces. Per-user decisions are not here: they stay in
// ManagedUser status (a 100k-user organization would not fit in one object).
import { z } from 'zod';
import { DNS_NAME_PATTERN, NAMEID_FORMATS, SIGNATURE_ALGORITHMS } from '../../crds/api/index.ts';

export const SP_CONFIG_FORMAT_VERSION = 1;
/** The key under which the Secret's data holds the JSON document. */
export const SP_CONFIG_SECRET_KEY = 'config.json';
/** Annotation on the Secret carrying the sha256 of the JSON document. */
export const SP_CONFIG_HASH_ANNOTATION = 'sso.gatehouse.dev/config-hash';
/** Label that marks the Secret as the operator's rendered config. */
export const SP_CONFIG_LABEL = 'sso.gatehouse.dev/rendered-config';

const domain = z.string().regex(new RegExp(DNS_NAME_PATTERN));
const pem = z.string().min(64);

export const keyPair = z.object({
  privateKeyPem: pem,
  certificatePem: pem,
});

export const renderedProfile = z.object({
  name: z.string().min(1),
  displayName: z.string().optional(),
  sp: z.object({
    entityID: z.string().min(1),
    acsURL: z.url(),
    metadataURL: z.url(),
    /** Signs AuthnRequests (when asked) and decrypts encrypted assertions. */
    key: keyPair,
  }),
  idp: z.object({
    entityID: z.string().min(1),
    ssoURL: z.url(),
    certificates: z.array(pem).min(1),
  }),
  /** Verified domains of the organization that this profile serves. */
  domains: z.array(domain),
  nameIDFormat: z.enum(NAMEID_FORMATS),
  signAuthnRequests: z.boolean(),
  signatureAlgorithms: z.array(z.enum(SIGNATURE_ALGORITHMS)).min(1),
  allowedClockSkewSeconds: z.number().min(0).max(300),
  jit: z.object({ enabled: z.boolean(), defaultRoles: z.array(z.string()) }),
  roleMapping: z
    .object({ attribute: z.string(), rules: z.array(z.object({ value: z.string(), roles: z.array(z.string()) })) })
    .optional(),
  /** Present while spec.test is set: the token of the test link and who may use it. */
  test: z.object({ token: z.string().min(16), email: z.string() }).optional(),
});

export const renderedOrganization = z.object({
  namespace: z.string().min(1),
  /** Every Verified domain of the organization, whether or not a profile serves it. */
  verifiedDomains: z.array(domain),
  profiles: z.array(renderedProfile),
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
export type RenderedOrganization = z.infer<typeof renderedOrganization>;
export type SPConfig = z.infer<typeof spConfig>;
