// A fetch for tenant-chosen URLs: the address guard at connect time, https only unless the
// installation allows http, no redirects followed, a deadline for the whole exchange and a cap on
// the response body. OIDC discovery, JWKS and token requests go through it.
import { Agent, fetch as undiciFetch } from 'undici';
import { EgressRefusedError, guardedLookup, literalHostRefusal } from './address-guard.ts';

export interface GuardedFetchOptions {
  allowPrivate: boolean;
  allowInsecure: boolean;
  timeoutMs: number;
  maxBytes: number;
  userAgent: string;
}

export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export class ResponseTooLargeError extends Error {
  constructor(url: string, maxBytes: number) {
    super(`the response of ${url} is larger than ${maxBytes} bytes`);
    this.name = 'ResponseTooLargeError';
  }
}

/** A WHATWG-compatible fetch with the guard; one connection pool per returned function. */
export function guardedFetch(o: GuardedFetchOptions): FetchFunction {
  const dispatcher = new Agent({ connect: { lookup: guardedLookup(o.allowPrivate), timeout: o.timeoutMs }, headersTimeout: o.timeoutMs, bodyTimeout: o.timeoutMs });
  return async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && o.allowInsecure)) throw new EgressRefusedError(`${url.origin} is not https://`);
    const literal = literalHostRefusal(url, o.allowPrivate);
    if (literal !== undefined) throw new EgressRefusedError(literal);
    const signal = init.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(o.timeoutMs)]) : AbortSignal.timeout(o.timeoutMs);
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
    if (!headers.has('user-agent')) headers.set('user-agent', o.userAgent);
    const method = init.method ?? (input instanceof Request ? input.method : 'GET');
    const body = init.body ?? (input instanceof Request && method !== 'GET' && method !== 'HEAD' ? await input.arrayBuffer() : undefined);
    let res: Awaited<ReturnType<typeof undiciFetch>>;
    try {
      res = await undiciFetch(url, {
        method,
        headers: [...headers.entries()],
        ...(body !== undefined && body !== null ? { body: body as never } : {}),
        redirect: 'manual',
        signal,
        dispatcher,
      });
    } catch (err) {
      // undici reports every connect failure as "fetch failed"; the guard's refusal is the cause worth naming.
      const cause = (err as { cause?: unknown }).cause;
      throw cause instanceof EgressRefusedError ? cause : err;
    }
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > o.maxBytes) {
      await res.body?.cancel();
      throw new ResponseTooLargeError(url.toString(), o.maxBytes);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (res.body) {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > o.maxBytes) {
          await res.body.cancel().catch(() => undefined);
          throw new ResponseTooLargeError(url.toString(), o.maxBytes);
        }
        chunks.push(chunk);
      }
    }
    const bytes = Buffer.concat(chunks);
    // A null-body status cannot carry a body in the Response constructor.
    const nullBody = res.status === 204 || res.status === 304 || (res.status >= 300 && res.status < 400 && bytes.length === 0);
    return new Response(nullBody ? null : bytes, { status: res.status, statusText: res.statusText, headers: [...res.headers.entries()] });
  };
}
