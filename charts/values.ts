// The Helm chart's values, as one zod schema: `node crds/generate.ts` writes it to
// charts/gatehouse/values.schema.json, which Helm checks on install, upgrade, template and lint.
// It lives beside the chart (not inside, so the chart does not ship TypeScript) and not in
// crds/api: the values are how an admin installs Gatehouse, not the sso.gatehouse.dev API.
import { z } from 'zod';
import { DURATION_PATTERN } from '../crds/api/duration.ts';
import { ACS_BODY_LIMIT_MAX_BYTES, ACS_BODY_LIMIT_MIN_BYTES } from '../sp-server/saml/acs-body-limit.ts';
import { ID_TOKEN_ALGS } from '../sp-server/oauth/keys.ts';
import { SCOPES } from '../sp-server/oauth/scopes.ts';
import { rateLimitsSchema } from '../sp-server/limits/settings.ts';

export const VALUES_SCHEMA_PATH = 'charts/gatehouse/values.schema.json';

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

/** Anything Kubernetes defines (tolerations, affinity, peers): Helm passes it through as is. */
const kubeObject = z.looseObject({});
const stringMap = z.record(z.string(), z.string());
const port = z.int().min(1).max(65535);
const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
const quantities = z.record(z.string(), z.union([z.string(), z.number()]));

const goDuration = z.string().regex(new RegExp(DURATION_PATTERN)).meta({ description: 'Go duration, e.g. 720h' });

/** The pod-level settings the operator and the sp-server both take. */
const podSettings = {
  podAnnotations: stringMap.optional(),
  podLabels: stringMap.optional(),
  extraArgs: z.array(z.string().regex(/^--[a-z0-9-]+(=.*)?$/)).optional(),
  extraEnv: z
    .array(z.strictObject({ name: z.string().min(1), value: z.string().optional(), valueFrom: kubeObject.optional() }))
    .optional(),
  nodeSelector: stringMap.optional(),
  tolerations: z.array(kubeObject).optional(),
  affinity: kubeObject.optional(),
  topologySpreadConstraints: z.array(kubeObject).optional(),
  priorityClassName: z.string().optional(),
  podDisruptionBudget: z
    .strictObject({ minAvailable: z.union([z.int().min(0), z.string().regex(/^[0-9]+%$/)]).optional() })
    .optional(),
  resources: z
    .strictObject({ requests: quantities.optional(), limits: quantities.optional() })
    .optional()
    .meta({ description: 'corev1.ResourceRequirements' }),
  serviceAccount: z
    .strictObject({
      name: z.string().regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$/).max(253).optional(),
      annotations: stringMap.optional(),
    })
    .optional(),
};

const operator = z
  .strictObject({
    replicas: z.int().min(0).max(10).optional(),
    leaderElection: z.strictObject({ enabled: z.boolean().optional() }).optional(),
    logLevel: z.enum(LOG_LEVELS).optional(),
    dnsServers: z.array(z.string().regex(/^([0-9.]+|\[[0-9a-fA-F:]+\])(:[0-9]{1,5})?$/).meta({ description: 'IP[:port]' })).optional(),
    allowPrivateMetadataURLs: z.boolean().optional(),
    allowInsecureMetadataURLs: z.boolean().optional().meta({ description: 'Allow SSOProfile metadata URLs and OIDC issuers over plain http:// (test IdPs only)' }),
    // The CRDs' duration pattern: the operator parses both with the same parser.
    certificateExpiryWarning: goDuration.optional(),
    domainReverifyInterval: goDuration.optional(),
    domainVerificationGrace: goDuration.optional(),
    testLinkTTL: goDuration.optional().meta({ description: 'How long an SSOProfile test link works after it is issued (1s to 720h), e.g. 24h' }),
    metricsPort: port.optional(),
    healthPort: port.optional(),
    ...podSettings,
  })
  .meta({
    allOf: [
      {
        if: { properties: { replicas: { minimum: 2 } }, required: ['replicas'] },
        then: { properties: { leaderElection: { properties: { enabled: { const: true, description: 'more than one operator replica needs leader election' } } } } },
      },
    ],
  });

