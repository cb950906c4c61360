// Which threads hold which profile: a task carries its profile until a current thread has answered for it.
import { describe, expect, it } from 'vitest';
import { testProfile } from '../../test/support/saml-fixtures.ts';
import { profileKeys } from './validation-profiles.ts';

describe('profileKeys', () => {
  it('is held once a current thread answered for it, and no longer when the threads holding it are gone or dropped it', () => {
    let threads = [1, 2];
    const keys = profileKeys(() => threads);
    const p = testProfile();
    const { key } = keys.lookup(p);
    expect(keys.lookup(p)).toEqual({ key, held: false });
    keys.held(p, 1);
    expect(keys.lookup(p)).toEqual({ key, held: true });
    keys.missing(p, 1);
    expect(keys.lookup(p).held).toBe(false);
    keys.held(p, 2);
    expect(keys.lookup(p).held).toBe(true);
    threads = [1, 3];
    expect(keys.lookup(p).held).toBe(false);
  });

  it('gives another key to another object, even with the same content', () => {
    const keys = profileKeys(() => [1]);
    const p = testProfile();
    keys.held(p, 1);
    const copy = structuredClone(p);
    expect(keys.lookup(copy).key).not.toBe(keys.lookup(p).key);
    expect(keys.lookup(copy).held).toBe(false);
  });
});
