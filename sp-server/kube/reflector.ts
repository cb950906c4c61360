// A supervised list+watch cache of one collection. Any failure (not only 410 Gone) restarts the
// loop with jittered exponential backoff and a fresh list, and a periodic relist bounds drift, so
// the cache never silently stops the way an unsupervised informer does. `healthy` feeds /readyz.
import type { Logger } from 'pino';
import { KubeError, type KubeClient, type WatchEvent } from './client.ts';

export interface KubeObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export interface ReflectorOptions<T extends KubeObject> {
  client: KubeClient;
  /** Collection path, e.g. /apis/sso.gatehouse.dev/v1alpha1/managedusers. */
  path: string;
  /** Extra query, e.g. fieldSelector=metadata.name%3Dx (already encoded). */
  query?: string;
  /** Turns an API object into the cached value; returning undefined drops it. */
  accept?: (obj: KubeObject) => T | undefined;
  /** Called after every change of the cached set (after the initial list too). */
  onChange?: () => void;
  /** Incremental hooks for secondary indexes. */
  onSet?: (key: string, value: T, previous: T | undefined) => void;
  onDelete?: (key: string, previous: T) => void;
  onReset?: () => void;
  logger: Logger;
  relistMs?: number;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

export class Reflector<T extends KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly opts: ReflectorOptions<T>;
  private readonly stop = new AbortController();
  private synced = false;
  private lastError: string | undefined;
  private loop: Promise<void> | undefined;
  private firstSync: { promise: Promise<void>; resolve: () => void };
  restarts = 0;

  constructor(opts: ReflectorOptions<T>) {
    this.opts = opts;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.firstSync = { promise, resolve };
  }

  get healthy(): boolean {
    return this.synced;
  }
  get error(): string | undefined {
    return this.lastError;
  }
  values(): IterableIterator<T> {
    return this.items.values();
  }
  get size(): number {
    return this.items.size;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Resolves after the first successful list. */
  waitForSync(timeoutMs: number): Promise<boolean> {
    return Promise.race([this.firstSync.promise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs).unref())]);
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.loop;
  }

  private key(obj: KubeObject): string {
    return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
  }

  /** Puts an object this process just wrote, ahead of its watch event (which replaces it). */
  upsert(obj: KubeObject): void {
    const v = this.accept(obj);
    if (v) this.set(this.key(obj), v);
  }

  private set(key: string, value: T): void {
    const prev = this.items.get(key);
    this.items.set(key, value);
    this.opts.onSet?.(key, value, prev);
  }

  private delete(key: string): void {
    const prev = this.items.get(key);
    if (prev === undefined) return;
    this.items.delete(key);
    this.opts.onDelete?.(key, prev);
  }

  private accept(obj: KubeObject): T | undefined {
    return this.opts.accept ? this.opts.accept(obj) : (obj as T);
  }

  private async run(): Promise<void> {
    let backoff = 200;
    const { client, path, logger } = this.opts;
    const q = this.opts.query ? `${this.opts.query}&` : '';
    while (!this.stop.signal.aborted) {
      try {
        const list = await client.request('GET', `${path}?${q}limit=0`);
        if (list.status !== 200) throw new KubeError(list.status, `list ${path}: ${list.status} ${list.text.slice(0, 200)}`);
        const body = list.body as { items?: KubeObject[]; metadata?: { resourceVersion?: string } };
        this.items.clear();
        this.opts.onReset?.();
        for (const item of body.items ?? []) {
          const v = this.accept(item);
          if (v) this.set(this.key(item), v);
        }
        let rv = body.metadata?.resourceVersion ?? '';
        this.synced = true;
        this.lastError = undefined;
        this.firstSync.resolve();
        this.opts.onChange?.();
        backoff = 200;
        const relistAt = Date.now() + (this.opts.relistMs ?? 10 * 60_000) * (0.8 + Math.random() * 0.4);
        // Watch until the periodic relist is due, resuming from the last resourceVersion.
        let watchBackoff = 200;
        while (!this.stop.signal.aborted && Date.now() < relistAt) {
          const round = new AbortController();
          const onStop = () => round.abort();
          this.stop.signal.addEventListener('abort', onStop, { once: true });
          const timeoutSeconds = Math.max(1, Math.min(300, Math.floor((relistAt - Date.now()) / 1000)));
          let gone = false;
          const began = Date.now();
          try {
            await client.watch(
              `${path}?${q}watch=1&allowWatchBookmarks=true&timeoutSeconds=${timeoutSeconds}&resourceVersion=${encodeURIComponent(rv)}`,
              (e: WatchEvent) => {
                if (e.type === 'ERROR') {
                  if (e.object.code === 410) gone = true;
                  throw new KubeError(Number(e.object.code ?? 500), `watch error ${JSON.stringify(e.object).slice(0, 200)}`);
                }
                const obj = e.object as unknown as KubeObject;
                if (obj.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
                if (e.type === 'BOOKMARK') return;
                const k = this.key(obj);
                const v = e.type === 'DELETED' ? undefined : this.accept(obj);
                if (v) this.set(k, v);
                else this.delete(k);
                this.opts.onChange?.();
              },
              round.signal,
              (timeoutSeconds + 30) * 1000,
            );
            watchBackoff = 200;
            // A server that closes watches at once must not turn this loop into a busy one.
            if (Date.now() - began < 250) await sleep(250, this.stop.signal);
          } catch (err) {
            if (this.stop.signal.aborted) break;
            if (gone || (err instanceof KubeError && err.status === 410)) break;
            // Any other failure: resume from the last resourceVersion (a full relist of a large
            // collection is the expensive path, kept for 410 and for list failures).
            this.restarts++;
            this.lastError = err instanceof Error ? err.message : String(err);
            logger.warn({ path, err: this.lastError, backoffMs: watchBackoff }, 'watch failed; resuming');
            await sleep(watchBackoff * (0.5 + Math.random()), this.stop.signal);
            watchBackoff = Math.min(watchBackoff * 2, 30_000);
          } finally {
            this.stop.signal.removeEventListener('abort', onStop);
          }
          if (gone) break;
        }
      } catch (err) {
        if (this.stop.signal.aborted) break;
        this.restarts++;
        this.lastError = err instanceof Error ? err.message : String(err);
        // A list that keeps failing makes the cache unready (it may be stale); one failure does not.
        if (!(err instanceof KubeError) || err.status >= 500 || err.status === 429) this.synced = this.synced && backoff <= 3200;
        else this.synced = false;
        logger.warn({ path, err: this.lastError, backoffMs: backoff }, 'list failed; retrying');
        await sleep(backoff * (0.5 + Math.random()), this.stop.signal);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }
}
