// The assertion replay cache: an assertion ID is accepted once until it expires. The interface
// lets Redis back it when several replicas share logins (state/store.ts).

export interface ReplayCache {
  /** Records an assertion ID until `expiresAt`; resolves false when it was already seen. */
  remember(assertionID: string, expiresAt: Date): Promise<boolean>;
}

/** A process-local replay cache for a single replica; Redis backs it when there are several. */
export const memoryReplayCache = (): ReplayCache => {
  const seen = new Map<string, number>();
  let nextSweep = 0;
  return {
    async remember(assertionID: string, expiresAt: Date): Promise<boolean> {
      const now = Date.now();
      if (now >= nextSweep) {
        for (const [id, until] of seen) if (until <= now) seen.delete(id);
        nextSweep = now + 10_000;
      }
      const until = seen.get(assertionID);
      if (until !== undefined && until > now) return false;
      seen.set(assertionID, Math.max(expiresAt.getTime(), now + 1000));
      return true;
    },
  };
};
