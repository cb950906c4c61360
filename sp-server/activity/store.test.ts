import { describe, expect, it } from 'vitest';
import { ACTIVITY_ENTRIES_PER_ORGANIZATION, ACTIVITY_MAX_ORGANIZATIONS, MemoryActivityStore, type ActivityEntry } from './store.ts';

const entry = (n: number, outcome: ActivityEntry['outcome'] = 'signed-in'): ActivityEntry => ({
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  outcome,
  email: `user${n}@acme.test`,
  profile: 'okta',
  protocol: 'saml',
});

describe('the memory activity store', () => {
  it('answers newest first, up to the limit', async () => {
    const store = new MemoryActivityStore();
    for (let i = 0; i < 5; i++) store.record('acme', entry(i));
    expect((await store.latest('acme', 3)).map((e) => e.email)).toEqual(['user4@acme.test', 'user3@acme.test', 'user2@acme.test']);
    expect(await store.latest('globex', 50)).toEqual([]);
  });

  it(`keeps the newest ${ACTIVITY_ENTRIES_PER_ORGANIZATION} entries per organization`, async () => {
    const store = new MemoryActivityStore();
    for (let i = 0; i < ACTIVITY_ENTRIES_PER_ORGANIZATION + 25; i++) store.record('acme', entry(i));
    const kept = await store.latest('acme', 1000);
    expect(kept).toHaveLength(ACTIVITY_ENTRIES_PER_ORGANIZATION);
    expect(kept[0]?.email).toBe(`user${ACTIVITY_ENTRIES_PER_ORGANIZATION + 24}@acme.test`);
    expect(kept.at(-1)?.email).toBe('user25@acme.test');
  });

  it('drops the least recently written organization beyond its bound', async () => {
    expect(ACTIVITY_MAX_ORGANIZATIONS).toBe(10_000);
    const store = new MemoryActivityStore(ACTIVITY_ENTRIES_PER_ORGANIZATION, 3);
    store.record('a', entry(1));
    store.record('b', entry(2));
    store.record('c', entry(3));
    // Writing to a makes b the least recently written.
    store.record('a', entry(4));
    store.record('d', entry(5));
    expect(store.organizations).toBe(3);
    expect(await store.latest('b', 10)).toEqual([]);
    expect((await store.latest('a', 10)).map((e) => e.email)).toEqual(['user4@acme.test', 'user1@acme.test']);
    expect(await store.latest('c', 10)).toHaveLength(1);
    expect(await store.latest('d', 10)).toHaveLength(1);
  });

  it('holds at most the default number of organizations', () => {
    const store = new MemoryActivityStore();
    for (let i = 0; i < ACTIVITY_MAX_ORGANIZATIONS + 10; i++) store.record(`org-${i}`, entry(0));
    expect(store.organizations).toBe(ACTIVITY_MAX_ORGANIZATIONS);
  });
});
