// The one supervised list+watch cache of Gatehouse (operator caches, the sp-server's users and
// config Secret). client-node's informer stops silently on most watch errors; this one never
// stops until told to: a broken watch resumes from the last resourceVersion after a jittered
// backoff (a relist of a large collection is the expensive path), a 410 Gone or a failed list
// relists, and a periodic relist re-delivers every object so reconciliation stays level-triggered
// even if an event was lost.
import type { Logger } from 'pino';
import { KubeApiError, resourcePath, type KubeClient, type ResourceRef } from './client.ts';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string | Date;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    managedFields?: unknown;
    deletionTimestamp?: string | Date;
    ownerReferences?: unknown[];
  };
}

export type InformerEvent = 'add' | 'update' | 'delete' | 'resync';
export type InformerHandler<T> = (event: InformerEvent, obj: T, old?: T) => void;

export interface InformerOptions<T = KubeObject> {
  namespace?: string;
  labelSelector?: string;
  /** e.g. `metadata.name=gatehouse-scim-token`: RBAC may grant list/watch by resource name only with it. */
  fieldSelector?: string;
  /** Relist this often; every cached object is re-delivered as 'resync'. */
  resyncMs?: number;
  pageSize?: number;
  watchTimeoutSeconds?: number;
  /**
   * What to keep of each object (client-go's SetTransform): a cache of 100,000 objects holds
   * only the fields its readers use. Applied once per object as it arrives, before any handler.
   */
  transform?: (obj: T) => T;
}

interface ListResponse<T> {
  metadata: { resourceVersion: string; continue?: string };
  items: T[];
}

interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T & { code?: number; reason?: string; message?: string };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

export const objectKey = (o: KubeObject): string => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name);

/** The type-independent face of an informer: health, sync and lifecycle. */
export interface InformerControl {
  readonly name: string;
  readonly healthy: boolean;
  readonly hasSynced: boolean;
  start(): void;
  stop(): Promise<void>;
  /** Resolves true once the first list has completed, or false after `timeoutMs`. */
  waitForSync(timeoutMs?: number): Promise<boolean>;
}

export class Informer<T extends KubeObject> implements InformerControl {
  readonly name: string;
  private readonly client: KubeClient;
  private readonly ref: ResourceRef;
  private readonly options: InformerOptions<T>;
  private readonly log: Logger;
  private readonly items = new Map<string, T>();
  private readonly handlers: InformerHandler<T>[] = [];
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private synced = false;
  private failures = 0;
  private lastHealthy = Date.now();
  private syncWaiters: (() => void)[] = [];
  private lastErrorMessage: string | undefined;
  /** Watches resumed and lists retried after a failure, since start. */
  restarts = 0;

  constructor(client: KubeClient, ref: ResourceRef, options: InformerOptions<T>, log: Logger) {
    this.client = client;
    this.ref = ref;
    this.options = options;
    this.name = `${ref.plural}${ref.group ? '.' + ref.group : ''}${options.namespace ? ` in ${options.namespace}` : ''}${options.fieldSelector ? ` (${options.fieldSelector})` : ''}`;
    this.log = log.child({ informer: this.name });
  }

  on(handler: InformerHandler<T>): void {
    this.handlers.push(handler);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.items.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): IterableIterator<T> {
    return this.items.values();
  }

