// The one Kubernetes REST client of Gatehouse (operator, sp-server, SCIM, tests, benchmarks): an
// undici pool per API server (optionally, request/answer calls as streams of one node:http2
// session, kube/h2-session.ts, watches staying on undici), the kubeconfig's credentials, bounded
// retries of what the API server asks to be retried, and one hook that sees every request (for
// the request-count metric). The generated client-node APIs hide the Content-Type of patches,
// build a connection pool per request and cannot stream watches without buffering.
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, type Dispatcher } from 'undici';
import { H2_CUT_OFF_CODES, H2_NOT_SENT_CODES, H2Session, NotHttp2Error } from './h2-session.ts';
import type { Credentials } from './kubeconfig.ts';

/** Every non-2xx answer of the API server: the HTTP code and the Status reason. */
export class KubeApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly body: unknown;
  readonly retryAfterSeconds: number | undefined;
  constructor(code: number, reason: string, message: string, body: unknown, retryAfterSeconds?: number) {
    super(message);
    this.name = 'KubeApiError';
    this.code = code;
    this.reason = reason;
    this.body = body;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export interface RequestEvent {
  verb: string;
  path: string;
  code: number;
  durationSeconds: number;
}

export interface ClientOptions {
  userAgent?: string;
  /** Called once per completed (or failed: code 0) request. */
  onRequest?: (event: RequestEvent) => void;
  connections?: number;
  /**
   * true: request/answer calls over one node:http2 session (undici when the server does not
   * negotiate h2). A quarter less client CPU per call in bench:kube-client; the operator sets it
   * (its status writes), other clients keep undici.
   */
  http2?: boolean;
}

type Query = Record<string, string | number | boolean | undefined>;

interface CallOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Verb for the metric when it differs from the method (list, watch, apply). */
  verb?: string;
  timeoutMs?: number;
  /** Skip reading the answer's body into memory (the caller does not need it). */
  discardBody?: boolean;
  /** Retries after 429/503 and connection failures (default 5; 0 for callers with their own deadline). */
  retries?: number;
}

const DEFAULT_RETRIES = 5;
const MAX_BACKOFF_MS = 5_000;
const MAX_RETRY_AFTER_S = 10;
// Failures where the request may never have reached the API server, or the connection died
// before an answer. Only requests that are safe to send twice are retried after the latter.
const NOT_SENT = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EAI_AGAIN', ...H2_NOT_SENT_CODES]);
const CUT_OFF = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ETIMEDOUT', ...H2_CUT_OFF_CODES]);

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function retryAfter(header: string | string[] | undefined): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (v === undefined) return undefined;
  const seconds = Number(v);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}

/** Full-jitter exponential backoff, or the server's Retry-After (bounded) when it gave one. */
export function retryDelayMs(attempt: number, retryAfterSeconds?: number): number {
  if (retryAfterSeconds !== undefined) return Math.min(retryAfterSeconds, MAX_RETRY_AFTER_S) * 1000 * (0.9 + Math.random() * 0.2);
  return Math.random() * Math.min(MAX_BACKOFF_MS, 100 * 2 ** attempt);
}

const HEADER_REFRESH_MS = 60_000;

/** `?k=v&…` of the defined members, percent-encoded (what the API server decodes), or ''. */
export function queryString(query: Query | undefined): string {
  let out = '';
  if (query) for (const k in query) {
    const v = query[k];
    if (v !== undefined) out += `${out ? '&' : '?'}${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`;
  }
  return out;
}

export class KubeClient {
  readonly server: string;
  private readonly creds: Credentials;
  private readonly dispatcher: Dispatcher;
  /** Request/answer calls over one HTTP/2 session; undefined once the server turned out not to speak it. */
  private h2: H2Session | undefined;
  private readonly options: ClientOptions;
  /** The server's origin and its path prefix (a proxy may serve the API under one). */
  private readonly origin: string;
  private readonly basePath: string;
  /** Credentials, accept and user-agent: built once per credential refresh, shared by every request. */
  private headers: Record<string, string> = {};
  /** The same plus each Content-Type the client has sent: a write does not copy the headers. */
  private headersWithBody = new Map<string, Record<string, string>>();
  private headersAt = 0;