const oauthClient = z
  .strictObject({
    clientId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/),
    redirectUris: z
      .array(
        z
          .string()
          .regex(/^(https:\/\/|http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:[0-9]+)?\/|[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:\/)[^#\s]*$/)
          .meta({ description: 'absolute redirect URI: https, http only on loopback, or a private-use scheme (com.example.app:/cb); no fragment' }),
      )
      .min(1)
      .meta({ uniqueItems: true }),
    public: z.boolean(),
    clientSecretHash: z.string().min(16).optional().meta({ description: 'hash of the client secret, never the secret' }),
    idpInitiatedDefault: z.boolean().optional(),
    idTokenSignedResponseAlg: z.enum(ID_TOKEN_ALGS).optional().meta({ description: 'the ID-token signature algorithm (default RS256)' }),
    allowedScopes: z
      .array(z.enum(SCOPES))
      .optional()
      .meta({ description: 'the scopes the client may be granted (default: all); must include openid', contains: { const: 'openid' }, uniqueItems: true }),
    mintSetupLinks: z.boolean().optional().meta({ description: "may mint organizations' admin portal setup links (confidential clients only)" }),
  })
  .meta({
    allOf: [
      { if: { properties: { public: { const: false } } }, then: { required: ['clientSecretHash'] } },
      { if: { properties: { public: { const: true } } }, then: { not: { required: ['clientSecretHash'] } } },
      { if: { properties: { mintSetupLinks: { const: true } }, required: ['mintSetupLinks'] }, then: { properties: { public: { const: false } } } },
    ],
  });

const ingressSettings = z.strictObject({
  enabled: z.boolean().optional(),
  className: z.string().optional(),
  annotations: stringMap.optional(),
  host: z.string().regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$/).optional(),
  tls: z.strictObject({ enabled: z.boolean().optional(), secretName: z.string().optional() }).optional(),
});