  get size(): number {
    return this.items.size;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** Synced and not failing for longer than a grace period. */
  get healthy(): boolean {
    return this.synced && (this.failures === 0 || Date.now() - this.lastHealthy < 60_000);
  }

  /** The latest list or watch failure, cleared by the next successful list. */
  get lastError(): string | undefined {
    return this.lastErrorMessage;
  }

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  waitForSync(timeoutMs?: number): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    const synced = new Promise<boolean>((r) => this.syncWaiters.push(() => r(true)));
    if (timeoutMs === undefined) return synced;
    return Promise.race([synced, new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs).unref())]);
  }

  /**
   * Puts an object this process just wrote, ahead of its watch event (which replaces it), so a
   * read right after a create sees it.
   */
  upsert(obj: T): void {
    const key = objectKey(obj);
    const old = this.items.get(key);
    this.items.set(key, this.slim(obj));
    this.emit(old ? 'update' : 'add', obj, old);
  }

  private emit(event: InformerEvent, obj: T, old?: T): void {
    for (const h of this.handlers) {
      try {
        h(event, obj, old);
      } catch (err) {
        this.log.error({ err }, 'informer handler failed');
      }
    }
  }

  // managedFields and kubectl's last-applied copy are large and never read by the operator;
  // dropping them more than halves the cache. A transform runs first: what it copies into a new
  // object then needs no delete (which turns the parsed object into a slow dictionary).
  private slim(arrived: T): T {
    const o = this.options.transform ? this.options.transform(arrived) : arrived;
    if (o.metadata.managedFields !== undefined) delete o.metadata.managedFields;
    const a = o.metadata.annotations;
    if (a && 'kubectl.kubernetes.io/last-applied-configuration' in a) {
      delete a['kubectl.kubernetes.io/last-applied-configuration'];
    }
    return o;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        const rv = await this.relist(signal);
        this.failures = 0;
        this.lastHealthy = Date.now();
        this.lastErrorMessage = undefined;
        await this.watch(rv, signal);
      } catch (err) {
        if (signal.aborted) break;
        const delay = this.noteFailure(err);
        this.log.warn({ err: this.lastErrorMessage, failures: this.failures, retryInMs: Math.round(delay) }, 'list failed; relisting after backoff');
        await sleep(delay, signal);
      }
    }
  }

  /** Counts a failure and returns the jittered backoff before the next try. */
  private noteFailure(err: unknown): number {
    this.failures++;
    this.restarts++;
    this.lastErrorMessage = err instanceof Error ? err.message : String(err);
    // A collection that cannot be listed at all (403, 404: RBAC or a missing CRD) is not synced.
    if (err instanceof KubeApiError && err.code < 500 && err.code !== 429 && err.code !== 410) this.synced = false;
    const base = Math.min(30_000, 250 * 2 ** Math.min(this.failures, 8));
    return base / 2 + Math.random() * (base / 2);
  }

  private async relist(signal: AbortSignal): Promise<string> {
    const fresh = new Map<string, T>();
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.client.call<ListResponse<T>>('GET', resourcePath(this.ref, this.options.namespace), {
        query: { limit: this.options.pageSize ?? 500, continue: cont, labelSelector: this.options.labelSelector, fieldSelector: this.options.fieldSelector },
        signal,
        verb: 'list',
        timeoutMs: 60_000,
      });
      for (const item of page.items) {
        const key = objectKey(item);
        // An unchanged object keeps its cached copy: a relist never holds two of each.
        const cached = this.items.get(key);
        fresh.set(key, cached && cached.metadata.resourceVersion === item.metadata.resourceVersion ? cached : this.slim(item));
      }
      cont = page.metadata.continue || undefined;
      rv = page.metadata.resourceVersion;
    } while (cont);
    // Replace the cache and tell handlers what changed; unchanged objects are re-delivered as
    // 'resync' so that a relist after any gap re-drives reconciliation of everything.
    for (const [key, old] of this.items) {
      if (!fresh.has(key)) {
        this.items.delete(key);
        this.emit('delete', old);
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.items.get(key);
      this.items.set(key, obj);
      if (!old) this.emit('add', obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('update', obj, old);
      else this.emit('resync', obj, old);
    }
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
      this.log.info({ objects: this.items.size }, 'informer synced');
    }
    return rv;
  }

  private async watch(startRv: string, signal: AbortSignal): Promise<void> {
    let rv = startRv;
    const relistAt = Date.now() + (this.options.resyncMs ?? 10 * 60_000);
    while (!signal.aborted && Date.now() < relistAt) {
      const watchAbort = new AbortController();
      const timer = setTimeout(() => watchAbort.abort(), Math.max(1000, relistAt - Date.now()));
      const both = AbortSignal.any([signal, watchAbort.signal]);
      const began = Date.now();
      try {
        const lines = this.client.watchLines(resourcePath(this.ref, this.options.namespace), {
          resourceVersion: rv,
          allowWatchBookmarks: true,
          timeoutSeconds: this.options.watchTimeoutSeconds ?? 300,
          labelSelector: this.options.labelSelector,
          fieldSelector: this.options.fieldSelector,
        }, both);
        for await (const line of lines) {
          const ev = JSON.parse(line) as WatchEvent<T>;
          if (ev.type === 'ERROR') {
            // 410 Gone: our resourceVersion is too old; only a relist recovers.
            throw new KubeApiError(ev.object.code ?? 500, ev.object.reason ?? 'Unknown', `watch error: ${ev.object.message ?? ''}`, ev.object);
          }
          rv = ev.object.metadata.resourceVersion ?? rv;
          if (ev.type === 'BOOKMARK') continue;
          const obj = this.slim(ev.object);
          const key = objectKey(obj);
          const old = this.items.get(key);
          if (ev.type === 'DELETED') {
            this.items.delete(key);
            this.emit('delete', obj);
          } else {
            this.items.set(key, obj);
            this.emit(old ? 'update' : 'add', obj, old);
          }
          this.lastHealthy = Date.now();
        }
      } catch (err) {
        if (signal.aborted) return;
        if (watchAbort.signal.aborted) return; // time to relist
        if (err instanceof KubeApiError && err.code === 410) {
          this.log.info('watch expired (410 Gone); relisting');
          return;
        }
        // Anything else (a reset connection, an API server restarting): resume from the last
        // resourceVersion; if that is too old the server answers 410 and the loop relists.
        const delay = this.noteFailure(err);
        this.log.warn({ err: this.lastErrorMessage, failures: this.failures, retryInMs: Math.round(delay) }, 'watch failed; resuming');
        await sleep(delay, signal);
        continue;
      } finally {
        clearTimeout(timer);
      }
      this.failures = 0;
      // A server that closes watches at once must not turn this loop into a busy one.
      if (Date.now() - began < 250) await sleep(250, signal);
    }
  }
}
