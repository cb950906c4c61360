// Where the limits keep their counts: Redis when the replicas share state (with per-replica
// memory behind it while Redis fails), process memory otherwise.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { REDIS_KEY_PREFIX } from '../state/store.ts';
import { FallbackCounters, MemoryCounters, RedisCounters, type Counters } from './counters.ts';
import { MemoryPendingBudget, RedisPendingBudget, type PendingLoginBudget } from './pending-logins.ts';
import type { RateLimits } from './settings.ts';

export interface LimitBackends {
  counters: Counters;
  pendingLogins: PendingLoginBudget;
}

export function limitBackends(limits: RateLimits, pendingMs: number, logger: Logger, redis?: Redis): LimitBackends {
  const caps = { ...limits.pendingLogins, windowMs: pendingMs };
  if (!redis) return { counters: new MemoryCounters(), pendingLogins: new MemoryPendingBudget(caps) };
  return {
    counters: new FallbackCounters(new RedisCounters(redis, `${REDIS_KEY_PREFIX}rl:`), new MemoryCounters(), logger),
    pendingLogins: new RedisPendingBudget(redis, caps, logger, `${REDIS_KEY_PREFIX}pending:`),
  };
}
