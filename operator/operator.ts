// Wires the operator together: informers, event → key mapping, the work queue and its
// workers, leader election, metrics and health endpoints.
import { Resolver } from 'node:dns/promises';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ManagedUser, SSOProfile, VerifiedDomain } from '../crds/api/index.ts';
import { findCondition } from './conditions.ts';
import type { OperatorConfig } from './config.ts';
import { KindCache, key, REFS, stableStringify, type Context, type NamespaceObject, type QueueKind, type ReconcileResult, type SecretObject } from './context.ts';
import { reconcileManagedUser } from './controllers/managed-user.ts';
import { reconcileRenderedConfig } from './controllers/rendered-config.ts';
import { reconcileScimToken } from './controllers/scim-token.ts';
import { reconcileSSOProfile } from './controllers/sso-profile.ts';
import { reconcileVerifiedDomain } from './controllers/verified-domain.ts';
import { EventRecorder } from './events.ts';
import { MetadataCache } from './idp/fetcher.ts';
import { KubeClient, type ResourceRef } from '../kube/client.ts';
import type { Credentials } from '../kube/kubeconfig.ts';
import { Informer, type InformerControl, type KubeObject } from '../kube/informer.ts';
import { LeaderElector } from './leader.ts';
import { OperatorMetrics } from './metrics.ts';
import { WorkQueue } from './queue.ts';
import { SCIM_ENABLED_LABEL, SCIM_ENABLED_VALUE, SCIM_TOKEN_SECRET_NAME } from './scim-token.ts';

const CONFIG_DEBOUNCE_MS = 200;

/**
 * Two queues: ManagedUsers (thousands of keys during an enforcement) and everything else, each
 * with its own workers, so profile progress, domains and the config never wait behind users.
 */
class Queues {
  readonly users: WorkQueue;
  readonly control: WorkQueue;
  constructor(onDepth: (depth: number) => void) {
    const report = () => onDepth(this.users.depth + this.control.depth);
    this.users = new WorkQueue({ onDepthChange: report });
    this.control = new WorkQueue({ onDepthChange: report });
  }
  for(key: string): WorkQueue {
    return key.startsWith('ManagedUser/') ? this.users : this.control;
  }
  add(key: string): void {
    this.for(key).add(key);
  }
  addAfter(key: string, delayMs: number): void {
    this.for(key).addAfter(key, delayMs);
  }
  shutdown(): void {
    this.users.shutdown();
    this.control.shutdown();
  }
}
const COUNT_DEBOUNCE_MS = 500;

export class Operator {
  private readonly cfg: OperatorConfig;
  private readonly log: Logger;
  readonly metrics = new OperatorMetrics();
  private ctx!: Context;
  private queues!: Queues;
  private readonly servers: Server[] = [];
  private leader: LeaderElector | undefined;
  private workers: Promise<void>[] = [];
  private stopped = false;
  private readonly identity = `${hostname()}_${process.pid}_${randomBytes(3).toString('hex')}`;
  /** Called when leadership is lost: the process must stop writing at once. */
  onLeadershipLost: () => void = () => {};

  constructor(cfg: OperatorConfig, log: Logger) {
    this.cfg = cfg;
    this.log = log;
  }

