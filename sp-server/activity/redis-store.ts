// The sign-in activity shared by the sp-server's replicas: one capped Redis list per
// organization (LPUSH, LTRIM, EXPIRE in one pipeline), written without waiting for the answer.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { REDIS_KEY_PREFIX } from '../state/store.ts';
import { ACTIVITY_ENTRIES_PER_ORGANIZATION, activityEntry, type ActivityEntry, type ActivityStore } from './store.ts';

/** An organization's list lives 30 days after its last entry. */
export const ACTIVITY_TTL_SECONDS = 30 * 24 * 60 * 60;

export const activityKey = (namespace: string) => `${REDIS_KEY_PREFIX}activity:${namespace}`;

export class RedisActivityStore implements ActivityStore {
  private readonly redis: Redis;
  private readonly logger: Logger;
  private readonly perOrganization: number;

  /** `redis` should fail fast (no offline queue, a short command timeout): a login never waits for it. */
  constructor(redis: Redis, logger: Logger, perOrganization = ACTIVITY_ENTRIES_PER_ORGANIZATION) {
    this.redis = redis;
    this.logger = logger;
    this.perOrganization = perOrganization;
  }

  record(namespace: string, entry: ActivityEntry): void {
    const key = activityKey(namespace);
    this.redis
      .pipeline()
      .lpush(key, JSON.stringify(entry))
      .ltrim(key, 0, this.perOrganization - 1)
      .expire(key, ACTIVITY_TTL_SECONDS)
      .exec()
      .then((results) => {
        const failed = results?.find(([err]) => err !== null)?.[0];
        if (failed) this.logger.warn({ err: failed.message, namespace }, 'sign-in activity not recorded');
      })
      .catch((err: unknown) => this.logger.warn({ err: err instanceof Error ? err.message : String(err), namespace }, 'sign-in activity not recorded'));
  }

  async latest(namespace: string, limit: number): Promise<ActivityEntry[]> {
    const raw = await this.redis.lrange(activityKey(namespace), 0, Math.min(limit, this.perOrganization) - 1);
    // Another process wrote these: whatever does not parse is left out.
    return raw.flatMap((text) => {
      try {
        const parsed = activityEntry.safeParse(JSON.parse(text));
        return parsed.success ? [parsed.data] : [];
      } catch {
        return [];
      }
    });
  }
}
