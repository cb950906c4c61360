// sp-server process entry. Flags (the Helm chart's names; older spellings in brackets are
// accepted too), or GATEHOUSE_SP_* environment variables:
//   --kubeconfig PATH              (default: in-cluster service account)
//   --namespace NS [--config-namespace]        where the operator's rendered config Secret lives
//   --config-secret NAME           its name (default gatehouse-sp-config; key config.json)
//   --config-file PATH             local use: the rendered config from a file instead of the Secret
//   --public-url URL               issuer / base URL the browser and the application see
//   --oauth-clients-file PATH [--clients-file]  OAuth clients (JSON or YAML)
//   --signing-key-file PATH [--signing-key]     ID-token signing key (PEM or JWK), given once per key:
//                                  an RSA key (RS256) and an EC P-256 key (ES256); --dev generates both
//   --redis-url URL                shared state for several replicas (password: REDIS_PASSWORD)
//   --listen-address HOST:PORT [--listen]       (default 0.0.0.0:8080)
//   --metrics-address HOST:PORT    /metrics, not on the public port (default 0.0.0.0:9090)
//   --internal-token-file PATH     bearer token of GET /internal/v1/activity/{namespace} on the metrics
//                                  listener (the portal's sign-in activity); without it that endpoint is 404
//   --trusted-proxies LIST|HOPS    proxies whose X-Forwarded-For names the client: CIDRs, or a hop count (default: none)
//   --rate-limits JSON             rate limits and pending-login caps over the defaults (sp-server/limits/settings.ts)
//   --jit-provisioning             allow creating ManagedUsers on first login (profiles opt in too)
//   --scim                         serve SCIM 2.0 at /scim/v2/{namespace}/
//   --status-interval-ms N         minimum spacing of recentFailures writes per profile (default 10000)
//   --no-kube --users-file PATH    local use without a cluster: ManagedUsers from a JSON/YAML list
//   --log-level LEVEL              (or LOG_LEVEL)
//   --validation-workers N         worker threads validating SAML responses (default: the cores; 0: on the event loop)
//   --acs-body-limit-bytes N       largest ACS POST body read (default 262144; 16384 to 1048576)
//   --allow-private-idp-addresses  let OIDC token and JWKS requests reach private, loopback and link-local addresses
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { buildApp } from './app.ts';
import { splitHostPort } from './http-util.ts';
import { FileConfigSource, SecretConfigSource, type ConfigSource } from './config/sources.ts';
import { ConfigStore } from './config/store.ts';
import { KubeClient } from '../kube/client.ts';
import { loadCredentials } from '../kube/kubeconfig.ts';
import { parseTrustedProxies } from './limits/client-address.ts';
import { parseRateLimitsFlag } from './limits/settings.ts';
import { startMetricsListener } from './metrics-listener.ts';
import { readInternalToken } from './activity/endpoint.ts';
import { RedisActivityStore } from './activity/redis-store.ts';
import { MemoryActivityStore } from './activity/store.ts';
import { createMetrics } from './metrics.ts';
import { ACS_BODY_LIMIT_BYTES, ACS_BODY_LIMIT_MAX_BYTES, ACS_BODY_LIMIT_MIN_BYTES } from './saml/acs-body-limit.ts';
import { loadClientsFile } from './oauth/clients.ts';
import { generateSigningKeys, loadSigningKeys } from './oauth/keys.ts';
import { MemoryStore, redisConnection, RedisStore, type StateStore } from './state/store.ts';
import { KubeStatusSink, MemoryStatusSink, type StatusSink } from './status/writer.ts';
import { KubeUserDirectory, StaticUserDirectory, loadUsersFile, type UserDirectory } from './users/directory.ts';
import { ManagedGroupCache } from './scim/groups.ts';

// The image build starts each process once with GATEHOUSE_LOAD_ONLY=1 to fill Node's module compile
// cache (hack/fill-compile-cache.sh): the imports above have loaded the main thread's module graph,
// and the validation threads' modules are loaded here so that their threads find them in the cache too.
if (process.env.GATEHOUSE_LOAD_ONLY === '1') {
  await Promise.all([import('./saml/thread-entry.ts'), import('./saml/validation-worker.ts')]);
  process.exit(0);
}

