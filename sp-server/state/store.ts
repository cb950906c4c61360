// Short-lived login state (pending AuthnRequests, authorization codes, assertion IDs for the
// replay cache) behind one interface: process memory for a single replica, Redis when several
// replicas share a login that starts on one and finishes on another.
import { Redis, type RedisOptions } from 'ioredis';
import { replayKey, type ReplayCache } from '../saml/replay.ts';

export interface StateStore {
  /** Stores a value until `ttlMs` from now, replacing any earlier one. */
  put(key: string, value: string, ttlMs: number): Promise<void>;
  /** Reads without consuming. */
  get(key: string): Promise<string | null>;
  /** Reads and deletes atomically: of two concurrent callers exactly one gets the value. */
  take(key: string): Promise<string | null>;
  /** Stores only when absent (atomically); false when the key already exists. */
  putIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** The memory store is full of live entries: the request is refused rather than the state grown. */
export class StateStoreFullError extends Error {
  readonly statusCode = 503;
  constructor(limit: number) {
    super(`the login state store holds its maximum of ${limit} live entries`);
    this.name = 'StateStoreFullError';
  }
}

/** Every key expires (`ttlMs`), and at most `maxEntries` live ones are held at a time. */
export class MemoryStore implements StateStore {
  private readonly entries = new Map<string, { value: string; until: number }>();
  private nextSweep = 0;
  private nextFullSweep = 0;

  private readonly maxEntries: number;
  constructor(maxEntries = 200_000) {
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Room for one more key: expired ones are swept (at most once a second when full), else refused. */
  private makeRoom(key: string): void {
    if (this.entries.size < this.maxEntries || this.entries.has(key)) return;
    const now = Date.now();
    if (now >= this.nextFullSweep) {
      for (const [k, e] of this.entries) if (e.until <= now) this.entries.delete(k);
      this.nextFullSweep = now + 1000;
    }
    if (this.entries.size >= this.maxEntries) throw new StateStoreFullError(this.maxEntries);
  }

  private live(key: string): { value: string; until: number } | undefined {
    const now = Date.now();
    if (now >= this.nextSweep) {
      for (const [k, e] of this.entries) if (e.until <= now) this.entries.delete(k);
      this.nextSweep = now + 10_000;
    }
    const e = this.entries.get(key);
    if (e && e.until <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  async put(key: string, value: string, ttlMs: number): Promise<void> {
    this.makeRoom(key);
    this.entries.set(key, { value, until: Date.now() + ttlMs });
  }
  async get(key: string): Promise<string | null> {
    return this.live(key)?.value ?? null;
  }
  async take(key: string): Promise<string | null> {
    const e = this.live(key);
    if (!e) return null;
    this.entries.delete(key);
    return e.value;
  }
  async putIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.live(key)) return false;
    this.makeRoom(key);
    this.entries.set(key, { value, until: Date.now() + ttlMs });
    return true;
  }
  async ping(): Promise<boolean> {
    return true;
  }
  async close(): Promise<void> {}
}

/** Every sp-server key in Redis starts with this, and every one carries a TTL. */
export const REDIS_KEY_PREFIX = 'gatehouse:sp:';

/** A connection with the sp-server's settings; `overrides` for a user with other latency needs. */
export function redisConnection(url: string, password?: string, overrides: RedisOptions = {}): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false, ...(password ? { password } : {}), ...overrides });
  // Connection errors surface through failing commands and /readyz; the event only needs a listener.
  redis.on('error', () => {});
  return redis;
}

export class RedisStore implements StateStore {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(url: string, prefix = REDIS_KEY_PREFIX, password?: string) {
    this.redis = redisConnection(url, password);
    this.prefix = prefix;
  }

  async put(key: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.prefix + key, value, 'PX', Math.max(1, Math.ceil(ttlMs)));
  }
  async get(key: string): Promise<string | null> {
    return this.redis.get(this.prefix + key);
  }
  async take(key: string): Promise<string | null> {
    return this.redis.getdel(this.prefix + key);
  }
  async putIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const res = await this.redis.set(this.prefix + key, value, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
    return res === 'OK';
  }
  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }
  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

/** The validator's replay cache on top of a store, so every replica sees every assertion ID. */
export function storeReplayCache(store: StateStore): ReplayCache {
  return {
    async remember(issuer: string, assertionID: string, expiresAt: Date): Promise<boolean> {
      // Keep the ID at least until the assertion could no longer be accepted, plus skew margin.
      const ttl = Math.max(expiresAt.getTime() - Date.now(), 0) + 5 * 60_000;
      return store.putIfAbsent(`replay:${replayKey(issuer, assertionID)}`, '1', ttl);
    },
  };
}
