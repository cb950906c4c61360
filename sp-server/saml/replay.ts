// The assertion replay cache: an assertion is accepted once until it expires. Assertion IDs are
// unique only per issuer, so the key is the issuer with the ID: two IdPs whose IDs collide do not
// block each other. The interface lets Redis back it when several replicas share logins
// (state/store.ts).
import { hash } from 'node:crypto';

export interface ReplayCache {
  /** Records an issuer's assertion ID until `expiresAt`; resolves false when it was already seen. */
  remember(issuer: string, assertionID: string, expiresAt: Date): Promise<boolean>;
}

/** One key per (issuer, assertion ID): the issuer's fixed-length digest, so no pair can spell another's key. */
export function replayKey(issuer: string, assertionID: string): string {
  return `${hash('sha256', issuer, 'base64url')}:${assertionID}`;
}

/** A process-local replay cache for a single replica; Redis backs it when there are several. */
export const memoryReplayCache = (): ReplayCache => {
  const seen = new Map<string, number>();
  let nextSweep = 0;
  return {
    async remember(issuer: string, assertionID: string, expiresAt: Date): Promise<boolean> {
      const now = Date.now();
      if (now >= nextSweep) {
        for (const [id, until] of seen) if (until <= now) seen.delete(id);
        nextSweep = now + 10_000;
      }
      const key = replayKey(issuer, assertionID);
      const until = seen.get(key);
      if (until !== undefined && until > now) return false;
      seen.set(key, Math.max(expiresAt.getTime(), now + 1000));
      return true;
    },
  };
};