const env = (name: string) => process.env[`GATEHOUSE_SP_${name}`];
const { values: f } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    namespace: { type: 'string' },
    'config-namespace': { type: 'string' },
    'config-secret': { type: 'string' },
    'config-file': { type: 'string' },
    'public-url': { type: 'string' },
    'oauth-clients-file': { type: 'string' },
    'clients-file': { type: 'string' },
    'signing-key-file': { type: 'string', multiple: true },
    'signing-key': { type: 'string', multiple: true },
    'redis-url': { type: 'string' },
    'listen-address': { type: 'string' },
    listen: { type: 'string' },
    'metrics-address': { type: 'string' },
    'internal-token-file': { type: 'string' },
    'trusted-proxies': { type: 'string' },
    'rate-limits': { type: 'string' },
    'jit-provisioning': { type: 'boolean', default: false },
    scim: { type: 'boolean', default: false },
    'status-interval-ms': { type: 'string' },
    'no-kube': { type: 'boolean', default: false },
    'users-file': { type: 'string' },
    dev: { type: 'boolean', default: false },
    'log-level': { type: 'string' },
    'validation-workers': { type: 'string' },
    'acs-body-limit-bytes': { type: 'string' },
    'allow-private-idp-addresses': { type: 'boolean', default: false },
  },
  strict: true,
});

const flags = {
  kubeconfig: f.kubeconfig ?? env('KUBECONFIG') ?? process.env.KUBECONFIG,
  configNamespace: f.namespace ?? f['config-namespace'] ?? env('CONFIG_NAMESPACE') ?? process.env.POD_NAMESPACE ?? 'gatehouse-system',
  configSecret: f['config-secret'] ?? env('CONFIG_SECRET') ?? 'gatehouse-sp-config',
  configFile: f['config-file'] ?? env('CONFIG_FILE'),
  publicURL: f['public-url'] ?? env('PUBLIC_URL'),
  clientsFile: f['oauth-clients-file'] ?? f['clients-file'] ?? env('CLIENTS_FILE'),
  signingKeys: [...(f['signing-key-file'] ?? []), ...(f['signing-key'] ?? []), ...(env('SIGNING_KEY')?.split(',') ?? [])],
  redisURL: f['redis-url'] ?? env('REDIS_URL'),
  listen: f['listen-address'] ?? f.listen ?? env('LISTEN') ?? '0.0.0.0:8080',
  metricsAddress: f['metrics-address'] ?? env('METRICS_ADDRESS') ?? '0.0.0.0:9090',
  internalTokenFile: f['internal-token-file'] ?? env('INTERNAL_TOKEN_FILE'),
  trustedProxies: parseTrustedProxies(f['trusted-proxies'] ?? env('TRUSTED_PROXIES')),
  rateLimits: parseRateLimitsFlag(f['rate-limits'] ?? env('RATE_LIMITS')),
  jit: f['jit-provisioning'] || env('JIT_PROVISIONING') === 'true',
  scim: f.scim || env('SCIM') === 'true',
  statusIntervalMs: Number(f['status-interval-ms'] ?? env('STATUS_INTERVAL_MS') ?? '10000'),
  noKube: f['no-kube'],
  usersFile: f['users-file'] ?? env('USERS_FILE'),
  dev: f.dev || env('DEV') === 'true',
  logLevel: f['log-level'] ?? env('LOG_LEVEL') ?? process.env.LOG_LEVEL ?? 'info',
  validationWorkers: integerFlag('validation-workers', f['validation-workers'] ?? env('VALIDATION_WORKERS'), availableParallelism(), 0, 256),
  allowPrivateIdPAddresses: f['allow-private-idp-addresses'] || env('ALLOW_PRIVATE_IDP_ADDRESSES') === 'true',
  acsBodyLimitBytes: integerFlag('acs-body-limit-bytes', f['acs-body-limit-bytes'] ?? env('ACS_BODY_LIMIT_BYTES'), ACS_BODY_LIMIT_BYTES, ACS_BODY_LIMIT_MIN_BYTES, ACS_BODY_LIMIT_MAX_BYTES),
};

