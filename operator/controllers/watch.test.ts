// The enforcement count's debounce grows with the namespace's users, within its bounds.
import { describe, expect, it } from 'vitest';
import { COUNT_DEBOUNCE_MS, countDebounceMs } from './watch.ts';

describe('countDebounceMs', () => {
  it('is 500 ms up to 5,000 users, then 0.1 ms a user, at most 10 s', () => {
    expect([0, 3000, 5000].map(countDebounceMs)).toEqual([COUNT_DEBOUNCE_MS, COUNT_DEBOUNCE_MS, COUNT_DEBOUNCE_MS]);
    expect(countDebounceMs(20_000)).toBe(2000);
    expect(countDebounceMs(100_000)).toBe(10_000);
    expect(countDebounceMs(1_000_000)).toBe(10_000);
  });
});
