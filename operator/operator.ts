// The manager: builds the shared client, caches and queues, lets each registered controller
// declare its watches, runs the workers while this replica leads, and serves probes and metrics.
import { Resolver } from 'node:dns/promises';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { KubeClient } from '../kube/client.ts';
import type { Credentials } from '../kube/kubeconfig.ts';
import { informersOf } from './caches.ts';
import { openCaches } from './caches.ts';
import type { OperatorConfig } from './config.ts';
import type { Context } from './context.ts';
import { reconcileKey, type ControllerRegistry } from './controllers/controller.ts';
import { CONTROLLERS } from './controllers/registry.ts';
import { loadDomainProofKey } from './domain-proof.ts';
import { EventRecorder } from './events.ts';
import { MetadataCache } from './idp/fetcher.ts';
import { guardedFetch } from '../egress/guarded-fetch.ts';
import { OIDCProviderCache } from './oidc/provider-cache.ts';
import { LeaderElector } from './leader.ts';
import { OperatorMetrics } from './metrics.ts';
import { startProbes } from './probes.ts';
import { decodeKey, queueKey } from './queue-key.ts';
import type { WorkQueue } from './queue.ts';
import { Queues } from './queues.ts';

export class Operator {
  private readonly cfg: OperatorConfig;
  private readonly log: Logger;
  private readonly controllers: ControllerRegistry;
  readonly metrics = new OperatorMetrics();
  private ctx!: Context;
  private queues!: Queues;
  private servers: Server[] = [];
  private leader: LeaderElector | undefined;
  private workers: Promise<void>[] = [];
  private stopped = false;
  private readonly identity = `${hostname()}_${process.pid}_${randomBytes(3).toString('hex')}`;
  /** Called when leadership is lost: the process must stop writing at once. */
  onLeadershipLost: () => void = () => {};

  constructor(cfg: OperatorConfig, log: Logger, controllers: ControllerRegistry = CONTROLLERS) {
    this.cfg = cfg;
    this.log = log;
    this.controllers = controllers;
  }

  async start(creds: Credentials): Promise<void> {
    const m = this.metrics;
    const client = await KubeClient.create(creds, {
      userAgent: 'gatehouse-operator',
      // Status writes over one node:http2 session: 8–10% less operator CPU per enforced user
      // than undici in three side-by-side pairs of bench:enforcement (bench/README.md).
      http2: true,
      connections: Math.max(8, this.cfg.workers * 2),
      onRequest: (e) => m.countRequest(e.verb, e.code),
    });
    const queue = new Queues(m, (key) => this.controllers[key.kind].queue);
    this.queues = queue;
    const resolver = new Resolver({ timeout: 2000, tries: 2 });
    if (this.cfg.dnsServers.length > 0) resolver.setServers(this.cfg.dnsServers);
    const domainProofKey = await loadDomainProofKey(client, this.cfg.namespace, this.cfg.domainProofSecret, this.log);
    const requeueProfile = (k: string) => {
      const [namespace = '', name = ''] = k.split('/');
      queue.add(queueKey.ssoProfile(namespace, name));
    };
    // OIDC discovery and JWKS are metadata too: the same flags, deadline and size cap.
    const egress = { allowPrivate: this.cfg.allowPrivateMetadataUrls, allowInsecure: this.cfg.allowInsecureMetadataUrls, timeoutMs: this.cfg.metadataTimeout, maxBytes: this.cfg.metadataMaxBytes };
    this.ctx = {
      config: this.cfg,
      client,
      log: this.log,
      metrics: m,
      queue,
      events: new EventRecorder(client, this.log, this.identity),
      resolver,
      metadata: new MetadataCache(
        egress,
        requeueProfile,
        (result) => m.metadataFetches.inc({ result }),
        this.log,
      ),
      oidcProviders: new OIDCProviderCache(guardedFetch({ ...egress, userAgent: 'gatehouse-operator' }), requeueProfile, (result) => m.metadataFetches.inc({ result }), this.log),
      oidcSecretsRead: new Map(),
      ...openCaches(client, this.cfg, this.log),
      fragments: new Map(),
      spKeys: new Map(),
      domainProofKey,
      dnsAttempts: new Map(),
      domainLookups: new Map(),
    };
    for (const c of Object.values(this.controllers)) c.watch(this.ctx, queue);
    this.servers = await startProbes({ healthAddress: this.cfg.healthAddress, metricsAddress: this.cfg.metricsAddress, informers: () => informersOf(this.ctx), registry: m.registry });
    for (const i of informersOf(this.ctx)) i.start();
    const healthTimer = setInterval(() => {
      for (const i of informersOf(this.ctx)) m.informerHealthy.set({ informer: i.name }, i.healthy ? 1 : 0);
    }, 1000);
    healthTimer.unref();

    if (this.cfg.leaderElect) {
      this.leader = new LeaderElector(
        client,
        {
          namespace: this.cfg.namespace,
          name: this.cfg.leaseName,
          identity: this.identity,
          leaseMs: this.cfg.leaseDuration,
          renewDeadlineMs: this.cfg.renewDeadline,
          retryMs: this.cfg.retryPeriod,
        },
        this.log,
      );
      void this.campaign(this.leader);
    } else {
      await this.startWorkers();
    }
  }