  private constructor(creds: Credentials, server: string, dispatcher: Dispatcher, options: ClientOptions) {
    this.creds = creds;
    this.server = server.replace(/\/$/, '');
    const url = new URL(this.server);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/$/, '');
    this.dispatcher = dispatcher;
    this.options = options;
    if (url.protocol === 'https:' && options.http2 === true) {
      this.h2 = new H2Session(this.origin, { ca: creds.ca, cert: creds.cert, key: creds.key, servername: creds.servername, rejectUnauthorized: !creds.insecureSkipTLSVerify });
    }
  }

  static async create(creds: Credentials, options: ClientOptions = {}): Promise<KubeClient> {
    const dispatcher = new Agent({
      connect: { ca: creds.ca, cert: creds.cert, key: creds.key, servername: creds.servername, rejectUnauthorized: !creds.insecureSkipTLSVerify },
      connections: options.connections ?? 32,
      keepAliveTimeout: 30_000,
      // Watches stay open for minutes; the API server closes them itself (timeoutSeconds).
      bodyTimeout: 0,
      headersTimeout: 30_000,
    });
    const client = new KubeClient(creds, creds.server, dispatcher, options);
    await client.refreshHeaders();
    return client;
  }

  // Service-account tokens rotate; re-read the credentials now and then.
  private async refreshHeaders(): Promise<void> {
    this.headers = { ...(await this.creds.headers()), accept: 'application/json', ...(this.options.userAgent ? { 'user-agent': this.options.userAgent } : {}) };
    this.headersWithBody = new Map();
    this.headersAt = Date.now();
  }

  private headersFor(contentType: string): Record<string, string> {
    let h = this.headersWithBody.get(contentType);
    if (!h) this.headersWithBody.set(contentType, (h = { ...this.headers, 'content-type': contentType }));
    return h;
  }

  /** Headers for a request with this body (the shared objects: a request does not copy them). */
  private async requestHeaders(o: CallOptions): Promise<{ headers: Record<string, string>; body: string | undefined }> {
    if (Date.now() - this.headersAt > HEADER_REFRESH_MS) await this.refreshHeaders();
    if (o.body === undefined) return { headers: this.headers, body: undefined };
    return { headers: this.headersFor(o.contentType ?? 'application/json'), body: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) };
  }

  private report(method: string, path: string, o: CallOptions, code: number, started: number): void {
    this.options.onRequest?.({ verb: o.verb ?? method.toLowerCase(), path, code, durationSeconds: (performance.now() - started) / 1000 });
  }

  /** A streaming request through undici (watches; every call when the server has no HTTP/2). */
  private async send(method: Dispatcher.HttpMethod, path: string, o: CallOptions): Promise<Dispatcher.ResponseData> {
    const { headers, body } = await this.requestHeaders(o);
    const started = performance.now();
    // undici's own timeouts, not AbortSignal.timeout: a timeout signal keeps every request's
    // state alive for the whole timeout, which at hundreds of requests a second is most of the heap.
    const timeouts = o.timeoutMs ? { headersTimeout: o.timeoutMs, bodyTimeout: o.timeoutMs } : { headersTimeout: 30_000, bodyTimeout: 0 };
    try {
      // The dispatcher takes origin and path as they are: no WHATWG URL built and parsed per request.
      const res = await this.dispatcher.request({ origin: this.origin, path: this.basePath + path + queryString(o.query), method, headers, body, signal: o.signal, ...timeouts });
      this.report(method, path, o, res.statusCode, started);
      return res;
    } catch (err) {
      this.report(method, path, o, 0, started);
      throw err;
    }
  }

  /** One request and its whole answer: over the HTTP/2 session when there is one, else undici. */
  private async exchange(method: Dispatcher.HttpMethod, path: string, o: CallOptions & { timeoutMs: number }): Promise<{ statusCode: number; retryAfter: string | string[] | undefined; text: string }> {
    const h2 = this.h2;
    if (!h2) {
      const res = await this.send(method, path, o);
      if (o.discardBody && res.statusCode >= 200 && res.statusCode < 300) {
        await res.body.dump({ limit: Infinity });
        return { statusCode: res.statusCode, retryAfter: undefined, text: '' };
      }
      return { statusCode: res.statusCode, retryAfter: res.headers['retry-after'], text: await res.body.text() };
    }
    const { headers, body } = await this.requestHeaders(o);
    const started = performance.now();
    try {
      const answer = await h2.request({ method, path: this.basePath + path + queryString(o.query), headers, body, timeoutMs: o.timeoutMs, signal: o.signal, discardBody: o.discardBody });
      this.report(method, path, o, answer.statusCode, started);
      return { statusCode: answer.statusCode, retryAfter: answer.headers['retry-after'], text: answer.text };
    } catch (err) {
      if (err instanceof NotHttp2Error) {
        // Known before anything was sent: this server gets undici from now on.
        if (this.h2 === h2) this.h2 = undefined;
        void h2.close();
        return this.exchange(method, path, o);
      }
      this.report(method, path, o, 0, started);
      throw err;
    }
  }

  /**
   * A JSON request; non-2xx answers throw KubeApiError with the Status reason. 429 and 503 (API
   * priority and fairness, a watch cache still initialising, an API server restarting) and lost
   * connections are retried with backoff, honouring Retry-After; a POST is not re-sent once it
   * may have reached the server.
   */
  async call<T = unknown>(method: Dispatcher.HttpMethod, path: string, o: CallOptions = {}): Promise<T> {
    const retries = o.retries ?? DEFAULT_RETRIES;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.callOnce<T>(method, path, o);
      } catch (err) {
        if (attempt >= retries || o.signal?.aborted) throw err;
        let delay: number;
        if (err instanceof KubeApiError) {
          if (err.code !== 429 && err.code !== 503) throw err;
          delay = retryDelayMs(attempt, err.retryAfterSeconds);
        } else {
          const code = errorCode(err);
          if (!code || !(NOT_SENT.has(code) || (CUT_OFF.has(code) && method !== 'POST'))) throw err;
          delay = retryDelayMs(attempt);
        }
        await sleep(delay, undefined, o.signal ? { signal: o.signal } : {}).catch(() => undefined);
        if (o.signal?.aborted) throw err;
      }
    }
  }

  private async callOnce<T>(method: Dispatcher.HttpMethod, path: string, o: CallOptions): Promise<T> {
    const res = await this.exchange(method, path, { timeoutMs: 30_000, ...o });
    if (o.discardBody && res.statusCode >= 200 && res.statusCode < 300) return undefined as T;
    const text = res.text;
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const status = parsed as { reason?: string; message?: string } | undefined;
      throw new KubeApiError(res.statusCode, status?.reason ?? 'Unknown', `${method} ${path}: ${res.statusCode} ${status?.message ?? text.slice(0, 300)}`, parsed, retryAfter(res.retryAfter));
    }
    return parsed as T;
  }

  /** Opens a watch and yields each event line until the server closes it or the signal aborts. */
  async *watchLines(path: string, query: Query, signal: AbortSignal): AsyncGenerator<string> {
    const res = await this.send('GET', path, { query: { ...query, watch: 1 }, signal, verb: 'watch' });
    if (res.statusCode !== 200) {
      const text = await res.body.text();
      let reason = 'Unknown';
      try {
        reason = (JSON.parse(text) as { reason?: string }).reason ?? reason;
      } catch {
        /* not a Status */
      }
      throw new KubeApiError(res.statusCode, reason, `watch ${path}: ${res.statusCode} ${text.slice(0, 300)}`, text);
    }
    let buffer = '';
    res.body.setEncoding('utf8');
    for await (const chunk of res.body as AsyncIterable<string>) {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim()) yield line;
      }
    }
    if (buffer.trim()) yield buffer;
  }

  /**
   * Server-side apply. `subresource` 'status' targets /status, the only way to write status of a
   * kind with the status subresource. The body is JSON, which is valid YAML for apply-patch+yaml.
   */
  async apply<T = unknown>(path: string, body: unknown, fieldManager: string, options: { subresource?: string; force?: boolean; discardBody?: boolean; retries?: number } = {}): Promise<T> {
    const target = options.subresource ? `${path}/${options.subresource}` : path;
    return this.call<T>('PATCH', target, {
      discardBody: options.discardBody,
      ...(options.retries !== undefined ? { retries: options.retries } : {}),
      body,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager, force: options.force ?? true },
      verb: 'apply',
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.h2?.close(), this.dispatcher.close()]);
  }
}

export interface ResourceRef {
  group: string; // '' for the core group
  version: string;
  plural: string;
}

/** The REST path of a collection or one object. */
export function resourcePath(ref: ResourceRef, namespace?: string, name?: string): string {
  const base = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${ref.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

export const isApiError = (err: unknown, code: number): boolean => err instanceof KubeApiError && err.code === code;
export const isNotFound = (err: unknown): boolean => isApiError(err, 404);
export const isConflict = (err: unknown): boolean => isApiError(err, 409);
