// One HTTP/2 session to the API server for the client's request/answer calls (status writes,
// gets, lists, creates) when the client is created with `http2: true`: every call is a stream
// multiplexed on one TLS connection, with node's own HTTP/2 stack (a quarter less client CPU per
// call than undici's in bench:kube-client). Watches stay on undici (kube/client.ts).
// The session is opened on first use and again after the server sent GOAWAY or the connection
// died; a server that does not negotiate h2 by ALPN makes the client use undici for everything.
import http2, { type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';

export interface H2Answer {
  statusCode: number;
  headers: IncomingHttpHeaders;
  /** The body as text ('' when it was discarded). */
  text: string;
}

export interface H2Request {
  method: string;
  /** Path and query, as sent. */
  path: string;
  headers: Readonly<Record<string, string>>;
  body?: string;
  /** Idle time allowed while waiting for the answer or between its chunks. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Drop a 2xx answer's body unread. */
  discardBody?: boolean;
}

export interface H2TlsOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  servername?: string;
  rejectUnauthorized: boolean;
}

/** The server answered the TLS handshake without h2: use another transport. */
export class NotHttp2Error extends Error {
  constructor(origin: string, cause?: unknown) {
    super(`${origin} does not speak HTTP/2`, { cause });
    this.name = 'NotHttp2Error';
  }
}

/**
 * Error codes of failed calls. A refused stream (beyond a GOAWAY's last stream, or a session
 * that could not take it) never reached the server; a reset or a dead session may have.
 */
export const H2_NOT_SENT_CODES: ReadonlySet<string> = new Set(['ERR_HTTP2_REFUSED_STREAM', 'ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_INVALID_SESSION', 'ERR_HTTP2_OUT_OF_STREAMS']);
export const H2_CUT_OFF_CODES: ReadonlySet<string> = new Set(['ERR_HTTP2_STREAM_CANCEL', 'ERR_HTTP2_STREAM_ERROR', 'ERR_HTTP2_SESSION_ERROR', 'ERR_HTTP2_PING_CANCEL']);
export const H2_TIMEOUT_CODE = 'ERR_KUBE_REQUEST_TIMEOUT';

const codeError = (message: string, code: string, cause?: unknown) => Object.assign(new Error(message, { cause }), { code });

// The API server's list pages run to megabytes: the default 64 KiB windows would stall them.
const STREAM_WINDOW = 4 * 1024 * 1024;
const SESSION_WINDOW = 32 * 1024 * 1024;
const IDLE_CLOSE_MS = 30_000;
/** How often the calls in flight are checked against their timeouts. */
const SWEEP_MS = 250;

/** A call in flight: when it times out unless the server sends something first. */
interface Pending {
  deadline: number;
  expire(): void;
}

/** A connected session and the streams open on it: it keeps the process alive only while any are. */
interface Live {
  session: ClientHttp2Session;
  active: number;
}

export class H2Session {
  private readonly origin: string;
  private readonly tls: H2TlsOptions;
  private current: Promise<Live> | undefined;
  private closed = false;
  // One timer checks every call's timeout: a timer per stream (stream.setTimeout) was a visible
  // part of the CPU per status write.
  private readonly inFlight = new Set<Pending>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(origin: string, tls: H2TlsOptions) {
    this.origin = origin;
    this.tls = tls;
  }

  private live(): Promise<Live> {
    if (this.closed) return Promise.reject(codeError('the client is closed', 'ERR_HTTP2_INVALID_SESSION'));
    return (this.current ??= this.open());
  }