  private async campaign(leader: LeaderElector): Promise<void> {
    if (!(await leader.acquire())) return;
    this.metrics.leader.set(1);
    await this.startWorkers();
    if (await leader.holdUntilLost()) {
      this.metrics.leader.set(0);
      this.onLeadershipLost();
    }
  }

  private async startWorkers(): Promise<void> {
    const { domains, users, profiles } = this.ctx;
    await Promise.all(informersOf(this.ctx).map((i) => i.waitForSync()));
    if (this.stopped) return;
    for (const c of Object.values(this.controllers)) for (const k of c.initialKeys(this.ctx)) this.queues.add(k);
    this.log.info({ workers: this.cfg.workers, domains: [...domains.all()].length, profiles: [...profiles.all()].length, users: [...users.all()].length }, 'caches synced; reconciling');
    for (let i = 0; i < this.cfg.workers; i++) this.workers.push(this.worker(this.queues.byName.users));
    for (let i = 0; i < Math.max(2, Math.ceil(this.cfg.workers / 4)); i++) this.workers.push(this.worker(this.queues.byName.control));
  }

  private async worker(queue: WorkQueue): Promise<void> {
    for (;;) {
      const k = await queue.get();
      if (k === undefined) return;
      const key = decodeKey(k);
      const kind = key.kind;
      const started = performance.now();
      let result: 'success' | 'requeue' | 'error' = 'success';
      try {
        const res = await reconcileKey(this.controllers, this.ctx, key);
        queue.forget(k);
        if (res.requeueAfterMs !== undefined) {
          queue.addAfter(k, res.requeueAfterMs);
          result = 'requeue';
        }
      } catch (err) {
        result = 'error';
        const delay = queue.addRateLimited(k);
        this.log.warn({ kind, namespace: 'namespace' in key ? key.namespace : '', name: 'name' in key ? key.name : '', err: err instanceof Error ? err.message : String(err), retryInMs: delay }, 'reconcile failed');
      } finally {
        this.metrics.countReconcile(kind, result, (performance.now() - started) / 1000);
        queue.done(k);
      }
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.queues.shutdown();
    // In-flight reconciles finish (each is a few requests) before the lease is handed over.
    await Promise.race([Promise.all(this.workers), new Promise((r) => setTimeout(r, 5000).unref())]);
    await this.leader?.release();
    this.ctx.metadata.stop();
    this.ctx.oidcProviders.stop();
    await Promise.all(informersOf(this.ctx).map((i) => i.stop()));
    for (const s of this.servers) {
      s.closeAllConnections();
      s.close();
    }
    await this.ctx.client.close();
  }
}
