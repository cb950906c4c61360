// sp-server process entry. Flags (or GATEHOUSE_SP_* environment variables):
//   --kubeconfig PATH           (default: in-cluster service account)
//   --config-namespace NS --config-secret NAME   the operator's rendered config Secret (key config.json)
//   --config-file PATH          local use: the rendered config from a file instead of the Secret
//   --public-url URL            issuer / base URL the browser and the application see
//   --clients-file PATH         OAuth clients (JSON or YAML)
//   --signing-key PATH          ID-token signing key (PEM or JWK); --dev generates one
//   --redis-url URL             shared state for several replicas (default: process memory)
//   --listen HOST:PORT          (default 0.0.0.0:8080)
//   --status-interval-ms N      minimum spacing of recentFailures writes per profile (default 10000)
//   --no-kube --users-file PATH local use without a cluster: ManagedUsers from a JSON/YAML list
import { parseArgs } from 'node:util';
import pino from 'pino';
import { Gauge } from 'prom-client';
import { buildApp } from './app.ts';
import { FileConfigSource, SecretConfigSource, type ConfigSource } from './config/sources.ts';
import { ConfigStore } from './config/store.ts';
import { KubeClient } from './kube/client.ts';
import { createMetrics } from './metrics.ts';
import { loadClientsFile } from './oauth/clients.ts';
import { generateSigningKey, loadSigningKey } from './oauth/keys.ts';
import { MemoryStore, RedisStore, type StateStore } from './state/store.ts';
import { KubeStatusSink, MemoryStatusSink, type StatusSink } from './status/writer.ts';
import { KubeUserDirectory, StaticUserDirectory, loadUsersFile, type UserDirectory } from './users/directory.ts';

const env = (name: string) => process.env[`GATEHOUSE_SP_${name}`];
const { values: flags } = parseArgs({
  options: {
    kubeconfig: { type: 'string', default: env('KUBECONFIG') ?? process.env.KUBECONFIG },
    'config-namespace': { type: 'string', default: env('CONFIG_NAMESPACE') ?? process.env.POD_NAMESPACE ?? 'gatehouse-system' },
    'config-secret': { type: 'string', default: env('CONFIG_SECRET') ?? 'gatehouse-sp-config' },
    'config-file': { type: 'string', default: env('CONFIG_FILE') },
    'public-url': { type: 'string', default: env('PUBLIC_URL') },
    'clients-file': { type: 'string', default: env('CLIENTS_FILE') },
    'signing-key': { type: 'string', default: env('SIGNING_KEY') },
    'redis-url': { type: 'string', default: env('REDIS_URL') },
    listen: { type: 'string', default: env('LISTEN') ?? '0.0.0.0:8080' },
    'status-interval-ms': { type: 'string', default: env('STATUS_INTERVAL_MS') ?? '10000' },
    'no-kube': { type: 'boolean', default: false },
    'users-file': { type: 'string', default: env('USERS_FILE') },
    dev: { type: 'boolean', default: env('DEV') === 'true' },
    'log-level': { type: 'string', default: env('LOG_LEVEL') ?? 'info' },
  },
  strict: true,
});

const logger = pino({ level: flags['log-level'], base: { component: 'sp-server' } });

async function main(): Promise<void> {
  const publicURL = flags['public-url'];
  if (!publicURL) throw new Error('--public-url is required');
  if (!flags['clients-file']) throw new Error('--clients-file is required');
  const clients = loadClientsFile(flags['clients-file']);
  let signingKey;
  if (flags['signing-key']) signingKey = await loadSigningKey(flags['signing-key']);
  else if (flags.dev) {
    logger.warn('dev mode: generated an ID-token signing key; tokens do not survive a restart');
    signingKey = await generateSigningKey();
  } else throw new Error('--signing-key is required (or --dev to generate one)');

  const metrics = createMetrics(true);
  const config = new ConfigStore(logger.child({ part: 'config' }), metrics);
  const store: StateStore = flags['redis-url'] ? new RedisStore(flags['redis-url']) : new MemoryStore();

  const kube = flags['no-kube'] ? undefined : flags.kubeconfig ? KubeClient.fromFileOrCluster(flags.kubeconfig) : KubeClient.fromFileOrCluster();
  let source: ConfigSource;
  if (flags['config-file']) source = new FileConfigSource(flags['config-file'], config, logger.child({ part: 'config' }));
  else if (kube) source = new SecretConfigSource(kube, flags['config-namespace'], flags['config-secret'], config, logger.child({ part: 'config' }));
  else throw new Error('--config-file is required with --no-kube');

  let users: UserDirectory & { start?: () => void; close?: () => Promise<void>; waitForSync?: (ms: number) => Promise<boolean> };
  let status: StatusSink;
  if (kube) {
    users = new KubeUserDirectory(kube, logger.child({ part: 'managedusers' }));
    status = new KubeStatusSink(kube, logger.child({ part: 'status' }), metrics, Number(flags['status-interval-ms']));
  } else {
    users = new StaticUserDirectory(flags['users-file'] ? loadUsersFile(flags['users-file']) : []);
    status = new MemoryStatusSink();
  }
  source.start();
  users.start?.();
  new Gauge({
    name: 'gatehouse_sp_cache_synced',
    help: 'Whether a watched input is synced (1) or failing to list (0).',
    labelNames: ['cache'] as const,
    registers: [metrics.registry],
    collect() {
      this.set({ cache: 'config' }, source.healthy ? 1 : 0);
      this.set({ cache: 'managedusers' }, users.healthy ? 1 : 0);
    },
  });

  const app = await buildApp({
    publicURL,
    config,
    users,
    clients,
    signingKey,
    store,
    status,
    metrics,
    logger,
    readiness: async () => ({ configSource: source.healthy || config.loaded }),
  });
  const [host, port] = splitHostPort(flags.listen);
  await app.listen({ host, port });

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await app.close();
    await status.close();
    await source.close();
    await users.close?.();
    await store.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

function splitHostPort(s: string): [string, number] {
  const i = s.lastIndexOf(':');
  return [s.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0', Number(s.slice(i + 1))];
}

main().catch((err: unknown) => {
  logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'sp-server failed to start');
  process.exit(1);
});
