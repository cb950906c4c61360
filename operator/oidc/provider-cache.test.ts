// The provider cache: the first read, a forced refresh picking up a new key, the last accepted copy
// kept when the provider fails or serves something refused, and new expectations fetching afresh.
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FetchFunction } from '../../egress/guarded-fetch.ts';
import { OIDCProviderCache, type ProviderSource, type ProviderState } from './provider-cache.ts';

const ISSUER = 'https://idp.example';
const discovery = (issuer = ISSUER) => ({ issuer, authorization_endpoint: `${ISSUER}/authorize`, token_endpoint: `${ISSUER}/token`, jwks_uri: `${ISSUER}/jwks` });
const key = (kid: string) => ({ kty: 'RSA', kid, alg: 'RS256', n: 'AQAB'.repeat(4), e: 'AQAB' });

/** A provider whose answers the test changes; `fail` makes every request fail. */
function fakeProvider() {
  const served = { discovery: discovery() as unknown, jwks: { keys: [key('one')] } as unknown, fail: false, requests: 0 };
  const fetch: FetchFunction = async (input) => {
    served.requests++;
    if (served.fail) throw new TypeError('fetch failed');
    const url = String(input);
    const body = url.endsWith('/.well-known/openid-configuration') ? served.discovery : url.endsWith('/jwks') ? served.jwks : undefined;
    return body === undefined ? new Response('no', { status: 404 }) : Response.json(body);
  };
  return { served, fetch };
}

const source = (over: Partial<ProviderSource> = {}): ProviderSource => ({ issuer: ISSUER, provider: 'Generic', algorithms: ['RS256'], allowInsecure: false, refreshMs: 3_600_000, ...over });

let cache: OIDCProviderCache | undefined;
afterEach(() => cache?.stop());

function start(fetch: FetchFunction) {
  const changes: string[] = [];
  const results: string[] = [];
  let wake: () => void = () => {};
  cache = new OIDCProviderCache(fetch, (k) => (changes.push(k), wake()), (r) => results.push(r), pino({ level: 'silent' }));
  const c = cache;
  /** Calls `get` and waits for the reconcile the cache asks for next. */
  const next = async (s: ProviderSource): Promise<ProviderState> => {
    const changed = new Promise<void>((r) => (wake = r));
    c.get('acme/p', s);
    await changed;
    return c.get('acme/p', s);
  };
  return { cache: c, changes, results, next };
}

describe('OIDCProviderCache', () => {
  it('reads the provider once, then serves the copy without fetching again', async () => {
    const { served, fetch } = fakeProvider();
    const { cache: c, next, changes, results } = start(fetch);
    expect(c.get('acme/p', source()).snapshot).toBeUndefined();
    const st = await next(source());
    expect(st.snapshot?.keys.map((k) => k.kid)).toEqual(['one']);
    expect(changes).toEqual(['acme/p']);
    expect(results).toEqual(['updated']);
    const before = served.requests;
    c.get('acme/p', source());
    expect(served.requests).toBe(before);
  });

  it('a new refresh request fetches at once and picks up a rotated key', async () => {
    const { served, fetch } = fakeProvider();
    const { next } = start(fetch);
    await next(source());
    served.jwks = { keys: [key('two')] };
    const st = await next(source({ refreshRequest: '1' }));
    expect(st.snapshot?.keys.map((k) => k.kid)).toEqual(['two']);
  });

  it('a refresh that finds the same keys keeps the time they were first accepted, so the rendered config does not change', async () => {
    const { served, fetch } = fakeProvider();
    const { cache: c, next, results } = start(fetch);
    const first = (await next(source())).snapshot?.jwksFetchedAt;
    await new Promise((r) => setTimeout(r, 20));
    c.get('acme/p', source({ refreshRequest: '1' }));
    await vi.waitFor(() => expect(results).toHaveLength(2));
    expect(c.get('acme/p', source({ refreshRequest: '1' })).snapshot?.jwksFetchedAt).toEqual(first);
    served.jwks = { keys: [key('two')] };
    const rotated = (await next(source({ refreshRequest: '2' }))).snapshot?.jwksFetchedAt;
    expect(rotated?.getTime()).toBeGreaterThan(first?.getTime() ?? Infinity);
  });

  it('keeps the last accepted copy when the provider goes away or serves a refused document, and says why', async () => {
    const { served, fetch } = fakeProvider();
    const { next, results } = start(fetch);
    await next(source());
    served.fail = true;
    const down = await next(source({ refreshRequest: '1' }));
    expect(down).toMatchObject({ lastErrorReason: 'IssuerUnreachable', lastError: expect.stringContaining('fetch failed') });
    expect(down.snapshot?.keys.map((k) => k.kid)).toEqual(['one']);
    served.fail = false;
    served.discovery = discovery('https://evil.example');
    const mismatch = await next(source({ refreshRequest: '2' }));
    expect(mismatch.lastErrorReason).toBe('IssuerMismatch');
    expect(mismatch.snapshot?.discovery.issuer).toBe(ISSUER);
    served.discovery = discovery();
    served.jwks = { keys: [{ ...key('private'), d: 'secret' }] };
    const unusable = await next(source({ refreshRequest: '3' }));
    expect(unusable.lastErrorReason).toBe('JWKSUnusable');
    expect(unusable.snapshot?.keys.map((k) => k.kid)).toEqual(['one']);
    expect(results).toEqual(['updated', 'error', 'rejected', 'rejected']);
    // Recovery clears the error.
    served.jwks = { keys: [key('three')] };
    const recovered = await next(source({ refreshRequest: '4' }));
    expect(recovered.lastError).toBeUndefined();
    expect(recovered.snapshot?.keys.map((k) => k.kid)).toEqual(['three']);
  });

  it('fetches afresh, without the old copy, when the profile expects another issuer or algorithms', async () => {
    const { served, fetch } = fakeProvider();
    const { cache: c, next } = start(fetch);
    await next(source());
    served.discovery = discovery('https://other.example');
    expect(c.get('acme/p', source({ issuer: 'https://other.example' })).snapshot).toBeUndefined();
    const refused = await next(source({ issuer: 'https://other.example', algorithms: ['ES256'] }));
    expect(refused.snapshot).toBeUndefined();
    expect(refused.lastErrorReason).toBe('JWKSUnusable');
  });
});