const spServer = z.strictObject({
  replicas: z.int().min(0).max(100).optional(),
  logLevel: z.enum(LOG_LEVELS).optional(),
  port: z.int().min(1024).max(65535).optional(),
  metricsPort: z.int().min(1024).max(65535).optional(),
  trustedProxies: z
    .union([z.array(z.string().regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/)), z.int().min(0).max(10)])
    .optional()
    .meta({ description: 'addresses/CIDRs of the proxies whose X-Forwarded-For names the client, or a hop count' }),
  rateLimits: rateLimitsSchema.optional(),
  jitProvisioning: z.boolean().optional(),
  allowPrivateIdPAddresses: z.boolean().optional().meta({ description: 'let requests to OpenID Providers reach private, loopback and link-local addresses' }),
  acsBodyLimitBytes: z.int().min(ACS_BODY_LIMIT_MIN_BYTES).max(ACS_BODY_LIMIT_MAX_BYTES).optional(),
  validationWorkers: z.int().min(0).max(64).optional(),
  signingKey: z
    .strictObject({ existingSecret: z.string().optional(), key: z.string().regex(/^[-._a-zA-Z0-9]+$/), ecKey: z.string().regex(/^([-._a-zA-Z0-9]+)?$/).optional() })
    .optional(),
  oauthClients: z
    .array(oauthClient)
    .optional()
    // At most one client receives IdP-initiated logins.
    .meta({ maxContains: 1, contains: { properties: { idpInitiatedDefault: { const: true } }, required: ['idpInitiatedDefault'] }, minContains: 0 }),
  service: z
    .strictObject({ type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']).optional(), port: port.optional(), annotations: stringMap.optional() })
    .optional(),
  ...podSettings,
});

/** The admin portal (portal/main.ts): its own Deployment, ServiceAccount and RBAC. */
const portal = z.strictObject({
  enabled: z.boolean().optional(),
  replicas: z.int().min(0).max(20).optional(),
  publicURL: z
    .string()
    .regex(/^(https?:\/\/[^/?#\s]+(\/[^?#\s]*[^/?#\s])?)?$/)
    .optional()
    .meta({ description: "the portal's external http(s) URL without a trailing slash (required when enabled)" }),
  logLevel: z.enum(LOG_LEVELS).optional(),
  port: z.int().min(1024).max(65535).optional(),
  metricsPort: z.int().min(1024).max(65535).optional(),
  adminRoles: z.array(z.string().regex(/^[^,\s]+$/)).min(1).optional().meta({ description: 'roles (ManagedUser spec.roles or role mapping) that may administer their organization', uniqueItems: true }),
  setupLinkTTL: goDuration.optional().meta({ description: 'how long a setup link works (at most 168h), e.g. 24h' }),
  smtp: z
    .strictObject({
      url: z
        .string()
        .regex(/^(smtps?:\/\/([^:@/\s]+@)?[^:@/\s]+(:[0-9]{1,5})?\/?)?$/)
        .optional()
        .meta({ description: 'smtp://[user@]host[:port] (STARTTLS) or smtps://…; the password comes from existingSecret' }),
      from: z.string().optional(),
      existingSecret: z.string().optional(),
      passwordKey: z.string().regex(/^[-._a-zA-Z0-9]+$/).optional(),
    })
    .optional(),
  oidcClient: z
    .strictObject({
      existingSecret: z.string().regex(/^([a-z0-9]([-.a-z0-9]*[a-z0-9])?)?$/).max(253).optional().meta({ description: "a Secret with key client-secret: the portal's client secret at the sp-server, instead of a generated one" }),
      clientSecretHash: z.string().regex(/^(sha256:[0-9a-f]{64})?$/).optional().meta({ description: 'sha256:<hex> of the secret in existingSecret (the sp-server keeps only the hash)' }),
    })
    .optional(),
  internalToken: z
    .strictObject({
      existingSecret: z.string().regex(/^([a-z0-9]([-.a-z0-9]*[a-z0-9])?)?$/).max(253).optional().meta({ description: "a Secret with key token: the sp-server's internal activity endpoint's bearer token, instead of a generated one" }),
    })
    .optional(),
  service: z.strictObject({ type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']).optional(), port: port.optional(), annotations: stringMap.optional() }).optional(),
  ingress: ingressSettings.optional(),
  ...podSettings,
  serviceAccount: z
    .strictObject({
      create: z.boolean().optional(),
      name: z.string().regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$/).max(253).optional(),
      annotations: stringMap.optional(),
    })
    .optional(),
});

export const chartValues = z
  .strictObject({
    global: kubeObject.optional(),
    crds: z.strictObject({ enabled: z.boolean(), keep: z.boolean() }),
    nameOverride: z.string().max(40).optional(),
    fullnameOverride: z.string().max(40).optional(),
    commonLabels: stringMap.optional(),
    image: z.strictObject({
      repository: z.string().min(1),
      tag: z.string().optional(),
      digest: z.string().regex(/^(sha256:[a-f0-9]{64})?$/).optional(),
      pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']),
    }),
    imagePullSecrets: z.array(z.strictObject({ name: z.string().min(1) })).optional(),
    publicURL: z
      .string()
      .regex(/^https?:\/\/[^/?#\s]+(\/[^?#\s]*[^/?#\s])?$/)
      .meta({ description: 'http(s) URL without a trailing slash, query or fragment' }),
    podSecurityContext: z.strictObject({ runAsUser: z.int().min(1).optional(), runAsGroup: z.int().min(1).optional() }).optional(),
    rbac: z
      .strictObject({
        organizationNamespaces: z
          .strictObject({
            scope: z.enum(['Cluster', 'Namespaces']),
            namespaces: z.array(dnsLabel.max(63)).optional().meta({ uniqueItems: true }),
          })
          .optional(),
      })
      .optional(),
    operator,
    spServer,
    portal: portal.optional(),
    scim: z.strictObject({ enabled: z.boolean().optional() }).optional(),
    redis: z.strictObject({
      url: z
        .string()
        .regex(/^(rediss?:\/\/[^@\s]+)?$/)
        .optional()
        .meta({ description: 'redis:// or rediss:// URL without credentials (use existingSecret)' }),
      existingSecret: z.string().optional(),
      existingSecretPasswordKey: z.string().min(1).optional(),
    }),
    ingress: ingressSettings.optional(),
    metrics: z.strictObject({ podAnnotations: z.boolean().optional() }).optional(),
    networkPolicy: z
      .strictObject({
        enabled: z.boolean().optional(),
        spServerFrom: z.array(kubeObject).optional(),
        metricsFrom: z.array(kubeObject).optional(),
        apiServerPorts: z.array(port).min(1).optional(),
        metadataPorts: z.array(port).optional(),
        oidcPorts: z.array(port).optional(),
        redisPort: port.optional(),
        portalFrom: z.array(kubeObject).optional(),
      })
      .optional(),
  })
  .meta({
    title: 'Gatehouse chart values',
    // Rules across values, in JSON Schema because Helm is what enforces them.
    allOf: [
      {
        description: 'several sp-server replicas share login state in redis',
        if: { properties: { spServer: { properties: { replicas: { minimum: 2 } }, required: ['replicas'] } } },
        then: { properties: { redis: { properties: { url: { minLength: 1 } }, required: ['url'] } } },
      },
      {
        description: 'the Ingress serves publicURL: it must be https',
        if: { properties: { ingress: { properties: { tls: { properties: { enabled: { const: true } } } }, required: ['tls'] } }, required: ['ingress'] },
        then: { properties: { publicURL: { pattern: '^https://' } } },
      },
      {
        description: 'rbac.organizationNamespaces.scope Namespaces needs the namespaces',
        if: { properties: { rbac: { properties: { organizationNamespaces: { properties: { scope: { const: 'Namespaces' } } } } } } },
        then: { properties: { rbac: { properties: { organizationNamespaces: { properties: { namespaces: { minItems: 1 } }, required: ['namespaces'] } } } } },
      },
      {
        description: 'the admin portal needs its public URL',
        if: { properties: { portal: { properties: { enabled: { const: true } }, required: ['enabled'] } }, required: ['portal'] },
        then: { properties: { portal: { properties: { publicURL: { minLength: 1 } }, required: ['publicURL'] } } },
      },
      {
        description: 'several portal replicas share sessions in redis',
        if: { properties: { portal: { properties: { enabled: { const: true }, replicas: { minimum: 2 } }, required: ['enabled', 'replicas'] } }, required: ['portal'] },
        then: { properties: { redis: { properties: { url: { minLength: 1 } }, required: ['url'] } } },
      },
      {
        description: "the portal's Ingress serves portal.publicURL: it must be https",
        if: { properties: { portal: { properties: { ingress: { properties: { tls: { properties: { enabled: { const: true } } } }, required: ['tls'] } }, required: ['ingress'] } }, required: ['portal'] },
        then: { properties: { portal: { properties: { publicURL: { pattern: '^https://' } } } } },
      },
      {
        description: 'portal.oidcClient.existingSecret needs portal.oidcClient.clientSecretHash',
        if: { properties: { portal: { properties: { oidcClient: { properties: { existingSecret: { minLength: 1 } }, required: ['existingSecret'] } }, required: ['oidcClient'] } }, required: ['portal'] },
        then: { properties: { portal: { properties: { oidcClient: { properties: { clientSecretHash: { minLength: 1 } }, required: ['clientSecretHash'] } } } } },
      },
      {
        description: 'portal.smtp.url needs portal.smtp.from',
        if: { properties: { portal: { properties: { smtp: { properties: { url: { minLength: 1 } }, required: ['url'] } }, required: ['smtp'] } }, required: ['portal'] },
        then: { properties: { portal: { properties: { smtp: { properties: { from: { minLength: 3 } }, required: ['from'] } } } } },
      },
    ],
  });

export type ChartValues = z.infer<typeof chartValues>;

type JSONSchema = { [key: string]: unknown };

const isRecord = (value: unknown): value is JSONSchema => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Drops what zod adds that says nothing to Helm, so the file reads like a hand-written schema. */
function tidy(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(tidy);
  if (!isRecord(node)) return node;
  const out: JSONSchema = {};
  for (const [key, value] of Object.entries(node)) {
    // zod bounds z.int() by the safe-integer range; the chart never needed that bound.
    if ((key === 'minimum' || key === 'maximum') && typeof value === 'number' && Math.abs(value) >= Number.MAX_SAFE_INTEGER) continue;
    // JSON object keys are strings anyway.
    if (key === 'propertyNames' && isRecord(value) && value.type === 'string' && Object.keys(value).length === 1) continue;
    // A loose object with no known keys is simply an object.
    if ((key === 'properties' || key === 'additionalProperties') && isRecord(value) && Object.keys(value).length === 0) continue;
    // RegExp.source escapes `/`; the escape means the same to every regex dialect, and is noise.
    out[key] = key === 'pattern' && typeof value === 'string' ? value.replaceAll('\\/', '/') : tidy(value);
  }
  return out;
}

/** The chart's values.schema.json, byte for byte. */
export function renderValuesSchema(): string {
  const schema = z.toJSONSchema(chartValues, { target: 'draft-2020-12', io: 'input', unrepresentable: 'throw' });
  return JSON.stringify(tidy(schema), null, 2) + '\n';
}
