// Request counters over fixed windows, for the rate limits: in Redis when replicas share them
// (every key expires with its window), in a bounded map otherwise — and in that map as well while
// Redis fails, so an outage neither lifts the limits nor refuses everyone.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface WindowCount {
  /** Requests counted in the current window, this one included. */
  count: number;
  /** Until the window ends. */
  ttlMs: number;
}

export interface Counters {
  incr(key: string, windowMs: number): Promise<WindowCount>;
}

/** Fixed windows in process memory, at most `maxKeys` of them (the oldest window goes first). */
export class MemoryCounters implements Counters {
  private readonly windows = new Map<string, { count: number; endsAt: number }>();
  private readonly maxKeys: number;
  constructor(maxKeys = 100_000) {
    this.maxKeys = maxKeys;
  }

  get size(): number {
    return this.windows.size;
  }

  async incr(key: string, windowMs: number): Promise<WindowCount> {
    const now = Date.now();
    let w = this.windows.get(key);
    if (!w || w.endsAt <= now) {
      if (w) this.windows.delete(key);
      // Map order is creation order, so the first entries are the oldest windows: an expired one
      // is dropped for free, a live one is forgotten only when the map is full (that key starts
      // over — an attacker needs maxKeys fresh keys per window for it).
      for (const [k, old] of this.windows) {
        if (old.endsAt > now && this.windows.size < this.maxKeys) break;
        this.windows.delete(k);
      }
      w = { count: 0, endsAt: now + windowMs };
      this.windows.set(key, w);
    }
    w.count += 1;
    return { count: w.count, ttlMs: w.endsAt - now };
  }
}

// INCR, and a TTL whenever the key has none: a key never outlives its window, even if an earlier
// PEXPIRE was lost.
const INCR_WITH_TTL = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

type RedisWithScripts = Redis & { gatehouseIncrWithTTL?: (key: string, windowMs: number) => Promise<[number, number]> };

export class RedisCounters implements Counters {
  private readonly redis: RedisWithScripts;
  private readonly prefix: string;
  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
    if (!this.redis.gatehouseIncrWithTTL) this.redis.defineCommand('gatehouseIncrWithTTL', { numberOfKeys: 1, lua: INCR_WITH_TTL });
  }

  async incr(key: string, windowMs: number): Promise<WindowCount> {
    const incr = this.redis.gatehouseIncrWithTTL as NonNullable<RedisWithScripts['gatehouseIncrWithTTL']>;
    const [count, ttlMs] = await incr.call(this.redis, this.prefix + key, windowMs);
    return { count: Number(count), ttlMs: Number(ttlMs) };
  }
}

/** A warning about Redis failing, logged at most every 30 s however many requests hit it. */
export function throttledRedisWarning(logger: Logger, message: string): (err: unknown) => void {
  let last = 0;
  return (err) => {
    const now = Date.now();
    if (now - last < 30_000) return;
    last = now;
    logger.warn({ err: err instanceof Error ? err.message : String(err) }, message);
  };
}

/**
 * The shared store when it answers, the local one when it does not. Failing open would hand an
 * attacker the site whenever Redis hiccups; failing closed would turn a Redis outage into an
 * outage of SCIM and login-methods too, which do not need Redis. Per-replica limits are the
 * middle: each replica still refuses a flood on its own.
 */
export class FallbackCounters implements Counters {
  private readonly shared: Counters;
  private readonly local: Counters;
  private readonly warn: (err: unknown) => void;
  constructor(shared: Counters, local: Counters, logger: Logger) {
    this.shared = shared;
    this.local = local;
    this.warn = throttledRedisWarning(logger, 'rate-limit counters unavailable in Redis; counting per replica');
  }

  async incr(key: string, windowMs: number): Promise<WindowCount> {
    try {
      return await this.shared.incr(key, windowMs);
    } catch (err) {
      this.warn(err);
      return this.local.incr(key, windowMs);
    }
  }
}
