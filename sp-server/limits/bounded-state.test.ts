// The in-memory state of one replica has a size bound everywhere an anonymous client adds to it:
// the login state store, the rate-limit counters and the pending-login start times.
import { describe, expect, it, vi } from 'vitest';
import { MemoryStore, StateStoreFullError } from '../state/store.ts';
import { MemoryCounters } from './counters.ts';
import { MemoryPendingBudget } from './pending-logins.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('MemoryStore', () => {
  it('refuses a new key when full of live entries, and makes room once entries expire', async () => {
    const s = new MemoryStore(2);
    await s.put('a', '1', 1500);
    await s.put('b', '1', 60_000);
    await expect(s.put('c', '1', 60_000)).rejects.toBeInstanceOf(StateStoreFullError);
    await expect(s.putIfAbsent('c', '1', 60_000)).rejects.toBeInstanceOf(StateStoreFullError);
    // Replacing a key takes no room.
    await s.put('b', '2', 60_000);
    expect(s.size).toBe(2);
    await sleep(1600);
    await s.put('c', '1', 60_000);
    expect(s.size).toBe(2);
    expect(await s.get('c')).toBe('1');
  });
});

describe('MemoryCounters', () => {
  it('hold at most maxKeys windows, forgetting the oldest first', async () => {
    const c = new MemoryCounters(3);
    for (let i = 0; i < 10; i++) await c.incr(`k${i}`, 60_000);
    expect(c.size).toBe(3);
    expect((await c.incr('k9', 60_000)).count).toBe(2);
    expect((await c.incr('k0', 60_000)).count).toBe(1);
  });

  it('start a new window after the old one ends', async () => {
    const c = new MemoryCounters();
    await c.incr('k', 1000);
    expect((await c.incr('k', 1000)).count).toBe(2);
    await sleep(1100);
    expect(await c.incr('k', 1000)).toMatchObject({ count: 1 });
  });
});

describe('MemoryPendingBudget', () => {
  it('counts a start against its client for the window, and forgets clients whose starts are over', async () => {
    const b = new MemoryPendingBudget({ global: 100, perIP: 2, windowMs: 1000 });
    expect(await b.admit('x')).toEqual({ admitted: true });
    expect(await b.admit('x')).toEqual({ admitted: true });
    expect(await b.admit('x')).toMatchObject({ admitted: false, scope: 'client', retryAfterSeconds: 1 });
    expect(await b.admit('y')).toEqual({ admitted: true });
    await sleep(1100);
    expect(await b.admit('z')).toEqual({ admitted: true });
    expect(b.clients).toBe(1);
    expect(await b.admit('x')).toEqual({ admitted: true });
  });

  it('keeps counting the oldest live start as earlier ones expire, however many came and went', async () => {
    const b = new MemoryPendingBudget({ global: 3, perIP: 100, windowMs: 10_000 });
    let now = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      // A start every 700 ms with the global cap full from the third: past the window each admit
      // drops the oldest, and a refusal's Retry-After names the oldest start still counted.
      const admittedAt: number[] = [];
      for (let i = 0; i < 2000; i++) {
        now += 700;
        if ((await b.admit(`c${i}`)).admitted) admittedAt.push(now);
      }
      expect(admittedAt.length).toBeGreaterThan(300);
      now += 1;
      const refused = await b.admit('late');
      const live = admittedAt.filter((t) => t > now - 10_000);
      expect(live).toHaveLength(3);
      expect(refused).toEqual({ admitted: false, scope: 'global', retryAfterSeconds: Math.max(1, Math.ceil(((live[0] as number) + 10_000 - now) / 1000)) });
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('refuses every client over the global cap', async () => {
    const b = new MemoryPendingBudget({ global: 2, perIP: 100, windowMs: 60_000 });
    await b.admit('x');
    await b.admit('y');
    expect(await b.admit('z')).toMatchObject({ admitted: false, scope: 'global' });
    expect(b.clients).toBe(2);
  });
});
