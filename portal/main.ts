// Portal process entry. Flags (the Helm chart's names), or GATEHOUSE_PORTAL_* environment variables:
//   --kubeconfig PATH                (default: in-cluster service account)
//   --public-url URL                 the portal's external URL (required)
//   --listen-address HOST:PORT       (default 0.0.0.0:8080)
//   --metrics-address HOST:PORT      /metrics, /healthz, /readyz (default 0.0.0.0:9090)
//   --gatehouse-namespace NS         where the setup links' ConfigMap lives (default $POD_NAMESPACE)
//   --setup-links-configmap NAME     (default gatehouse-portal-setup-links)
//   --setup-link-ttl DURATION        default lifetime of a setup link (default 24h, at most 168h)
//   --oauth-clients-file PATH        the sp-server's OAuth clients; those with mintSetupLinks may mint links
//   --sp-server-url URL              the sp-server's public URL (default: the OIDC issuer)
//   --oidc-issuer URL                the sp-server's public URL: admins sign in through Gatehouse
//   --oidc-client-id ID              (default gatehouse-portal)
//   --oidc-client-secret-file PATH
//   --allow-insecure-issuer          development: an http:// issuer
//   --allow-insecure-metadata-urls  development: http:// IdP metadata URLs in SSO connections
//   --admin-roles LIST               roles that administer their organization (default admin)
//   --redis-url URL                  sessions shared by several replicas (password: REDIS_PASSWORD)
//   --smtp-url URL --smtp-from ADDR  email for test links (password: SMTP_PASSWORD)
//   --activity-url URL               the sp-server's metrics listener (sign-in activity)
//   --internal-token-file PATH       the bearer token for it
//   --log-level LEVEL
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { KubeClient } from '../kube/client.ts';
import { loadCredentials } from '../kube/kubeconfig.ts';
import { splitHostPort } from '../sp-server/http-util.ts';
import { loadClientsFile } from '../sp-server/oauth/clients.ts';
import { MemoryStore, RedisStore, type StateStore } from '../sp-server/state/store.ts';
import { HTTPActivitySource } from './activity-client.ts';
import { buildPortal } from './app.ts';
import type { PortalContext } from './context.ts';
import { smtpMailer } from './mailer.ts';
import { durationMs, portalOptions } from './options.ts';
import { startProbeListener } from './probes.ts';
import { SessionStore } from './session/sessions.ts';
import { SetupLinks } from './setup-links/links.ts';

// The image build starts each process once with GATEHOUSE_LOAD_ONLY=1 to fill Node's module compile
// cache (hack/fill-compile-cache.sh): the imports above have loaded the whole module graph by now.
if (process.env.GATEHOUSE_LOAD_ONLY === '1') process.exit(0);

const env = (name: string) => process.env[`GATEHOUSE_PORTAL_${name}`];
const { values: f } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    'public-url': { type: 'string' },
    'listen-address': { type: 'string' },
    'metrics-address': { type: 'string' },
    'gatehouse-namespace': { type: 'string' },
    'setup-links-configmap': { type: 'string' },
    'setup-link-ttl': { type: 'string' },
    'oauth-clients-file': { type: 'string' },
    'sp-server-url': { type: 'string' },
    'oidc-issuer': { type: 'string' },
    'oidc-client-id': { type: 'string' },
    'oidc-client-secret-file': { type: 'string' },
    'allow-insecure-issuer': { type: 'boolean', default: false },
    'allow-insecure-metadata-urls': { type: 'boolean', default: false },
    'admin-roles': { type: 'string' },
    'redis-url': { type: 'string' },
    'smtp-url': { type: 'string' },
    'smtp-from': { type: 'string' },
    'activity-url': { type: 'string' },
    'internal-token-file': { type: 'string' },
    'log-level': { type: 'string' },
  },
  strict: true,
});

const read = (path: string | undefined) => (path ? readFileSync(path, 'utf8').trim() : undefined);
const logger = pino({ level: f['log-level'] ?? env('LOG_LEVEL') ?? process.env.LOG_LEVEL ?? 'info', base: { component: 'portal' } });

