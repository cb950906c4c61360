// The sp-server as a fastify application: one encapsulated plugin per surface — OAuth/OIDC and
// the login-methods API toward the application, SAML and OIDC toward the customers' IdPs, SCIM toward
// their directories, and ops — sharing one context and one metrics registry. main.ts wires it to
// Kubernetes, Redis and files; tests build it directly.
import formbody from '@fastify/formbody';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import type { KubeClient } from '../kube/client.ts';
import { registerAssets } from '../ui/assets.ts';
import { MemoryActivityStore, type ActivityStore } from './activity/store.ts';
import type { ConfigStore } from './config/store.ts';
import type { AppContext, Lifetimes, Validator } from './context.ts';
import { htmlErrorHandler } from './error-handlers.ts';
import { parseForm } from './form-body.ts';
import { limitBackends } from './limits/backends.ts';
import { trustProxyOption, type TrustedProxies } from './limits/client-address.ts';
import { installRateLimits } from './limits/rate-limits.ts';
import { resolveRateLimits, type RateLimitsInput } from './limits/settings.ts';
import { createMetrics, validationPoolMetrics, watchCacheHealth, type Metrics, type WatchedCache } from './metrics.ts';
import type { OAuthClient } from './oauth/clients.ts';
import type { SigningKeys } from './oauth/keys.ts';
import { OIDCUpstreams } from './oidc/upstreams.ts';
import { loginMethodsSurface } from './routes/login-methods.ts';
import { oauthSurface } from './routes/oauth.ts';
import { oidcSurface } from './routes/oidc.ts';
import { opsSurface } from './routes/ops.ts';
import { samlSurface } from './routes/saml.ts';
import { ACS_BODY_LIMIT_BYTES } from './saml/acs-body-limit.ts';
import { validateSamlResponse } from './saml/validate.ts';
import { createValidationPool } from './saml/validation-pool.ts';
import { kubeGroupSource, type GroupSource } from './scim/groups.ts';
import { SCIM_PREFIX, scimPlugin } from './scim/plugin.ts';
import { tokenVerifierFromConfig, verifiedDomainsFromConfig } from './scim/token.ts';
import type { StateStore } from './state/store.ts';
import { MemoryStatusSink, type StatusSink } from './status/writer.ts';
import type { UserDirectory } from './users/directory.ts';