function integerFlag(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`);
  return n;
}

const logger = pino({ level: flags.logLevel, base: { component: 'sp-server' } });

async function main(): Promise<void> {
  const publicURL = flags.publicURL;
  if (!publicURL) throw new Error('--public-url is required');
  if (!flags.clientsFile) throw new Error('--oauth-clients-file is required');
  const clients = loadClientsFile(flags.clientsFile);
  let signingKeys;
  if (flags.signingKeys.length > 0) signingKeys = await loadSigningKeys(flags.signingKeys);
  else if (flags.dev) {
    logger.warn('dev mode: generated the ID-token signing keys; tokens do not survive a restart');
    signingKeys = await generateSigningKeys();
  } else throw new Error('--signing-key-file is required (or --dev to generate the keys)');
  if (!signingKeys.forAlg('RS256')) logger.warn('no RSA signing key: RS256, which OpenID Connect Discovery requires, is not offered');

  const metrics = createMetrics(true);
  const config = new ConfigStore(logger.child({ part: 'config' }), metrics);
  const store: StateStore = flags.redisURL ? new RedisStore(flags.redisURL, undefined, process.env.REDIS_PASSWORD) : new MemoryStore();
  // The limits' own connection fails fast: a slow Redis must not hold every request (they fall
  // back to per-replica counting instead).
  const limitsRedis = flags.redisURL ? redisConnection(flags.redisURL, process.env.REDIS_PASSWORD, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 250 }) : undefined;
  // Sign-in activity shares that fail-fast connection: a login never waits for its entry.
  const activity = limitsRedis ? new RedisActivityStore(limitsRedis, logger.child({ part: 'activity' })) : new MemoryActivityStore();
  const internalToken = flags.internalTokenFile ? readInternalToken(flags.internalTokenFile) : undefined;

  const kube = flags.noKube ? undefined : await KubeClient.create(await loadCredentials(flags.kubeconfig), { userAgent: 'gatehouse-sp-server' });
  let source: ConfigSource;
  if (flags.configFile) source = new FileConfigSource(flags.configFile, config, logger.child({ part: 'config' }));
  else if (kube) source = new SecretConfigSource(kube, flags.configNamespace, flags.configSecret, config, logger.child({ part: 'config' }));
  else throw new Error('--config-file is required with --no-kube');

  let users: UserDirectory & { start?: () => void; close?: () => Promise<void> };
  let status: StatusSink;
  if (kube) {
    users = new KubeUserDirectory(kube, logger.child({ part: 'managedusers' }));
    status = new KubeStatusSink(kube, logger.child({ part: 'status' }), metrics, flags.statusIntervalMs);
  } else {
    users = new StaticUserDirectory(flags.usersFile ? loadUsersFile(flags.usersFile) : []);
    status = new MemoryStatusSink();
  }
  if (flags.scim && !kube) throw new Error('--scim needs the Kubernetes API');
  // ManagedGroups for role mapping at login, from a watch indexed by member (no LIST per login).
  const groups = kube ? new ManagedGroupCache(kube, logger.child({ part: 'managedgroups' })) : undefined;
  source.start();
  users.start?.();
  groups?.start();

  const app = await buildApp({
    publicURL,
    config,
    users,
    clients,
    signingKeys,
    store,
    status,
    metrics,
    logger,
    jitProvisioning: flags.jit,
    validationWorkers: flags.validationWorkers,
    acsBodyLimitBytes: flags.acsBodyLimitBytes,
    allowPrivateIdPAddresses: flags.allowPrivateIdPAddresses,
    ...(kube ? { kube } : {}),
    scim: flags.scim,
    readiness: async () => ({ configSource: source.healthy || config.loaded, ...(groups ? { managedGroups: groups.healthy } : {}) }),
    caches: { config: source, managedusers: users, ...(groups ? { managedgroups: groups } : {}) },
    ...(groups ? { groups } : {}),
    rateLimits: flags.rateLimits,
    trustedProxies: flags.trustedProxies,
    ...(limitsRedis ? { limitsRedis } : {}),
    activity,
  });
  const [host, port] = splitHostPort(flags.listen);
  await app.listen({ host, port });
  const [metricsHost, metricsPort] = splitHostPort(flags.metricsAddress);
  const metricsListener = await startMetricsListener(metrics.registry, metricsHost, metricsPort, internalToken ? { store: activity, token: internalToken } : undefined);
  logger.info({ publicURL, listen: flags.listen, metrics: flags.metricsAddress, jit: flags.jit, scim: flags.scim, state: flags.redisURL ? 'redis' : 'memory', validationWorkers: flags.validationWorkers }, 'sp-server listening');

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await app.close();
    await metricsListener.close();
    await status.close();
    await source.close();
    await users.close?.();
    await groups?.close();
    await kube?.close();
    await store.close();
    limitsRedis?.disconnect();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'sp-server failed to start');
  process.exit(1);
});
