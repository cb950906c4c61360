// Prometheus metrics of the operator, on their own registry so tests can run several operators.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WorkQueueMetricsSink } from './queue.ts';

/** client-go's buckets: 10 ns to 10 s, by factors of ten. */
const WORKQUEUE_BUCKETS = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10];

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconcileTotal = new Counter({
    name: 'gatehouse_operator_reconcile_total',
    help: 'Reconciliations by kind and result (success, error, requeue).',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'gatehouse_operator_reconcile_errors_total',
    help: 'Reconciliations that failed and were re-queued with backoff.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'gatehouse_operator_reconcile_duration_seconds',
    help: 'Time spent in one reconciliation.',
    labelNames: ['kind'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'gatehouse_operator_workqueue_depth',
    help: 'Keys waiting in the work queue.',
    registers: [this.registry],
  });
  readonly apiRequests = new Counter({
    name: 'gatehouse_operator_api_requests_total',
    help: 'Requests sent to the Kubernetes API server, by verb and HTTP code (0 = no answer).',
    labelNames: ['verb', 'code'] as const,
    registers: [this.registry],
  });
  readonly informerHealthy = new Gauge({
    name: 'gatehouse_operator_informer_healthy',
    help: '1 when the informer is synced and watching.',
    labelNames: ['informer'] as const,
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'gatehouse_operator_leader',
    help: '1 while this replica holds the leader Lease.',
    registers: [this.registry],
  });
  readonly configRenders = new Counter({
    name: 'gatehouse_operator_config_writes_total',
    help: 'Writes of the rendered SP config Secret.',
    registers: [this.registry],
  });
  readonly enforcementDegraded = new Gauge({
    name: 'gatehouse_operator_enforcement_degraded',
    help: '1 while an SSOProfile holds SSO enforcement (passwords refused) but SSO sign-in is failing (condition Degraded); 0 while its enforcement is healthy.',
    labelNames: ['namespace', 'profile'] as const,
    registers: [this.registry],
  });
  readonly metadataFetches = new Counter({
    name: 'gatehouse_operator_metadata_fetches_total',
    help: 'IdP metadata URL and OIDC discovery fetches by result (updated, not_modified, error, refused: not fetched by policy, rejected: fetched but not accepted).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  /** client-go's work-queue metrics (names as in k8s.io/client-go/util/workqueue), by queue. */
  readonly workqueue = {
    adds: new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by the work queue.', labelNames: ['name'] as const, registers: [this.registry] }),
    depth: new Gauge({ name: 'workqueue_depth', help: 'Current depth of the work queue.', labelNames: ['name'] as const, registers: [this.registry] }),
    queueDuration: new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds a key stays in the work queue before being handed to a worker.',
      labelNames: ['name'] as const,
      buckets: WORKQUEUE_BUCKETS,
      registers: [this.registry],
    }),
    workDuration: new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing a key from the work queue takes.',
      labelNames: ['name'] as const,
      buckets: WORKQUEUE_BUCKETS,
      registers: [this.registry],
    }),
    retries: new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries (rate-limited re-adds after a failure) handled by the work queue.', labelNames: ['name'] as const, registers: [this.registry] }),
  };

  /** What one named queue reports to the workqueue_* metrics. */
  workqueueSink(name: string): WorkQueueMetricsSink {
    // Bound once: the queue reports several times per key, and looking a label set up each time
    // was a visible part of the operator's CPU per enforced user.
    const { adds, depth, queueDuration, workDuration, retries } = this.workqueue;
    const [added, depthOf, waited, worked, retried] = [adds.labels({ name }), depth.labels({ name }), queueDuration.labels({ name }), workDuration.labels({ name }), retries.labels({ name })];
    return {
      added: () => added.inc(),
      depth: (n) => depthOf.set(n),
      waited: (seconds) => waited.observe(seconds),
      worked: (seconds) => worked.observe(seconds),
      retried: () => retried.inc(),
    };
  }

  private readonly reconcileChildren = new Map<string, { duration: { observe(v: number): void }; results: Map<string, { inc(): void }> }>();

  /** One finished reconciliation: its duration and result (label children bound once per kind and result, as below). */
  countReconcile(kind: string, result: 'success' | 'requeue' | 'error', seconds: number): void {
    let c = this.reconcileChildren.get(kind);
    if (!c) this.reconcileChildren.set(kind, (c = { duration: this.reconcileDuration.labels({ kind }), results: new Map() }));
    let r = c.results.get(result);
    if (!r) c.results.set(result, (r = this.reconcileTotal.labels({ kind, result })));
    r.inc();
    c.duration.observe(seconds);
    if (result === 'error') this.reconcileErrors.inc({ kind });
  }

  private readonly requestCounters = new Map<string, { inc(): void }>();

  /** Counts one API request (bound per verb and code, as above). */
  countRequest(verb: string, code: number): void {
    const key = `${verb} ${code}`;
    let c = this.requestCounters.get(key);
    if (!c) this.requestCounters.set(key, (c = this.apiRequests.labels({ verb, code: String(code) })));
    c.inc();
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'gatehouse_operator_' });
  }
}
