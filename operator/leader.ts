// Leader election on a coordination.k8s.io/v1 Lease with optimistic concurrency, following
// client-go's rules: a lease is free when its holder has not renewed it for leaseDuration as
// observed on our own clock; the leader gives up when it cannot renew within renewDeadline.
// The retry period is the only retry: a call retried inside would outlive the renew deadline.
import type { Logger } from 'pino';
import { isConflict, isNotFound, resourcePath, type KubeClient } from '../kube/client.ts';
import { RESOURCES } from '../kube/resources.ts';

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaderOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseMs: number;
  renewDeadlineMs: number;
  retryMs: number;
}

const microTime = (d = new Date()) => d.toISOString().replace(/Z$/, '000Z');
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((r) => {
    const t = setTimeout(r, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
  });

export class LeaderElector {
  private readonly client: KubeClient;
  private readonly o: LeaderOptions;
  private readonly log: Logger;
  private readonly abort = new AbortController();
  private observed: { record: string; at: number } | undefined;
  private current: Lease | undefined;
  /** The last acquire-or-renew attempt; a release waits for it (see `attempt`). */
  private renewal: Promise<boolean> | undefined;
  isLeader = false;

  constructor(client: KubeClient, options: LeaderOptions, log: Logger) {
    this.client = client;
    this.o = options;
    this.log = log.child({ lease: `${options.namespace}/${options.name}`, identity: options.identity });
  }

  private get path(): string {
    return resourcePath(RESOURCES.Lease, this.o.namespace, this.o.name);
  }

  /** Resolves once leadership is acquired (or never, if stopped first). */
  async acquire(): Promise<boolean> {
    while (!this.abort.signal.aborted) {
      try {
        if (await this.attempt()) {
          this.log.info('became leader');
          return true;
        }
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'lease acquire attempt failed');
      }
      await sleep(this.o.retryMs * (1 + Math.random() * 0.2), this.abort.signal);
    }
    return false;
  }

  /** Renews until stopped (resolves false) or leadership is lost (resolves true). */
  async holdUntilLost(): Promise<boolean> {
    let lastRenew = Date.now();
    while (!this.abort.signal.aborted) {
      await sleep(this.o.retryMs, this.abort.signal);
      if (this.abort.signal.aborted) break;
      try {
        if (await this.attempt()) lastRenew = Date.now();
        else {
          this.log.error('lease taken by another replica');
          return true;
        }
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'lease renewal failed');
      }
      if (Date.now() - lastRenew > this.o.renewDeadlineMs) {
        this.isLeader = false;
        this.log.error('could not renew the lease within the renew deadline');
        return true;
      }
    }
    return false;
  }

  /**
   * One acquire-or-renew, kept for a release to wait on: its write moves the lease's
   * resourceVersion, and its outcome (set here, not by the caller) says whether there is a lease
   * to hand over. A settled attempt costs a release nothing to await.
   */
  private attempt(): Promise<boolean> {
    this.renewal = this.tryAcquireOrRenew().then((won) => {
      this.isLeader = won;
      return won;
    });
    return this.renewal;
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    const seconds = Math.max(1, Math.ceil(this.o.leaseMs / 1000));
    let lease: Lease | undefined;
    try {
      lease = await this.client.call<Lease>('GET', this.path, { timeoutMs: this.o.renewDeadlineMs, retries: 0 });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!lease) {
      try {
        this.current = await this.client.call<Lease>('POST', resourcePath(RESOURCES.Lease, this.o.namespace), {
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.o.name, namespace: this.o.namespace },
            spec: { holderIdentity: this.o.identity, leaseDurationSeconds: seconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
          },
          timeoutMs: this.o.renewDeadlineMs,
          retries: 0,
        });
        return true;
      } catch (err) {
        if (isConflict(err)) return false;
        throw err;
      }
    }
    const spec = lease.spec ?? {};
    const record = `${spec.holderIdentity ?? ''}|${spec.renewTime ?? ''}`;
    if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
    const holder = spec.holderIdentity ?? '';
    const mine = holder === this.o.identity;
    const expired = Date.now() - this.observed.at > (spec.leaseDurationSeconds ?? seconds) * 1000;
    if (holder && !mine && !expired) return false;
    const body: Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.o.identity,
        leaseDurationSeconds: seconds,
        renewTime: microTime(now),
        acquireTime: mine ? spec.acquireTime : microTime(now),
        leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    try {
      this.current = await this.client.call<Lease>('PUT', this.path, { body, timeoutMs: this.o.renewDeadlineMs, retries: 0 });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /**
   * Stops campaigning; a leader hands the lease over at once instead of letting it expire.
   * A renewal still in flight is awaited first: its write moves the lease's resourceVersion, and
   * a release sent beside it would conflict and leave the lease to expire. A conflict all the
   * same (the API server answered the renewal late) is settled by reading the lease again.
   */
  async release(): Promise<void> {
    this.abort.abort();
    await this.renewal?.catch(() => undefined);
    if (!this.isLeader || !this.current) return;
    this.isLeader = false;
    const handOver = (lease: Lease) =>
      this.client.call('PUT', this.path, {
        body: { ...lease, spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime() } },
        timeoutMs: 2000,
        retries: 0,
      });
    try {
      try {
        await handOver(this.current);
      } catch (err) {
        if (!isConflict(err)) throw err;
        const lease = await this.client.call<Lease>('GET', this.path, { timeoutMs: 2000, retries: 0 }).catch(() => undefined);
        if (lease?.spec?.holderIdentity !== this.o.identity) return;
        await handOver(lease);
      }
      this.log.info('lease released');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not release the lease');
    }
  }
}
