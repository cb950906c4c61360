// Keeps each OIDC profile's provider (discovery + JWKS) as last accepted and refreshes it in the
// background: at the profile's refresh interval, sooner with backoff after a failure, at once when
// the refresh annotation changes; a failed or refused refresh keeps the last accepted copy, and
// any change re-drives the profile's reconcile.
import type { Logger } from 'pino';
import { MIN_METADATA_REFRESH_INTERVAL_MS } from '../../crds/api/index.ts';
import type { FetchFunction } from '../../egress/guarded-fetch.ts';
import { OIDCDiscoveryError, readProvider, type DiscoveryFailureReason, type ProviderExpectation, type ProviderSnapshot } from './discovery.ts';

/** What a profile asks of its provider. */
export interface ProviderSource extends ProviderExpectation {
  refreshMs: number;
  /** The profile's refresh-metadata annotation: a new value fetches at once. */
  refreshRequest?: string;
}

export interface ProviderState {
  /** The last accepted discovery and keys; kept when a refresh fails or is refused. */
  snapshot?: ProviderSnapshot;
  lastError?: string;
  lastErrorReason?: DiscoveryFailureReason;
  lastErrorAt?: Date;
  inFlight: boolean;
}

interface Entry extends ProviderState {
  source: ProviderSource;
  failures: number;
  timer?: NodeJS.Timeout;
}

/** The expectations an accepted copy was checked against: when they change, the copy proves nothing. */
const identity = (s: ProviderExpectation) => JSON.stringify([s.issuer, s.provider, s.tenantID ?? null, [...s.algorithms].sort(), s.allowInsecure]);

const sameKeys = (a: ProviderSnapshot | undefined, b: ProviderSnapshot) => a !== undefined && JSON.stringify([a.discovery, a.keys]) === JSON.stringify([b.discovery, b.keys]);

export class OIDCProviderCache {
  private readonly entries = new Map<string, Entry>();
  private readonly fetch: FetchFunction;
  private readonly onChange: (key: string) => void;
  private readonly onResult: (result: string) => void;
  private readonly log: Logger;

  constructor(fetch: FetchFunction, onChange: (key: string) => void, onResult: (result: string) => void, log: Logger) {
    this.fetch = fetch;
    this.onChange = onChange;
    this.onResult = onResult;
    this.log = log;
  }

  /** The current state for the key, starting or re-targeting the fetch loop as needed. */
  get(key: string, source: ProviderSource): ProviderState {
    // Defence in depth: objects stored before the CRD's floor could ask for continuous fetches.
    const wanted = { ...source, refreshMs: Math.max(source.refreshMs, MIN_METADATA_REFRESH_INTERVAL_MS) };
    let e = this.entries.get(key);
    if (e && identity(e.source) !== identity(wanted)) {
      this.forget(key);
      e = undefined;
    }
    if (!e) {
      e = { source: wanted, failures: 0, inFlight: false };
      this.entries.set(key, e);
      void this.refresh(key, e);
    } else if (wanted.refreshRequest !== e.source.refreshRequest) {
      e.source = wanted;
      if (!e.inFlight) {
        clearTimeout(e.timer);
        void this.refresh(key, e);
      }
    }
    e.source = wanted;
    return e;
  }

  forget(key: string): void {
    const e = this.entries.get(key);
    if (e?.timer) clearTimeout(e.timer);
    this.entries.delete(key);
  }

  stop(): void {
    for (const key of [...this.entries.keys()]) this.forget(key);
  }

  private async refresh(key: string, e: Entry): Promise<void> {
    e.inFlight = true;
    let changed = false;
    try {
      const snapshot = await readProvider(this.fetch, e.source);
      if (this.entries.get(key) !== e) return;
      changed = !sameKeys(e.snapshot, snapshot) || e.lastError !== undefined;
      e.snapshot = snapshot;
      e.lastError = undefined;
      e.lastErrorReason = undefined;
      e.failures = 0;
      this.onResult('updated');
    } catch (err) {
      if (this.entries.get(key) !== e) return;
      const failure = err instanceof OIDCDiscoveryError ? err : new OIDCDiscoveryError('IssuerUnreachable', err instanceof Error ? err.message : String(err));
      this.onResult(['IssuerUnreachable', 'JWKSFetchFailed'].includes(failure.reason) ? 'error' : failure.reason === 'InsecureIssuerURL' ? 'refused' : 'rejected');
      changed = e.lastError !== failure.message || e.lastErrorReason !== failure.reason;
      e.lastError = failure.message;
      e.lastErrorReason = failure.reason;
      e.lastErrorAt = new Date();
      e.failures++;
      this.log.warn({ profile: key, issuer: e.source.issuer, reason: failure.reason, err: failure.message }, 'OpenID Provider discovery failed');
    } finally {
      e.inFlight = false;
    }
    if (this.entries.get(key) !== e) return;
    // Failures retry sooner than the refresh interval, backing off up to it.
    const delay = e.failures > 0 ? Math.min(e.source.refreshMs, 1000 * 2 ** Math.min(e.failures, 10)) : e.source.refreshMs;
    e.timer = setTimeout(() => void this.refresh(key, e), delay);
    e.timer.unref();
    if (changed || e.failures === 1) this.onChange(key);
  }
}
