// The cap on pending logins: every anonymous /authorize stores an AuthnRequest for the pending
// lifetime, so how many may be started within that lifetime is bounded in total and per client
// address — a flood is refused with TOO_MANY_PENDING_LOGINS instead of growing the state.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { throttledRedisWarning } from './counters.ts';

export type Admission = { admitted: true } | { admitted: false; scope: 'global' | 'client'; retryAfterSeconds: number };

export interface PendingLoginCaps {
  global: number;
  perIP: number;
  /** The pending-login lifetime: a start counts against the caps this long. */
  windowMs: number;
}

export interface PendingLoginBudget {
  /** Counts one login start by `client` (identified by `id`), or refuses it over a cap. */
  admit(client: string, id: string): Promise<Admission>;
}

const retryAfter = (oldestMs: number, windowMs: number, now: number) => Math.max(1, Math.ceil((oldestMs + windowMs - now) / 1000));

/** Start times in process memory: at most `global` of them, so the map of clients is bounded too. */
export class MemoryPendingBudget implements PendingLoginBudget {
  private readonly all = new StartTimes();
  private readonly byClient = new Map<string, StartTimes>();
  private nextSweep = 0;
  private readonly caps: PendingLoginCaps;
  constructor(caps: PendingLoginCaps) {
    this.caps = caps;
  }

  get clients(): number {
    return this.byClient.size;
  }

  async admit(client: string): Promise<Admission> {
    const now = Date.now();
    const cutoff = now - this.caps.windowMs;
    this.all.dropBefore(cutoff);
    if (now >= this.nextSweep) {
      for (const [k, starts] of this.byClient) if (starts.dropBefore(cutoff) === 0) this.byClient.delete(k);
      this.nextSweep = now + Math.min(10_000, this.caps.windowMs);
    }
    if (this.all.length >= this.caps.global) return { admitted: false, scope: 'global', retryAfterSeconds: retryAfter(this.all.oldest, this.caps.windowMs, now) };
    const starts = this.byClient.get(client) ?? new StartTimes();
    starts.dropBefore(cutoff);
    if (starts.length >= this.caps.perIP) return { admitted: false, scope: 'client', retryAfterSeconds: retryAfter(starts.oldest, this.caps.windowMs, now) };
    starts.push(now);
    this.byClient.set(client, starts);
    this.all.push(now);
    return { admitted: true };
  }
}

/**
 * Start times, oldest first. Expired ones leave from the front by moving an index: splicing the
 * front of an array of 50,000 (the global cap) copies all of it, about 40 µs on every login start
 * once the window is full; the array is compacted only when half of it is spent.
 */
class StartTimes {
  private times: number[] = [];
  private head = 0;

  get length(): number {
    return this.times.length - this.head;
  }

  /** The oldest start still counted (only asked when length > 0). */
  get oldest(): number {
    return this.times[this.head] as number;
  }

  push(time: number): void {
    this.times.push(time);
  }

  /** Drops the starts at or before `cutoff`; returns how many remain. */
  dropBefore(cutoff: number): number {
    while (this.head < this.times.length && (this.times[this.head] as number) <= cutoff) this.head++;
    if (this.head > 0 && this.head * 2 >= this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return this.length;
  }
}

// Two sorted sets of start times (all, this client), trimmed to the window and expiring with it.
const ADMIT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cutoff = now - window
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cutoff)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cutoff)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return {0, 1, redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]}
end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then
  return {0, 2, redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')[2]}
end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], window)
redis.call('ZADD', KEYS[2], now, ARGV[5])
redis.call('PEXPIRE', KEYS[2], window)
return {1}
`;

type RedisWithAdmit = Redis & { gatehousePendingAdmit?: (all: string, client: string, now: number, window: number, global: number, perIP: number, id: string) => Promise<Array<number | string>> };

/** The caps across replicas; while Redis fails, each replica applies them to its own starts. */
export class RedisPendingBudget implements PendingLoginBudget {
  private readonly redis: RedisWithAdmit;
  private readonly local: MemoryPendingBudget;
  private readonly caps: PendingLoginCaps;
  private readonly warn: (err: unknown) => void;
  private readonly prefix: string;
  constructor(redis: Redis, caps: PendingLoginCaps, logger: Logger, prefix: string) {
    this.redis = redis;
    this.caps = caps;
    this.warn = throttledRedisWarning(logger, 'pending-login caps unavailable in Redis; capping per replica');
    this.prefix = prefix;
    this.local = new MemoryPendingBudget(caps);
    if (!this.redis.gatehousePendingAdmit) this.redis.defineCommand('gatehousePendingAdmit', { numberOfKeys: 2, lua: ADMIT });
  }

  async admit(client: string, id: string): Promise<Admission> {
    const now = Date.now();
    let res: Array<number | string>;
    try {
      const admit = this.redis.gatehousePendingAdmit as NonNullable<RedisWithAdmit['gatehousePendingAdmit']>;
      res = await admit.call(this.redis, `${this.prefix}all`, `${this.prefix}client:${client}`, now, this.caps.windowMs, this.caps.global, this.caps.perIP, id);
    } catch (err) {
      this.warn(err);
      return this.local.admit(client);
    }
    if (Number(res[0]) === 1) return { admitted: true };
    return { admitted: false, scope: Number(res[1]) === 1 ? 'global' : 'client', retryAfterSeconds: retryAfter(Number(res[2]), this.caps.windowMs, now) };
  }
}