  async start(creds: Credentials): Promise<void> {
    const m = this.metrics;
    const client = await KubeClient.create(creds, {
      userAgent: 'gatehouse-operator',
      connections: Math.max(8, this.cfg.workers * 2),
      onRequest: (e) => m.apiRequests.inc({ verb: e.verb, code: String(e.code) }),
    });
    const queue = new Queues((d) => m.queueDepth.set(d));
    this.queues = queue;
    const resolver = new Resolver({ timeout: 2000, tries: 2 });
    if (this.cfg.dnsServers.length > 0) resolver.setServers(this.cfg.dnsServers);
    const namespaces = this.cfg.watchNamespaces.length > 0 ? this.cfg.watchNamespaces : [undefined];
    const informers = <T extends KubeObject>(ref: ResourceRef) =>
      new KindCache<T>(namespaces.map((ns) => new Informer<T>(client, ref, { namespace: ns, resyncMs: this.cfg.resyncPeriod }, this.log)));
    this.ctx = {
      config: this.cfg,
      client,
      log: this.log,
      metrics: m,
      queue,
      events: new EventRecorder(client, this.log, this.identity),
      resolver,
      metadata: new MetadataCache(
        { timeoutMs: this.cfg.metadataTimeout, maxBytes: this.cfg.metadataMaxBytes, allowPrivate: this.cfg.allowPrivateMetadataUrls },
        (k) => queue.add(`SSOProfile/${k}`),
        (result) => m.metadataFetches.inc({ result }),
        this.log,
      ),
      domains: informers<VerifiedDomain>(REFS.VerifiedDomain),
      users: informers<ManagedUser>(REFS.ManagedUser),
      profiles: informers<SSOProfile>(REFS.SSOProfile),
      // Only namespaces with SCIM on are cached: the label selector makes unlabelling a delete
      // event. With --watch-namespaces, one informer per namespace by name (RBAC can then be
      // narrowed to those names).
      scimNamespaces: new KindCache<NamespaceObject>(
        namespaces.map(
          (ns) =>
            new Informer<NamespaceObject>(client, REFS.Namespace, {
              labelSelector: `${SCIM_ENABLED_LABEL}=${SCIM_ENABLED_VALUE}`,
              ...(ns ? { fieldSelector: `metadata.name=${ns}` } : {}),
              resyncMs: this.cfg.resyncPeriod,
            }, this.log),
        ),
      ),
      // Only the token Secrets, by name: the operator never caches organizations' other Secrets.
      scimSecrets: new KindCache<SecretObject>(
        namespaces.map(
          (ns) => new Informer<SecretObject>(client, REFS.Secret, { namespace: ns, fieldSelector: `metadata.name=${SCIM_TOKEN_SECRET_NAME}`, resyncMs: this.cfg.resyncPeriod }, this.log),
        ),
      ),
      fragments: new Map(),
      spKeys: new Map(),
      dnsAttempts: new Map(),
    };
    this.wireEvents();
    await this.startServers();
    for (const i of this.informerList()) i.start();
    const healthTimer = setInterval(() => {
      for (const i of this.informerList()) m.informerHealthy.set({ informer: i.name }, i.healthy ? 1 : 0);
    }, 1000);
    healthTimer.unref();

    if (this.cfg.leaderElect) {
      this.leader = new LeaderElector(client, {
        namespace: this.cfg.namespace,
        name: this.cfg.leaseName,
        identity: this.identity,
        leaseMs: this.cfg.leaseDuration,
        renewDeadlineMs: this.cfg.renewDeadline,
        retryMs: this.cfg.retryPeriod,
      }, this.log);
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
    const { domains, users, profiles, scimNamespaces, queue } = this.ctx;
    await Promise.all(this.informerList().map((i) => i.waitForSync()));
    if (this.stopped) return;
    // Objects cached before we led are not re-delivered: queue everything once.
    for (const n of scimNamespaces.all()) queue.add(key('Namespace', n.metadata.name));
    for (const d of domains.all()) queue.add(key('VerifiedDomain', d.metadata.namespace, d.metadata.name));
    for (const p of profiles.all()) queue.add(key('SSOProfile', p.metadata.namespace, p.metadata.name));
    for (const u of users.all()) queue.add(key('ManagedUser', u.metadata.namespace, u.metadata.name));
    queue.add('Config');
    this.log.info({ workers: this.cfg.workers, domains: [...domains.all()].length, profiles: [...profiles.all()].length, users: [...users.all()].length }, 'caches synced; reconciling');
    for (let i = 0; i < this.cfg.workers; i++) this.workers.push(this.worker(this.queues.users));
    for (let i = 0; i < Math.max(2, Math.ceil(this.cfg.workers / 4)); i++) this.workers.push(this.worker(this.queues.control));
  }

  private async worker(queue: WorkQueue): Promise<void> {
    for (;;) {
      const k = await queue.get();
      if (k === undefined) return;
      const kind = k === 'Config' ? 'Config' : (k.slice(0, k.indexOf('/')) as QueueKind);
      const [ns = '', name = ''] = k === 'Config' ? [] : k.slice(kind.length + 1).split('/');
      const end = this.metrics.reconcileDuration.startTimer({ kind });
      try {
        let res: ReconcileResult;
        if (kind === 'Config') res = await reconcileRenderedConfig(this.ctx);
        else if (kind === 'VerifiedDomain') res = await reconcileVerifiedDomain(this.ctx, ns, name);
        else if (kind === 'SSOProfile') res = await reconcileSSOProfile(this.ctx, ns, name);
        else if (kind === 'Namespace') res = await reconcileScimToken(this.ctx, ns);
        else res = await reconcileManagedUser(this.ctx, ns, name);
        queue.forget(k);
        if (res.requeueAfterMs !== undefined) queue.addAfter(k, res.requeueAfterMs);
        this.metrics.reconcileTotal.inc({ kind, result: res.requeueAfterMs !== undefined ? 'requeue' : 'success' });
      } catch (err) {
        const delay = queue.addRateLimited(k);
        this.metrics.reconcileTotal.inc({ kind, result: 'error' });
        this.metrics.reconcileErrors.inc({ kind });
        this.log.warn({ kind, namespace: ns, name, err: err instanceof Error ? err.message : String(err), retryInMs: delay }, 'reconcile failed');
      } finally {
        end();
        queue.done(k);
      }
    }
  }

  private wireEvents(): void {
    const { domains, users, profiles, scimNamespaces, scimSecrets, queue } = this.ctx;
    // SCIM: a namespace labelled or unlabelled, a token Secret created, replaced or deleted.
    // Each re-checks the Secret and renders the config again (resyncs too: a Secret deleted
    // while no watch was open is recreated at the next relist).
    scimNamespaces.on((_event, n) => queue.add(key('Namespace', n.metadata.name)));
    scimSecrets.on((_event, s) => {
      if (s.metadata.namespace) queue.add(key('Namespace', s.metadata.namespace));
    });
    const enqueueUsers = (ns: string) => {
      for (const u of users.inNamespace(ns)) queue.add(key('ManagedUser', ns, u.metadata.name));
    };
    const verifiedOf = (vd?: VerifiedDomain) => {
      const c = findCondition(vd?.status?.conditions, 'Verified');
      return `${c?.status}/${c?.reason}`;
    };
    domains.on((event, vd, old) => {
      const ns = vd.metadata.namespace;
      queue.add(key('VerifiedDomain', ns, vd.metadata.name));
      if (event === 'resync') return;
      if (event === 'update' && verifiedOf(vd) === verifiedOf(old)) return;
      // Verification changed: rivals in other namespaces, the profiles and users here, the config.
      for (const other of domains.all()) {
        if (other.spec.domain === vd.spec.domain && other.metadata.namespace !== ns) queue.add(key('VerifiedDomain', other.metadata.namespace, other.metadata.name));
      }
      for (const p of profiles.inNamespace(ns)) queue.add(key('SSOProfile', ns, p.metadata.name));
      enqueueUsers(ns);
      queue.addAfter('Config', CONFIG_DEBOUNCE_MS);
    });
    // What ManagedUser decisions read from a profile; users are re-queued only when it changes.
    const viewOf = (p?: SSOProfile) =>
      p &&
      stableStringify({
        gen: p.metadata.generation,
        og: p.status?.observedGeneration,
        c: (p.status?.conditions ?? []).filter((c) => c.type === 'IdPConfigValid' || c.type === 'CertificateValid').map((c) => c.status),
        t: p.status?.test?.result,
        te: p.status?.test?.email,
        e: p.status?.enforcement?.phase,
        ed: p.status?.enforcement?.domains,
      });
    profiles.on((event, p, old) => {
      const ns = p.metadata.namespace;
      queue.add(key('SSOProfile', ns, p.metadata.name));
      if (event === 'resync') return;
      // Domain claims depend on sibling profiles.
      for (const s of profiles.inNamespace(ns)) if (s.metadata.name !== p.metadata.name) queue.addAfter(key('SSOProfile', ns, s.metadata.name), COUNT_DEBOUNCE_MS);
      if (event !== 'update' || viewOf(p) !== viewOf(old)) enqueueUsers(ns);
      queue.addAfter('Config', CONFIG_DEBOUNCE_MS);
    });
    users.on((event, u) => {
      const ns = u.metadata.namespace;
      queue.add(key('ManagedUser', ns, u.metadata.name));
      if (event === 'resync') return;
      // Enforcement counts: batch many user changes into one profile reconcile.
      for (const p of profiles.inNamespace(ns)) queue.addAfter(key('SSOProfile', ns, p.metadata.name), COUNT_DEBOUNCE_MS);
    });
  }

  private informerList(): InformerControl[] {
    const { domains, users, profiles, scimNamespaces, scimSecrets } = this.ctx;
    return [
      ...(domains.informers as InformerControl[]),
      ...(users.informers as InformerControl[]),
      ...(profiles.informers as InformerControl[]),
      ...(scimNamespaces.informers as InformerControl[]),
      ...(scimSecrets.informers as InformerControl[]),
    ];
  }

  private async startServers(): Promise<void> {
    const listen = async (address: string, handler: (path: string) => Promise<{ code: number; type: string; body: string }>) => {
      if (address === '0') return;
      const i = address.lastIndexOf(':');
      const host = address.slice(0, i).replace(/^\[|\]$/g, '') || undefined;
      const port = Number(address.slice(i + 1));
      const server = createServer((req, res) => {
        handler((req.url ?? '/').split('?')[0] ?? '/').then(
          (r) => res.writeHead(r.code, { 'content-type': r.type }).end(r.body),
          (err: unknown) => res.writeHead(500).end(String(err)),
        );
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      this.servers.push(server);
    };
    const text = 'text/plain; charset=utf-8';
    const health = async (path: string) => {
      if (path === '/healthz' || path === '/livez') return { code: 200, type: text, body: 'ok\n' };
      if (path === '/readyz') {
        const bad = this.informerList().filter((i) => !i.healthy).map((i) => i.name);
        return bad.length === 0 ? { code: 200, type: text, body: 'ok\n' } : { code: 503, type: text, body: `informers not synced or failing: ${bad.join(', ')}\n` };
      }
      return { code: 404, type: text, body: 'not found\n' };
    };
    const metrics = async (path: string) => (path === '/metrics' ? { code: 200, type: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() } : health(path));
    if (this.cfg.metricsAddress === this.cfg.healthAddress) await listen(this.cfg.healthAddress, metrics);
    else {
      await listen(this.cfg.healthAddress, health);
      await listen(this.cfg.metricsAddress, metrics);
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
    await Promise.all(this.informerList().map((i) => i.stop()));
    for (const s of this.servers) {
      s.closeAllConnections();
      s.close();
    }
    await this.ctx.client.close();
  }
}
