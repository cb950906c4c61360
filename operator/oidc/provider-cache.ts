// Keeps each OIDC profile's provider (discovery + JWKS) as last accepted and refreshes it in the
// background: at the profile's refresh interval, sooner with backoff after a failure, at once when
// the refresh annotation changes; a failed or refused refresh keeps the last accepted copy, and
// any change re-drives the profile's reconcile.
import type { Logger } from 'pino';
import type { FetchFunction } from '../../egress/guarded-fetch.ts';
import { RefreshLoop, refreshInterval, type RefreshEntry } from '../refresh-loop.ts';
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

interface Entry extends ProviderState, RefreshEntry {
  source: ProviderSource;
}

/** The expectations an accepted copy was checked against: when they change, the copy proves nothing. */
const identity = (s: ProviderExpectation) => JSON.stringify([s.issuer, s.provider, s.tenantID ?? null, [...s.algorithms].sort(), s.allowInsecure]);

const sameKeys = (a: ProviderSnapshot | undefined, b: ProviderSnapshot) => a !== undefined && JSON.stringify([a.discovery, a.keys]) === JSON.stringify([b.discovery, b.keys]);

export class OIDCProviderCache extends RefreshLoop<Entry> {
  private readonly fetch: FetchFunction;
  private readonly onResult: (result: string) => void;
  private readonly log: Logger;

  constructor(fetch: FetchFunction, onChange: (key: string) => void, onResult: (result: string) => void, log: Logger) {
    super(onChange);
    this.fetch = fetch;
    this.onResult = onResult;
    this.log = log;
  }

  /** The current state for the key, starting or re-targeting the fetch loop as needed. */
  get(key: string, source: ProviderSource): ProviderState {
    const wanted = { ...source, refreshMs: refreshInterval(source.refreshMs) };
    let e = this.entry(key);
    if (e && identity(e.source) !== identity(wanted)) {
      this.forget(key);
      e = undefined;
    }
    if (!e) {
      e = { source: wanted, refreshMs: wanted.refreshMs, failures: 0, inFlight: false };
      this.start(key, e);
    } else {
      const requested = wanted.refreshRequest !== e.source.refreshRequest;
      e.source = wanted;
      e.refreshMs = wanted.refreshMs;
      if (requested) this.refreshNow(key, e);
    }
    return e;
  }

  protected async fetchOnce(key: string, e: Entry, isCurrent: () => boolean): Promise<boolean> {
    try {
      const snapshot = await readProvider(this.fetch, e.source);
      if (!isCurrent()) return false;
      const same = sameKeys(e.snapshot, snapshot);
      const changed = !same || e.lastError !== undefined;
      // An unchanged provider keeps the time its keys were first accepted: that time is rendered
      // into the shared config, which must not be rewritten for every organization's refresh.
      e.snapshot = same && e.snapshot ? { ...snapshot, jwksFetchedAt: e.snapshot.jwksFetchedAt } : snapshot;
      e.lastError = undefined;
      e.lastErrorReason = undefined;
      e.failures = 0;
      this.onResult('updated');
      return changed;
    } catch (err) {
      if (!isCurrent()) return false;
      const failure = err instanceof OIDCDiscoveryError ? err : new OIDCDiscoveryError('IssuerUnreachable', err instanceof Error ? err.message : String(err));
      this.onResult(['IssuerUnreachable', 'JWKSFetchFailed'].includes(failure.reason) ? 'error' : failure.reason === 'InsecureIssuerURL' ? 'refused' : 'rejected');
      const changed = e.lastError !== failure.message || e.lastErrorReason !== failure.reason;
      e.lastError = failure.message;
      e.lastErrorReason = failure.reason;
      e.lastErrorAt = new Date();
      e.failures++;
      this.log.warn({ profile: key, issuer: e.source.issuer, reason: failure.reason, err: failure.message }, 'OpenID Provider discovery failed');
      return changed;
    }
  }
}
