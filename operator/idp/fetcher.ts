// Fetches IdP metadata URLs: https only unless the installation allows http, bounded time and
// size, conditional requests, a refusal to talk to loopback, link-local or private addresses
// (SSRF) unless explicitly allowed, only documents the profile's trust accepts, the last accepted
// copy kept when a refresh fails or is refused, and periodic refresh that re-drives reconciliation.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Logger } from 'pino';
import { EgressRefusedError, guardedLookup, isPrivateAddress, literalHostRefusal } from '../../egress/address-guard.ts';
import { RefreshLoop, refreshInterval, type RefreshEntry } from '../refresh-loop.ts';
import { IdPConfigError, type IdPDescriptor } from './metadata.ts';
import { acceptMetadata, type MetadataTrust } from './trust.ts';

export { isPrivateAddress };

/** Why a metadata URL must not be fetched under this installation's policy, or undefined when it may. */
export function insecureMetadataURL(url: string, allowInsecure: boolean): string | undefined {
  if (allowInsecure || !url.toLowerCase().startsWith('http:')) return undefined;
  return `the metadata URL ${url} is plain http://, where anyone on the network path could substitute the IdP's certificates: use the IdP's https:// metadata URL or paste the metadata into spec.idp.metadata.xml (this installation fetches http:// only with the operator flag --allow-insecure-metadata-urls, chart value operator.allowInsecureMetadataURLs)`;
}

export class MetadataFetchError extends Error {
  readonly code: 'Refused' | 'Timeout' | 'TooLarge' | 'HTTPError' | 'NetworkError';
  constructor(code: MetadataFetchError['code'], message: string) {
    super(message);
    this.name = 'MetadataFetchError';
    this.code = code;
  }
}

export interface FetchOptions {
  timeoutMs: number;
  maxBytes: number;
  allowPrivate: boolean;
  allowInsecure: boolean;
  etag?: string;
  lastModified?: string;
}

export type FetchResult = { notModified: true } | { notModified: false; body: string; etag?: string; lastModified?: string };

export async function fetchMetadata(url: string, o: FetchOptions): Promise<FetchResult> {
  const u = new URL(url);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new MetadataFetchError('Refused', `metadata URL scheme ${u.protocol} is not http(s)`);
  const insecure = insecureMetadataURL(url, o.allowInsecure);
  if (insecure !== undefined) throw new MetadataFetchError('Refused', insecure);
  const literal = literalHostRefusal(u, o.allowPrivate);
  if (literal !== undefined) throw new MetadataFetchError('Refused', `metadata URL host ${literal}`);
  // The address is checked at connect time, after resolution, so DNS cannot point elsewhere later.
  const lookup = guardedLookup(o.allowPrivate);
  const headers: Record<string, string> = { accept: 'application/samlmetadata+xml, application/xml, text/xml', 'user-agent': 'gatehouse-operator' };
  if (o.etag) headers['if-none-match'] = o.etag;
  if (o.lastModified) headers['if-modified-since'] = o.lastModified;
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<FetchResult>((resolve, reject) => {
    const req = send(u, { method: 'GET', headers, lookup, timeout: o.timeoutMs }, (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status === 304) {
        res.resume();
        return resolve({ notModified: true });
      }
      if (status !== 200) {
        res.resume();
        return reject(new MetadataFetchError('HTTPError', `metadata URL answered HTTP ${status}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`));
      }
      const declared = Number(res.headers['content-length'] ?? '0');
      if (declared > o.maxBytes) {
        res.destroy();
        return reject(new MetadataFetchError('TooLarge', `metadata is larger than ${o.maxBytes} bytes`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > o.maxBytes) {
          res.destroy();
          reject(new MetadataFetchError('TooLarge', `metadata is larger than ${o.maxBytes} bytes`));
        } else chunks.push(c);
      });
      res.on('end', () => {
        const etag = typeof res.headers.etag === 'string' ? res.headers.etag : undefined;
        const lastModified = typeof res.headers['last-modified'] === 'string' ? res.headers['last-modified'] : undefined;
        resolve({ notModified: false, body: Buffer.concat(chunks).toString('utf8'), etag, lastModified });
      });
      res.on('error', (err) => reject(new MetadataFetchError('NetworkError', err.message)));
    });
    const hardTimeout = setTimeout(() => req.destroy(new MetadataFetchError('Timeout', `metadata fetch took longer than ${o.timeoutMs} ms`)), o.timeoutMs);
    req.on('timeout', () => req.destroy(new MetadataFetchError('Timeout', `metadata fetch took longer than ${o.timeoutMs} ms`)));
    req.on('error', (err) => reject(err instanceof MetadataFetchError ? err : err instanceof EgressRefusedError ? new MetadataFetchError('Refused', `metadata URL host ${err.message}`) : new MetadataFetchError('NetworkError', err.message)));
    req.on('close', () => clearTimeout(hardTimeout));
    req.end();
  });
}

