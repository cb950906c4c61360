// The OpenID Connect upstream of an SSOProfile (spec.oidc): Google Workspace, Microsoft Entra ID
// or any OpenID Provider. The presets fill the issuer and add the provider's own identity checks
// (Google's `hd`, Entra's `tid`); everything else is the same strict OIDC code flow.
import { z } from 'zod';
import { httpsOrHttpUrl } from './common.ts';
import { MIN_METADATA_REFRESH_INTERVAL, SSO_PROFILE_DEFAULTS } from './defaults.ts';
import { duration } from './duration.ts';

export const OIDC_PROVIDERS = ['Google', 'Microsoft', 'Generic'] as const;
export const OIDC_CLIENT_AUTHENTICATION_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
/** JWS algorithms an ID token may be signed with; `none` and the HMAC family are never accepted. */
export const ID_TOKEN_SIGNING_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
/** Claims an Entra ID token may carry the user's address in; the profile names one. */
export const MICROSOFT_EMAIL_CLAIMS = ['email', 'preferred_username'] as const;

/** Google's issuer; a Google profile may name another only to point at a stand-in (tests, a proxy). */
export const GOOGLE_ISSUER = 'https://accounts.google.com';
/** Entra ID's v2.0 issuer of one tenant; `{tenantid}` is the placeholder Entra's own discovery uses. */
export const MICROSOFT_ISSUER_TEMPLATE = 'https://login.microsoftonline.com/{tenantid}/v2.0';
export const TENANT_ID_PLACEHOLDER = '{tenantid}';

export const OIDC_DEFAULTS = {
  provider: 'Generic',
  clientAuthentication: 'client_secret_basic',
  clientSecretKey: 'client-secret',
  clientSecretName: 'gatehouse-oidc-client',
  scopes: ['openid', 'email', 'profile'],
  emailClaim: 'email',
  displayNameClaim: 'name',
  idTokenSigningAlgorithms: ['RS256'],
  refreshInterval: SSO_PROFILE_DEFAULTS.metadataRefreshInterval,
} as const;

const GUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const claimName = z.string().min(1).max(256).regex(/^[A-Za-z0-9_.:/-]+$/);

