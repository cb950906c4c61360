// Prometheus metrics of one sp-server instance, every surface's in one registry (its own, not
// prom-client's global one, so tests can build several apps in one process).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics(defaults = false) {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry });
  return {
    registry,
    samlRejections: new Counter({
      name: 'gatehouse_saml_rejections_total',
      help: 'SAML responses (and logins) refused, by stable error code.',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    logins: new Counter({
      name: 'gatehouse_sso_logins_total',
      help: 'Completed SSO logins, by kind (login, test).',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    unsolicited: new Counter({
      name: 'gatehouse_saml_unsolicited_total',
      help: 'IdP-initiated responses turned into a fresh SP-initiated login.',
      registers: [registry],
    }),
    configReloads: new Counter({
      name: 'gatehouse_sp_config_reloads_total',
      help: 'Rendered config loads, by result (applied, invalid, unchanged).',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    configTimestamp: new Gauge({
      name: 'gatehouse_sp_config_applied_timestamp_seconds',
      help: 'When the config in use was applied.',
      registers: [registry],
    }),
    tokens: new Counter({
      name: 'gatehouse_oauth_token_requests_total',
      help: 'Token endpoint requests, by result (issued or the OAuth error code).',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'gatehouse_sp_rate_limited_total',
      help: 'Requests refused by a rate limit or a pending-login cap, by limit.',
      labelNames: ['limit'] as const,
      registers: [registry],
    }),
    statusWrites: new Counter({
      name: 'gatehouse_sp_status_writes_total',
      help: 'Server-side applies to SSOProfile status, by kind and result.',
      labelNames: ['kind', 'result'] as const,
      registers: [registry],
    }),
    scimRequests: new Counter({
      name: 'gatehouse_scim_requests_total',
      help: 'SCIM requests by resource, method and HTTP status.',
      labelNames: ['resource', 'method', 'status'] as const,
      registers: [registry],
    }),
    acsDuration: new Histogram({
      name: 'gatehouse_saml_acs_duration_seconds',
      help: 'Time spent handling an ACS request.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Something listed and watched from the API server, which may be synced or failing. */
export interface WatchedCache {
  readonly healthy: boolean;
}

/** gatehouse_sp_cache_synced: one series per watched input, read at scrape time. */
export function watchCacheHealth(metrics: Metrics, caches: Record<string, WatchedCache>): void {
  new Gauge({
    name: 'gatehouse_sp_cache_synced',
    help: 'Whether a watched input is synced (1) or failing to list (0).',
    labelNames: ['cache'] as const,
    registers: [metrics.registry],
    collect() {
      for (const [cache, watched] of Object.entries(caches)) this.set({ cache }, watched.healthy ? 1 : 0);
    },
  });
}

/** What the metrics read from the SAML validation worker pool at scrape time. */
export interface PoolGauges {
  readonly threads: number;
  readonly queueSize: number;
  readonly utilization: number;
}

/** gatehouse_sp_validation_*: the SAML validation worker pool (refusals when full: gatehouse_saml_rejections_total{code="SERVER_BUSY"}). */
export function validationPoolMetrics(metrics: Metrics, pool: PoolGauges): void {
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers: [metrics.registry], collect() { this.set(read()); } });
  gauge('gatehouse_sp_validation_workers', 'Worker threads validating SAML responses.', () => pool.threads);
  gauge('gatehouse_sp_validation_queue_size', 'SAML validations waiting for a worker thread.', () => pool.queueSize);
  gauge('gatehouse_sp_validation_utilization_ratio', 'Share of the validation pool\'s capacity spent validating since start (0 to 1).', () => pool.utilization);
}
