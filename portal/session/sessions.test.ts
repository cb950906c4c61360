import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../sp-server/state/store.ts';
import { SessionStore } from './sessions.ts';

const who = { name: 'admin@example.com', via: 'sso' as const };

describe('SessionStore', () => {
  it('ends a session after the idle time and after the absolute lifetime, whatever the activity', async () => {
    let now = 1_000_000;
    const sessions = new SessionStore(new MemoryStore(), 30 * 60_000, 8 * 3_600_000, () => now);
    const s = await sessions.create('acme', who);
    now += 29 * 60_000;
    expect((await sessions.get(s.id))?.namespace).toBe('acme');
    now += 29 * 60_000; // active: the idle timer was refreshed
    expect(await sessions.get(s.id)).toBeDefined();
    now += 31 * 60_000;
    expect(await sessions.get(s.id)).toBeUndefined();

    const t = await sessions.create('acme', who);
    for (let i = 0; i < 20; i++) {
      now += 25 * 60_000;
      if (!(await sessions.get(t.id))) break;
    }
    expect(now - t.createdAt).toBeLessThanOrEqual(8 * 3_600_000 + 25 * 60_000);
    expect(await sessions.get(t.id)).toBeUndefined();
  });

  it('ignores malformed and unknown ids and keeps a one-time notice', async () => {
    const sessions = new SessionStore(new MemoryStore(), 60_000, 3_600_000);
    expect(await sessions.get(undefined)).toBeUndefined();
    expect(await sessions.get('../../etc')).toBeUndefined();
    expect(await sessions.get('A'.repeat(43))).toBeUndefined();
    const s = await sessions.create('acme', who);
    expect(s.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.csrfToken).not.toBe(s.id);
    await sessions.flash(s, { kind: 'ok', message: 'saved' });
    const again = (await sessions.get(s.id))!;
    expect(await sessions.takeFlash(again)).toEqual({ kind: 'ok', message: 'saved' });
    expect(await sessions.takeFlash((await sessions.get(s.id))!)).toBeUndefined();
  });
});