export interface AppOptions {
  /** The public base URL (OIDC issuer), without trailing slash. */
  publicURL: string;
  config: ConfigStore;
  users: UserDirectory;
  clients: OAuthClient[];
  signingKeys: SigningKeys;
  store: StateStore;
  status?: StatusSink;
  /** The one registry every surface's metrics go to; default: a fresh one without process metrics. */
  metrics?: Metrics;
  logger?: Logger;
  /** Replaces the SAML validator (unit tests of the routing around it). */
  validate?: Validator;
  /** Worker threads for SAML validation (closed with the app); 0 or absent: on the event loop. main.ts defaults to the cores. */
  validationWorkers?: number;
  /** The ACS POST body limit; default ACS_BODY_LIMIT_BYTES. */
  acsBodyLimitBytes?: number;
  lifetimes?: Partial<Lifetimes>;
  readiness?: () => Promise<Record<string, boolean>>;
  /** Watched inputs reported by gatehouse_sp_cache_synced, by name. */
  caches?: Record<string, WatchedCache>;
  /** Whether this server may create ManagedUsers (JIT); profiles opt in as well. Default true. */
  jitProvisioning?: boolean;
  /** The API server; ManagedGroups for role mapping are read through it, and SCIM writes through it. */
  kube?: KubeClient;
  /** Where to find ManagedGroups for role mapping; default: through `kube`, without it the assertion's groups only. */
  groups?: GroupSource;
  /** Serve SCIM 2.0 at /scim/v2/{namespace}/ (needs `kube`), with the tokens of the rendered config. */
  scim?: boolean;
  /** Rate limits and pending-login caps over the defaults of limits/settings.ts. */
  rateLimits?: RateLimitsInput;
  /** Where the limits count, shared by the replicas; default: this process's memory. */
  limitsRedis?: Redis;
  /** Proxies whose X-Forwarded-For names the client; default: none (the socket's peer is the client). */
  trustedProxies?: TrustedProxies;
  /** Let OIDC token and JWKS requests reach private, loopback and link-local addresses (default false). */
  allowPrivateIdPAddresses?: boolean;
  /** Where sign-in activity goes; default: this process's memory. */
  activity?: ActivityStore;
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const issuer = options.publicURL.replace(/\/+$/, '');
  const groups = options.groups ?? (options.kube ? kubeGroupSource(options.kube) : undefined);
  const metrics = options.metrics ?? createMetrics();
  if (options.caches) watchCacheHealth(metrics, options.caches);
  const lifetimes = { pendingMs: 10 * 60_000, codeMs: 60_000, tokenSeconds: 600, ...options.lifetimes };
  const rateLimits = resolveRateLimits(options.rateLimits);
  const limits = limitBackends(rateLimits, lifetimes.pendingMs, logger, options.limitsRedis);
  const pool = options.validate === undefined && (options.validationWorkers ?? 0) > 0 ? createValidationPool({ threads: options.validationWorkers as number }) : undefined;
  if (pool) validationPoolMetrics(metrics, pool);
  const ctx: AppContext = {
    issuer,
    secureCookies: issuer.startsWith('https://'),
    config: options.config,
    users: options.users,
    clients: new Map(options.clients.map((c) => [c.client_id, c])),
    signingKeys: options.signingKeys,
    store: options.store,
    status: options.status ?? new MemoryStatusSink(),
    metrics,
    logger,
    validate: options.validate ?? pool?.validate ?? validateSamlResponse,
    acsBodyLimitBytes: options.acsBodyLimitBytes ?? ACS_BODY_LIMIT_BYTES,
    lifetimes,
    pendingLogins: limits.pendingLogins,
    readiness: options.readiness ?? (async () => ({})),
    jitProvisioning: options.jitProvisioning ?? true,
    ...(groups ? { groups } : {}),
    oidc: new OIDCUpstreams({ allowPrivate: options.allowPrivateIdPAddresses ?? false }),
    activity: options.activity ?? new MemoryActivityStore(),
  };

  options.config.onChange(() => ctx.oidc.retain((namespace, profile) => options.config.profile(namespace, profile) !== undefined));

  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    trustProxy: trustProxyOption(options.trustedProxies ?? false),
    bodyLimit: 1024 * 1024,
    // Per-request access logs are left to the ingress; the login path logs its own decisions.
    logController: new LogController({ disableRequestLogging: true }),
  });
  if (pool) app.addHook('onClose', () => pool.close());
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(formbody, { parser: parseForm });
  // Browsers get a page; the JSON surfaces (login-methods, token, userinfo, SCIM) set their own.
  app.setErrorHandler(htmlErrorHandler);
  // Before the surfaces: the limits attach to their routes as those are declared.
  installRateLimits(app, ctx, rateLimits, limits.counters);

  // The end-user pages' stylesheet and script, from this origin (the CSP allows nothing else).
  registerAssets(app);
  await app.register(oauthSurface, { ctx });
  await app.register(loginMethodsSurface, { ctx });
  await app.register(samlSurface, { ctx });
  await app.register(oidcSurface, { ctx });
  if (options.scim) {
    if (!options.kube) throw new Error('SCIM needs the Kubernetes API');
    const current = () => options.config.current ?? undefined;
    await app.register(scimPlugin, { prefix: SCIM_PREFIX, kube: options.kube, tokenVerifier: tokenVerifierFromConfig(current), verifiedDomains: verifiedDomainsFromConfig(current), logger: app.log, metrics });
  }
  await app.register(opsSurface, { ctx });
  return app;
}
