import { describe, expect, it } from 'vitest';
import { MemoryStore, storeReplayCache } from './store.ts';

describe('MemoryStore', () => {
  it('hands a value to exactly one of two concurrent takers', async () => {
    const s = new MemoryStore();
    await s.put('code:x', 'v', 60_000);
    const results = await Promise.all([s.take('code:x'), s.take('code:x')]);
    expect(results.filter((r) => r === 'v')).toHaveLength(1);
    expect(await s.get('code:x')).toBeNull();
  });

  it('expires values after their TTL', async () => {
    const s = new MemoryStore();
    await s.put('k', 'v', 1);
    await new Promise((r) => setTimeout(r, 10));
    expect(await s.take('k')).toBeNull();
  });

  it('backs a replay cache that accepts an issuer\'s assertion ID once', async () => {
    const cache = storeReplayCache(new MemoryStore());
    const until = new Date(Date.now() + 60_000);
    expect(await cache.remember('https://idp-a.test', '_a1', until)).toBe(true);
    expect(await cache.remember('https://idp-a.test', '_a1', until)).toBe(false);
    expect(await cache.remember('https://idp-a.test', '_a2', until)).toBe(true);
    // Another IdP's colliding ID is its own assertion, and is not blocked.
    expect(await cache.remember('https://idp-b.test', '_a1', until)).toBe(true);
    expect(await cache.remember('https://idp-b.test', '_a1', until)).toBe(false);
    // No issuer/ID pair spells another's key.
    expect(await cache.remember('https://idp-a.test:', '_a3', until)).toBe(true);
    expect(await cache.remember('https://idp-a.test', ':_a3', until)).toBe(true);
  });
});
