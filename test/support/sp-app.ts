// An in-process sp-server on a free loopback port with memory state, a fixed user list and a
// rendered config built from the SAML fixtures: the quickest real listening server for tests.
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { buildApp, type AppOptions } from '../../sp-server/app.ts';
import type { RenderedOrganization, RenderedSAMLProfile, SPConfig } from '../../crds/api/index.ts';
import { ConfigStore } from '../../sp-server/config/store.ts';
import type { RateLimitsInput } from '../../sp-server/limits/settings.ts';
import { createMetrics, type Metrics } from '../../sp-server/metrics.ts';
import { oauthClient, type OAuthClient, type OAuthClientInput } from '../../sp-server/oauth/clients.ts';
import { generateSigningKeys } from '../../sp-server/oauth/keys.ts';
import { MemoryStore, type StateStore } from '../../sp-server/state/store.ts';
import { MemoryStatusSink, type StatusSink } from '../../sp-server/status/writer.ts';
import { StaticUserDirectory, type UserRecord } from '../../sp-server/users/directory.ts';
import { freePort } from '../controlplane/controlplane.ts';
import { TEST_RATE_LIMITS } from './limits.ts';
import { testProfile } from './saml-fixtures.ts';

export function user(namespace: string, email: string, extra: Partial<UserRecord> = {}): UserRecord {
  const name = email.split('@')[0] as string;
  return {
    metadata: { name, namespace, uid: `uid-${namespace}-${name}` },
    namespace,
    name,
    uid: `uid-${namespace}-${name}`,
    email: email.toLowerCase(),
    active: true,
    roles: ['member'],
    ...extra,
  };
}

/** The acme organization with one profile "okta" whose SP URLs point at `base`. */
export function acmeConfig(base: string, profile: Partial<RenderedSAMLProfile> = {}, extraOrgs: RenderedOrganization[] = []): SPConfig {
  const p = testProfile({
    sp: {
      ...testProfile().sp,
      entityID: `${base}/saml/acme/okta`,
      acsURL: `${base}/saml/acme/okta/acs`,
      metadataURL: `${base}/saml/acme/okta/metadata`,
    },
    ...profile,
  });
  return {
    formatVersion: 1,
    organizations: [{ namespace: 'acme', verifiedDomains: ['acme.test'], profiles: [p] }, ...extraOrgs].sort((a, b) => a.namespace.localeCompare(b.namespace)),
  };
}

/** The application: a public client, RS256 ID tokens (the default), every scope allowed. */
export const APP_CLIENT: OAuthClient = oauthClient.parse({
  client_id: 'console',
  redirect_uris: ['http://127.0.0.1:1/callback'],
  initiate_login_uri: 'http://127.0.0.1:1/login/sso',
  idp_initiated_default: true,
});

// RSA key generation takes a while under load; one pair of keys serves every test app of a run.
let testKeys: ReturnType<typeof generateSigningKeys> | undefined;

export interface TestApp {
  app: FastifyInstance;
  base: string;
  config: ConfigStore;
  users: StaticUserDirectory;
  status: MemoryStatusSink;
  metrics: Metrics;
  store: StateStore;
  close(): Promise<void>;
}

export interface TestAppOptions {
  users?: UserRecord[];
  profile?: Partial<RenderedSAMLProfile>;
  extraOrgs?: RenderedOrganization[];
  store?: StateStore;
  status?: StatusSink;
  jitProvisioning?: boolean;
  clients?: OAuthClientInput[];
  app?: Partial<AppOptions>;
  /** Default: lifted (TEST_RATE_LIMITS); {} for the production defaults. */
  rateLimits?: RateLimitsInput;
  limitsRedis?: Redis;
  /** Listen on this port (several apps behind one public URL); default: a free one. */
  port?: number;
  /** The public URL; default http://127.0.0.1:PORT. */
  base?: string;
}

export async function startTestApp(o: TestAppOptions = {}): Promise<TestApp> {
  const port = o.port ?? (await freePort());
  const base = o.base ?? `http://127.0.0.1:${port}`;
  const logger = pino({ level: process.env.SP_TEST_LOG ?? 'silent' });
  const metrics = createMetrics();
  const config = new ConfigStore(logger, metrics);
  config.apply(acmeConfig(base, o.profile, o.extraOrgs));
  const users = new StaticUserDirectory(o.users ?? [user('acme', 'alice@acme.test')]);
  const status = new MemoryStatusSink();
  const store = o.store ?? new MemoryStore();
  const app = await buildApp({
    publicURL: base,
    config,
    users,
    clients: [APP_CLIENT, ...(o.clients ?? []).map((c) => oauthClient.parse(c))],
    signingKeys: await (testKeys ??= generateSigningKeys()),
    store,
    status: o.status ?? status,
    metrics,
    logger,
    ...(o.jitProvisioning !== undefined ? { jitProvisioning: o.jitProvisioning } : {}),
    rateLimits: o.rateLimits ?? TEST_RATE_LIMITS,
    ...(o.limitsRedis ? { limitsRedis: o.limitsRedis } : {}),
    ...o.app,
  });
  await app.listen({ host: '127.0.0.1', port });
  return { app, base, config, users, status, metrics, store, close: () => app.close() };
}
