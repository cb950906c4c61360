// A rate-limited work queue with client-go's semantics: a key is queued at most once, a key
// being processed is never handed to a second worker (it is re-queued when done if it was
// added meanwhile), failures back off per key exponentially, and a global token bucket bounds
// the retry rate across keys. It reports client-go's work-queue metrics through a sink.

export interface WorkQueueOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Token bucket for rate-limited re-adds. */
  qps?: number;
  burst?: number;
  onDepthChange?: (depth: number) => void;
  metrics?: WorkQueueMetricsSink;
}

/** client-go's work-queue metrics, as this queue reports them. */
export interface WorkQueueMetricsSink {
  /** A key became pending (not counted when it was already pending). */
  added(): void;
  depth(keys: number): void;
  /** Seconds from a key becoming pending until a worker took it. */
  waited(seconds: number): void;
  /** Seconds a worker spent on a key. */
  worked(seconds: number): void;
  /** A failed key was re-queued with backoff. */
  retried(): void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private head = 0;
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly opts: Required<Omit<WorkQueueOptions, 'onDepthChange' | 'metrics'>> & Pick<WorkQueueOptions, 'onDepthChange' | 'metrics'>;
  /** When each pending key became pending, and when each key in flight was taken (ms, performance.now). */
  private readonly pendingSince = new Map<string, number>();
  private readonly takenAt = new Map<string, number>();
  private tokens: number;
  private tokensAt = Date.now();
  private shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.opts = { baseDelayMs: 5, maxDelayMs: 1_000_000, qps: 10, burst: 100, ...options };
    this.tokens = this.opts.burst;
  }

  get depth(): number {
    return this.queue.length - this.head;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.opts.metrics?.added();
    if (!this.pendingSince.has(key)) this.pendingSince.set(key, performance.now());
    if (this.processing.has(key)) return; // re-queued by done()
    this.hand(key);
  }

  /** Gives a pending key to a waiting worker, or queues it. */
  private hand(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(key);
    else {
      this.queue.push(key);
      this.depthChanged();
    }
  }

  private depthChanged(): void {
    this.opts.onDepthChange?.(this.depth);
    this.opts.metrics?.depth(this.depth);
  }

  /** Bookkeeping when a worker takes a key. */
  private take(key: string): void {
    this.dirty.delete(key);
    this.processing.add(key);
    const now = performance.now();
    const since = this.pendingSince.get(key);
    if (since !== undefined) this.opts.metrics?.waited((now - since) / 1000);
    this.pendingSince.delete(key);
    this.takenAt.set(key, now);
  }

  /** Adds the key after a delay; an earlier pending delay for the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.delayed.set(key, { at, timer });
  }

  /** Re-adds a failed key after its exponential per-key backoff (or the global bucket's wait). */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const perKey = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** n);
    const delay = Math.max(perKey, this.bucketDelay());
    this.opts.metrics?.retried();
    this.addAfter(key, delay);
    return delay;
  }

  private bucketDelay(): number {
    const now = Date.now();
    this.tokens = Math.min(this.opts.burst, this.tokens + ((now - this.tokensAt) / 1000) * this.opts.qps);
    this.tokensAt = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.opts.qps) * 1000;
  }

  /** Clears the key's failure history after a successful reconcile. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key, or undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    if (this.depth > 0) {
      const key = this.queue[this.head++] as string;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.take(key);
      this.depthChanged();
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.waiters.push((key) => {
        if (key !== undefined) this.take(key);
        resolve(key);
      });
    });
  }

  done(key: string): void {
    this.processing.delete(key);
    const takenAt = this.takenAt.get(key);
    if (takenAt !== undefined) this.opts.metrics?.worked((performance.now() - takenAt) / 1000);
    this.takenAt.delete(key);
    // Added while in flight: it is pending already (and was counted then); hand it out now.
    if (this.dirty.has(key) && !this.shuttingDown) this.hand(key);
  }

  shutdown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}