/** What a profile asks of its metadata URL. */
export interface MetadataSource {
  url: string;
  refreshMs: number;
  trust: MetadataTrust;
  /** The profile's refresh-metadata annotation: a new value fetches at once. */
  refreshRequest?: string;
}

export interface MetadataState {
  url: string;
  /** The last accepted document and what it describes; kept when a refresh fails or is refused. */
  xml?: string;
  descriptor?: IdPDescriptor;
  fetchedAt?: Date;
  etag?: string;
  lastModified?: string;
  lastError?: string;
  /** The IdPConfigValid reason of the last failure: MetadataFetchFailed, or why the document was refused. */
  lastErrorReason?: string;
  lastErrorAt?: Date;
  inFlight: boolean;
}

interface Entry extends MetadataState, RefreshEntry {
  trust: MetadataTrust;
  refreshRequest?: string;
}

const sameTrust = (a: MetadataTrust, b: MetadataTrust) => a.signingCertificate === b.signingCertificate;

/** Keeps one metadata document per profile key and refreshes it in the background. */
export class MetadataCache extends RefreshLoop<Entry> {
  private readonly options: Omit<FetchOptions, 'etag' | 'lastModified'>;
  private readonly onResult: (result: string) => void;
  private readonly log: Logger;

  constructor(options: Omit<FetchOptions, 'etag' | 'lastModified'>, onChange: (key: string) => void, onResult: (result: string) => void, log: Logger) {
    super(onChange);
    this.options = options;
    this.onResult = onResult;
    this.log = log;
  }

  /**
   * The current state for the key, starting or re-targeting the fetch loop as needed: a new URL
   * or a new trust fetches afresh (a copy accepted under another certificate proves nothing).
   */
  get(key: string, source: MetadataSource): MetadataState {
    const refreshMs = refreshInterval(source.refreshMs);
    let e = this.entry(key);
    if (e && (e.url !== source.url || !sameTrust(e.trust, source.trust))) {
      this.forget(key);
      e = undefined;
    }
    if (!e) {
      e = { url: source.url, refreshMs, trust: source.trust, refreshRequest: source.refreshRequest, failures: 0, inFlight: false };
      this.start(key, e);
    } else if (source.refreshRequest !== e.refreshRequest) {
      e.refreshRequest = source.refreshRequest;
      this.refreshNow(key, e);
    }
    e.refreshMs = refreshMs;
    return e;
  }

  protected async fetchOnce(key: string, e: Entry, isCurrent: () => boolean): Promise<boolean> {
    let changed = false;
    try {
      const res = await fetchMetadata(e.url, { ...this.options, etag: e.etag, lastModified: e.lastModified });
      if (!isCurrent()) return false;
      if (res.notModified) {
        this.onResult('not_modified');
      } else {
        // Refused documents change nothing, not even the validators of the conditional request.
        const descriptor = acceptMetadata(res.body, e.trust, new Date());
        changed = res.body !== e.xml;
        e.xml = res.body;
        e.descriptor = descriptor;
        e.etag = res.etag;
        e.lastModified = res.lastModified;
        this.onResult('updated');
      }
      e.fetchedAt = new Date();
      changed ||= e.lastError !== undefined;
      e.lastError = undefined;
      e.lastErrorReason = undefined;
      e.failures = 0;
    } catch (err) {
      if (!isCurrent()) return false;
      const msg = err instanceof Error ? err.message : String(err);
      const reason = err instanceof IdPConfigError ? err.reason : 'MetadataFetchFailed';
      this.onResult(err instanceof IdPConfigError ? 'rejected' : err instanceof MetadataFetchError && err.code === 'Refused' ? 'refused' : 'error');
      changed = e.lastError !== msg || e.lastErrorReason !== reason;
      e.lastError = msg;
      e.lastErrorReason = reason;
      e.lastErrorAt = new Date();
      e.failures++;
      this.log.warn({ profile: key, url: e.url, reason, err: msg }, err instanceof IdPConfigError ? 'IdP metadata refused' : 'IdP metadata fetch failed');
    }
    return changed;
  }
}