async function main(): Promise<void> {
  const issuer = f['oidc-issuer'] ?? env('OIDC_ISSUER');
  const smtpURL = f['smtp-url'] ?? env('SMTP_URL');
  const activityURL = f['activity-url'] ?? env('ACTIVITY_URL');
  const ttl = f['setup-link-ttl'] ?? env('SETUP_LINK_TTL');
  const options = portalOptions.parse({
    publicURL: f['public-url'] ?? env('PUBLIC_URL'),
    listenAddress: f['listen-address'] ?? env('LISTEN_ADDRESS') ?? '0.0.0.0:8080',
    metricsAddress: f['metrics-address'] ?? env('METRICS_ADDRESS') ?? '0.0.0.0:9090',
    gatehouseNamespace: f['gatehouse-namespace'] ?? env('GATEHOUSE_NAMESPACE') ?? process.env.POD_NAMESPACE,
    ...(f['setup-links-configmap'] ? { setupLinksConfigMap: f['setup-links-configmap'] } : {}),
    ...(ttl ? { setupLinkTTLMs: durationMs(ttl) } : {}),
    spServerURL: f['sp-server-url'] ?? env('SP_SERVER_URL') ?? issuer,
    clientsFile: f['oauth-clients-file'] ?? env('OAUTH_CLIENTS_FILE'),
    ...(issuer
      ? { oidc: { issuer, clientID: f['oidc-client-id'] ?? env('OIDC_CLIENT_ID') ?? 'gatehouse-portal', clientSecret: read(f['oidc-client-secret-file'] ?? env('OIDC_CLIENT_SECRET_FILE')) ?? '', allowInsecureIssuer: f['allow-insecure-issuer'] } }
      : {}),
    allowInsecureMetadataURLs: f['allow-insecure-metadata-urls'] || env('ALLOW_INSECURE_METADATA_URLS') === 'true',
    ...(f['admin-roles'] ?? env('ADMIN_ROLES') ? { adminRoles: (f['admin-roles'] ?? env('ADMIN_ROLES') ?? '').split(',').map((r) => r.trim()).filter(Boolean) } : {}),
    redisURL: f['redis-url'] ?? env('REDIS_URL'),
    redisPassword: process.env.REDIS_PASSWORD || undefined,
    ...(smtpURL ? { smtp: { url: smtpURL, from: f['smtp-from'] ?? env('SMTP_FROM') ?? '', password: process.env.SMTP_PASSWORD || undefined } } : {}),
    ...(activityURL ? { activity: { url: activityURL, token: read(f['internal-token-file'] ?? env('INTERNAL_TOKEN_FILE')) ?? '' } } : {}),
  });
  const kube = await KubeClient.create(await loadCredentials(f.kubeconfig ?? env('KUBECONFIG') ?? process.env.KUBECONFIG), { userAgent: 'gatehouse-portal' });
  const state: StateStore = options.redisURL ? new RedisStore(options.redisURL, 'gatehouse:portal:', options.redisPassword) : new MemoryStore(50_000);
  const clients = options.clientsFile ? loadClientsFile(options.clientsFile) : [];
  const ctx: PortalContext = {
    options,
    kube,
    log: logger,
    state,
    sessions: new SessionStore(state, options.sessionIdleMs, options.sessionMaxMs),
    setupLinks: new SetupLinks(kube, { namespace: options.gatehouseNamespace, configMap: options.setupLinksConfigMap, publicURL: options.publicURL }),
    linkMinters: new Map(clients.filter((c) => c.mint_setup_links).map((c) => [c.client_id, c])),
    mailer: options.smtp ? smtpMailer(options.smtp) : undefined,
    activity: options.activity ? new HTTPActivitySource(options.activity.url, options.activity.token) : undefined,
  };
  const app = await buildPortal(ctx);
  const [host, port] = splitHostPort(options.listenAddress);
  await app.listen({ host, port });
  const [probeHost, probePort] = splitHostPort(options.metricsAddress);
  const probes = await startProbeListener(probeHost, probePort, async () => (await state.ping()) && (await ctx.setupLinks.list().then(() => true, () => false)));
  logger.info({ publicURL: options.publicURL, listen: options.listenAddress, metrics: options.metricsAddress, signIn: !!options.oidc, smtp: !!options.smtp, activity: !!options.activity, sessions: options.redisURL ? 'redis' : 'memory' }, 'portal listening');

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => process.exit(1), 10_000).unref();
    await app.close();
    await probes.close();
    await state.close();
    await kube.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'portal failed to start');
  process.exit(1);
});