  private open(): Promise<Live> {
    const opened = new Promise<Live>((resolve, reject) => {
      const { ca, cert, key, servername, rejectUnauthorized } = this.tls;
      const s = http2.connect(this.origin, { ca, cert, key, servername, rejectUnauthorized, settings: { initialWindowSize: STREAM_WINDOW, enablePush: false } });
      const forget = () => {
        if (this.current === opened) this.current = undefined;
      };
      const failed = (err: Error) => {
        forget();
        const code = (err as { code?: unknown }).code;
        reject(code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL' ? new NotHttp2Error(this.origin, err) : err);
      };
      s.once('error', failed);
      s.once('connect', () => {
        s.off('error', failed);
        if (s.alpnProtocol !== 'h2') {
          s.destroy();
          forget();
          reject(new NotHttp2Error(this.origin));
          return;
        }
        const live: Live = { session: s, active: 0 };
        // Errors after the handshake reach the streams; the session is only replaced.
        s.on('error', forget);
        s.on('goaway', forget);
        s.on('close', forget);
        s.setLocalWindowSize(SESSION_WINDOW);
        s.setTimeout(IDLE_CLOSE_MS, () => {
          if (live.active === 0) {
            forget();
            s.close();
          }
        });
        s.unref();
        resolve(live);
      });
    });
    // A failed open is reported to the calls that awaited it; nobody else needs to hear of it.
    opened.catch(() => undefined);
    return opened;
  }

  async request(r: H2Request): Promise<H2Answer> {
    r.signal?.throwIfAborted();
    const live = await this.live();
    const headers: OutgoingHttpHeaders = { ...r.headers, ':method': r.method, ':path': r.path };
    return new Promise<H2Answer>((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = live.session.request(headers, { endStream: r.body === undefined });
      } catch (err) {
        reject(err);
        return;
      }
      if (live.active++ === 0) live.session.ref();
      let settled = false;
      let statusCode = 0;
      let answerHeaders: IncomingHttpHeaders = {};
      let text = '';
      const onAbort = () => finish(r.signal?.reason ?? codeError('aborted', 'ABORT_ERR'));
      const pending: Pending = {
        deadline: performance.now() + r.timeoutMs,
        expire: () => finish(codeError(`${r.method} ${r.path}: no answer within ${r.timeoutMs} ms`, H2_TIMEOUT_CODE)),
      };
      this.track(pending);
      const finish = (err?: unknown) => {
        if (settled) return;
        settled = true;
        this.inFlight.delete(pending);
        r.signal?.removeEventListener('abort', onAbort);
        if (--live.active === 0 && !live.session.destroyed) live.session.unref();
        if (err === undefined) {
          resolve({ statusCode, headers: answerHeaders, text });
          return;
        }
        if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
        reject(err);
      };
      r.signal?.addEventListener('abort', onAbort, { once: true });
      stream.on('response', (h) => {
        statusCode = Number(h[':status']);
        answerHeaders = h;
        pending.deadline = performance.now() + r.timeoutMs;
        if (r.discardBody && statusCode >= 200 && statusCode < 300) stream.resume();
        else {
          stream.setEncoding('utf8');
          stream.on('data', (chunk: string) => {
            text += chunk;
            pending.deadline = performance.now() + r.timeoutMs;
          });
        }
      });
      const cutOff = (cause?: unknown) =>
        stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM
          ? codeError(`${r.method} ${r.path}: stream refused by the server`, 'ERR_HTTP2_REFUSED_STREAM', cause)
          : codeError(`${r.method} ${r.path}: stream closed before the answer ended (code ${stream.rstCode})`, 'ERR_HTTP2_STREAM_CANCEL', cause);
      stream.on('end', () => finish(statusCode === 0 ? cutOff() : undefined));
      stream.on('error', (err) => settled || finish(cutOff(err)));
      stream.on('close', () => settled || finish(cutOff()));
      if (r.body !== undefined) stream.end(r.body);
    });
  }

  private track(p: Pending): void {
    this.inFlight.add(p);
    if (this.sweeper) return;
    this.sweeper = setInterval(() => {
      const now = performance.now();
      for (const q of this.inFlight) if (q.deadline <= now) q.expire();
      if (this.inFlight.size === 0) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
      }
    }, SWEEP_MS);
    this.sweeper.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    const current = this.current;
    this.current = undefined;
    const live = await current?.catch(() => undefined);
    if (live && !live.session.closed) await new Promise<void>((r) => live.session.close(() => r()));
  }
}