export const oidcSpec = z
  .object({
    provider: z.enum(OIDC_PROVIDERS).default(OIDC_DEFAULTS.provider).meta({
      description:
        'Google (Google Workspace: the ID token\'s hd claim must be the user\'s domain), Microsoft (Entra ID: the token\'s tid must be spec.oidc.tenantID) or Generic (any OpenID Provider; spec.oidc.issuer required).',
    }),
    issuer: httpsOrHttpUrl.optional().meta({
      description: `The issuer identifier; discovery is read from <issuer>/.well-known/openid-configuration and its issuer must equal this. Defaults: Google ${GOOGLE_ISSUER}, Microsoft ${MICROSOFT_ISSUER_TEMPLATE} with tenantID filled in. Required for Generic.`,
    }),
    tenantID: z
      .string()
      .regex(new RegExp(GUID))
      .optional()
      .meta({ description: 'Microsoft only, and required there: the Directory (tenant) ID of the Entra tenant. Tokens of any other tenant are refused.' }),
    clientID: z.string().min(1).max(512).meta({ description: 'The client (application) ID registered at the provider.' }),
    clientAuthentication: z.enum(OIDC_CLIENT_AUTHENTICATION_METHODS).default(OIDC_DEFAULTS.clientAuthentication).meta({
      description:
        'How Gatehouse authenticates at the token endpoint: with the client secret (client_secret_basic, client_secret_post; clientSecretRef required) or with a JWT signed by the key pair the operator keeps for this profile (private_key_jwt; its certificate is at status.sp.jwksURL).',
    }),
    clientSecretRef: z
      .object({
        name: z
          .string()
          .min(1)
          .max(253)
          .default(OIDC_DEFAULTS.clientSecretName)
          .meta({
            description: `The Secret in the profile's namespace; it must be ${OIDC_DEFAULTS.clientSecretName}, the one Secret name the operator may read besides its own (RBAC names it), so one Secret holds the client secrets of a namespace's OIDC profiles under different keys.`,
            'x-kubernetes-validations': [{ rule: `self == '${OIDC_DEFAULTS.clientSecretName}'`, message: `the client secret must be in the Secret ${OIDC_DEFAULTS.clientSecretName} of the profile's namespace` }],
          }),
        key: z.string().min(1).max(253).regex(/^[-._a-zA-Z0-9]+$/).default(OIDC_DEFAULTS.clientSecretKey).meta({ description: 'The key of the Secret\'s data holding the client secret.' }),
      })
      .optional()
      .meta({ description: 'The client secret, in a Secret of the profile\'s namespace. Read by the operator only; never shown in status.' }),
    scopes: z
      .array(z.string().min(1).max(256).regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/))
      .min(1)
      .max(32)
      .default([...OIDC_DEFAULTS.scopes])
      .meta({
        'x-kubernetes-list-type': 'set',
        description: 'Scopes requested from the provider; must include openid.',
        'x-kubernetes-validations': [{ rule: "'openid' in self", message: 'scopes must include openid' }],
      }),
    claims: z
      .object({
        email: claimName.default(OIDC_DEFAULTS.emailClaim).meta({ description: 'The claim holding the user\'s email address. Microsoft: email or preferred_username.' }),
        displayName: claimName.default(OIDC_DEFAULTS.displayNameClaim).meta({ description: 'The claim holding the user\'s display name (used by JIT provisioning).' }),
      })
      .optional()
      .meta({ description: 'Which ID token claims carry the email and the display name. Role mapping reads the claim named by spec.roleMapping.attribute (e.g. groups).' }),
    idTokenSigningAlgorithms: z
      .array(z.enum(ID_TOKEN_SIGNING_ALGORITHMS))
      .min(1)
      .max(ID_TOKEN_SIGNING_ALGORITHMS.length)
      .default([...OIDC_DEFAULTS.idTokenSigningAlgorithms])
      .meta({ 'x-kubernetes-list-type': 'set', description: 'The JWS algorithms an ID token may be signed with.' }),
    refreshInterval: duration.default(OIDC_DEFAULTS.refreshInterval).meta({
      description: `How often the discovery document and the JWKS are fetched again; at least ${MIN_METADATA_REFRESH_INTERVAL}. A token signed with a key the cached JWKS lacks makes the sp-server fetch the JWKS at once.`,
      'x-kubernetes-validations': [
        { rule: `duration(self) >= duration('${MIN_METADATA_REFRESH_INTERVAL}')`, message: `refreshInterval must be at least ${MIN_METADATA_REFRESH_INTERVAL}` },
      ],
    }),
  })
  .meta({
    description: 'An OpenID Connect identity provider (the authorization code flow with PKCE).',
    'x-kubernetes-validations': [
      { rule: "self.provider != 'Generic' || has(self.issuer)", message: 'oidc.issuer is required for the Generic provider' },
      { rule: "self.provider != 'Microsoft' || has(self.tenantID)", message: 'oidc.tenantID (the Entra Directory ID) is required for the Microsoft provider' },
      { rule: "self.provider == 'Microsoft' || !has(self.tenantID)", message: 'oidc.tenantID applies to the Microsoft provider only' },
      {
        rule: "self.clientAuthentication == 'private_key_jwt' ? !has(self.clientSecretRef) : has(self.clientSecretRef)",
        message: 'client_secret_basic and client_secret_post need oidc.clientSecretRef; private_key_jwt uses the profile\'s own key and takes none',
      },
      { rule: "self.provider != 'Google' || self.clientAuthentication != 'private_key_jwt'", message: 'Google accepts only a client secret (client_secret_basic or client_secret_post)' },
      {
        rule: "self.provider != 'Microsoft' || !has(self.claims) || self.claims.email in ['email', 'preferred_username']",
        message: 'for Microsoft, oidc.claims.email must be email or preferred_username',
      },
    ],
  });

export type OIDCSpec = z.infer<typeof oidcSpec>;
export type OIDCSpecInput = z.input<typeof oidcSpec>;
export type OIDCProvider = (typeof OIDC_PROVIDERS)[number];
export type OIDCClientAuthentication = (typeof OIDC_CLIENT_AUTHENTICATION_METHODS)[number];
export type IDTokenSigningAlgorithm = (typeof ID_TOKEN_SIGNING_ALGORITHMS)[number];

