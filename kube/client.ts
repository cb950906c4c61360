// A thin Kubernetes REST client on undici: one connection pool per API server, the kubeconfig's
// credentials, and one hook that sees every request (for the request-count metric). The
// generated client-node APIs hide the Content-Type of patches and cannot stream watches without
// buffering, and the operator needs exact control of both.
import { Agent, request, type Dispatcher } from 'undici';
import type { Credentials } from './kubeconfig.ts';

export class KubeApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly body: unknown;
  constructor(code: number, reason: string, message: string, body: unknown) {
    super(message);
    this.name = 'KubeApiError';
    this.code = code;
    this.reason = reason;
    this.body = body;
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
}

const HEADER_REFRESH_MS = 60_000;

export class KubeClient {
  readonly server: string;
  private readonly creds: Credentials;
  private readonly dispatcher: Dispatcher;
  private readonly options: ClientOptions;
  private headers: Record<string, string> = {};
  private headersAt = 0;

  private constructor(creds: Credentials, server: string, dispatcher: Dispatcher, options: ClientOptions) {
    this.creds = creds;
    this.server = server.replace(/\/$/, '');
    this.dispatcher = dispatcher;
    this.options = options;
  }

  static async create(creds: Credentials, options: ClientOptions = {}): Promise<KubeClient> {
    const dispatcher = new Agent({
      connect: { ca: creds.ca, cert: creds.cert, key: creds.key, rejectUnauthorized: !creds.insecureSkipTLSVerify },
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
    this.headers = await this.creds.headers();
    this.headersAt = Date.now();
  }

  private async send(method: Dispatcher.HttpMethod, path: string, o: CallOptions): Promise<Dispatcher.ResponseData> {
    if (Date.now() - this.headersAt > HEADER_REFRESH_MS) await this.refreshHeaders();
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { ...this.headers, accept: 'application/json' };
    if (this.options.userAgent) headers['user-agent'] = this.options.userAgent;
    let body: string | undefined;
    if (o.body !== undefined) {
      body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      headers['content-type'] = o.contentType ?? 'application/json';
    }
    const started = performance.now();
    // undici's own timeouts, not AbortSignal.timeout: a timeout signal keeps every request's
    // state alive for the whole timeout, which at hundreds of requests a second is most of the heap.
    const timeouts = o.timeoutMs ? { headersTimeout: o.timeoutMs, bodyTimeout: o.timeoutMs } : { headersTimeout: 30_000, bodyTimeout: 0 };
    try {
      const res = await request(url, { method, headers, body, dispatcher: this.dispatcher, signal: o.signal, ...timeouts });
      this.options.onRequest?.({ verb: o.verb ?? method.toLowerCase(), path, code: res.statusCode, durationSeconds: (performance.now() - started) / 1000 });
      return res;
    } catch (err) {
      this.options.onRequest?.({ verb: o.verb ?? method.toLowerCase(), path, code: 0, durationSeconds: (performance.now() - started) / 1000 });
      throw err;
    }
  }

  /** A JSON request; non-2xx answers throw KubeApiError with the Status reason. */
  async call<T = unknown>(method: Dispatcher.HttpMethod, path: string, o: CallOptions = {}): Promise<T> {
    const res = await this.send(method, path, { timeoutMs: 30_000, ...o });
    if (o.discardBody && res.statusCode >= 200 && res.statusCode < 300) {
      await res.body.dump({ limit: Infinity });
      return undefined as T;
    }
    const text = await res.body.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const status = parsed as { reason?: string; message?: string } | undefined;
      throw new KubeApiError(res.statusCode, status?.reason ?? 'Unknown', `${method} ${path}: ${res.statusCode} ${status?.message ?? text.slice(0, 300)}`, parsed);
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
  async apply<T = unknown>(path: string, body: unknown, fieldManager: string, options: { subresource?: string; force?: boolean; discardBody?: boolean } = {}): Promise<T> {
    const target = options.subresource ? `${path}/${options.subresource}` : path;
    return this.call<T>('PATCH', target, {
      discardBody: options.discardBody,
      body,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager, force: options.force ?? true },
      verb: 'apply',
    });
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
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

export const isNotFound = (err: unknown): boolean => err instanceof KubeApiError && err.code === 404;
export const isConflict = (err: unknown): boolean => err instanceof KubeApiError && err.code === 409;
