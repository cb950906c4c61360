// The background refresh a profile's remote document gets (SAML metadata URLs, OIDC discovery +
// JWKS): one entry per profile key, fetched at once, again at the refresh interval, sooner with
// backoff after a failure, at once on request; a change re-drives the profile's reconcile.
import { MIN_METADATA_REFRESH_INTERVAL_MS } from '../crds/api/index.ts';

export interface RefreshEntry {
  refreshMs: number;
  failures: number;
  inFlight: boolean;
  timer?: NodeJS.Timeout;
}

/** Defence in depth: objects stored before the CRD's floor could ask for continuous fetches. */
export const refreshInterval = (ms: number): number => Math.max(ms, MIN_METADATA_REFRESH_INTERVAL_MS);

export abstract class RefreshLoop<E extends RefreshEntry> {
  private readonly entries = new Map<string, E>();
  private readonly onChange: (key: string) => void;

  constructor(onChange: (key: string) => void) {
    this.onChange = onChange;
  }

  /**
   * Fetches for one entry and updates it (failures included) unless the entry is no longer
   * current; says whether what the profile sees changed. Never throws.
   */
  protected abstract fetchOnce(key: string, e: E, isCurrent: () => boolean): Promise<boolean>;

  protected entry(key: string): E | undefined {
    return this.entries.get(key);
  }

  /** Keeps `e` for the key and fetches it at once. */
  protected start(key: string, e: E): void {
    this.entries.set(key, e);
    void this.run(key, e);
  }

  /** Fetches now, unless a fetch is already under way. */
  protected refreshNow(key: string, e: E): void {
    if (e.inFlight) return;
    clearTimeout(e.timer);
    void this.run(key, e);
  }

  forget(key: string): void {
    const e = this.entries.get(key);
    if (e?.timer) clearTimeout(e.timer);
    this.entries.delete(key);
  }

  stop(): void {
    for (const key of [...this.entries.keys()]) this.forget(key);
  }

  private async run(key: string, e: E): Promise<void> {
    const isCurrent = () => this.entries.get(key) === e;
    e.inFlight = true;
    let changed = false;
    try {
      changed = await this.fetchOnce(key, e, isCurrent);
    } finally {
      e.inFlight = false;
    }
    if (!isCurrent()) return;
    // Failures retry sooner than the refresh interval, backing off up to it.
    const delay = e.failures > 0 ? Math.min(e.refreshMs, 1000 * 2 ** Math.min(e.failures, 10)) : e.refreshMs;
    e.timer = setTimeout(() => void this.run(key, e), delay);
    e.timer.unref();
    if (changed || e.failures === 1) this.onChange(key);
  }
}