/** The issuer a spec names or its preset implies (Microsoft's with the tenant filled in), or undefined for a Generic spec without one. */
export function configuredIssuer(spec: Pick<OIDCSpecInput, 'provider' | 'issuer' | 'tenantID'>): string | undefined {
  const provider = spec.provider ?? OIDC_DEFAULTS.provider;
  const issuer = spec.issuer ?? (provider === 'Google' ? GOOGLE_ISSUER : provider === 'Microsoft' ? MICROSOFT_ISSUER_TEMPLATE : undefined);
  if (issuer === undefined) return undefined;
  return provider === 'Microsoft' && spec.tenantID !== undefined ? issuer.split(TENANT_ID_PLACEHOLDER).join(spec.tenantID.toLowerCase()) : issuer;
}

/** What the operator shows of the provider it resolved; never the secret. */
export const oidcStatus = z
  .object({
    issuer: z.string().max(2048).optional(),
    authorizationEndpoint: z.string().max(2048).optional(),
    tokenEndpoint: z.string().max(2048).optional(),
    jwksURI: z.string().max(2048).optional(),
    signingKeys: z
      .array(z.object({ kid: z.string().max(256).optional(), kty: z.string().max(16), alg: z.string().max(16).optional() }))
      .max(32)
      .optional()
      .meta({ description: 'The usable signing keys of the JWKS last accepted.' }),
    discoveryFetchedTime: z.iso.datetime({ offset: true }).optional(),
    jwksFetchedTime: z.iso.datetime({ offset: true }).optional(),
  })
  .meta({ description: 'The OpenID Provider as last accepted by the operator.' });

/** A public JWK as a JWKS carries it; the sp-server imports it with jose, which checks the rest. */
const publicJWK = z
  .object({ kty: z.enum(['RSA', 'EC', 'OKP']), kid: z.string().max(256).optional(), alg: z.string().max(16).optional(), use: z.string().max(16).optional() })
  .catchall(z.union([z.string().max(8192), z.array(z.string().max(8192)).max(8)]));

/** The rendered OIDC upstream of a profile: the discovery the operator accepted, its JWKS and the client credentials. */
export const renderedOIDC = z
  .object({
    provider: z.enum(OIDC_PROVIDERS),
    issuer: z.url(),
    authorizationEndpoint: z.url(),
    tokenEndpoint: z.url(),
    jwksURI: z.url(),
    /** The JWKS as last accepted: the sp-server starts from it and fetches jwksURI again on an unknown kid. `jwksFetchedAt`: when this key set was first accepted (a refresh finding the same keys keeps it, so the config is not rewritten). */
    jwks: z.object({ keys: z.array(publicJWK).min(1).max(32) }),
    jwksFetchedAt: z.iso.datetime({ offset: true }),
    /** The provider advertises RFC 9207's `iss` authorization response parameter. */
    issParameterSupported: z.boolean().default(false),
    clientID: z.string().min(1),
    clientAuthentication: z.enum(OIDC_CLIENT_AUTHENTICATION_METHODS),
    /** Present for the client_secret methods only; the config Secret is the one place outside the organization's namespace that holds it. */
    clientSecret: z.string().min(1).optional(),
    /** Where the provider sends the browser back: paste into the provider's redirect URIs. */
    redirectURI: z.url(),
    scopes: z.array(z.string()).min(1),
    claims: z.object({ email: z.string().min(1), displayName: z.string().min(1) }),
    idTokenSigningAlgorithms: z.array(z.enum(ID_TOKEN_SIGNING_ALGORITHMS)).min(1),
    /** Microsoft: the tenant every token's tid must equal (lower-case). */
    tenantID: z.string().optional(),
  })
  .refine((o) => (o.clientAuthentication === 'private_key_jwt') === (o.clientSecret === undefined), {
    message: 'clientSecret is present exactly when clientAuthentication is a client_secret method',
    path: ['clientSecret'],
  });

export type RenderedOIDC = z.infer<typeof renderedOIDC>;
