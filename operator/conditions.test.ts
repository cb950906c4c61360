import { describe, expect, it } from 'vitest';
import { mergeConditions } from './conditions.ts';

describe('mergeConditions', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  const t1 = new Date('2026-01-01T01:00:00Z');

  it('keeps lastTransitionTime while the status is unchanged and moves it when it changes', () => {
    const first = mergeConditions(undefined, [{ type: 'Ready', status: 'False', reason: 'Pending', message: 'a' }], 1, t0);
    expect(first[0]).toEqual({ type: 'Ready', status: 'False', reason: 'Pending', message: 'a', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 1 });
    const same = mergeConditions(first, [{ type: 'Ready', status: 'False', reason: 'Other', message: 'b' }], 2, t1);
    expect(same[0]?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    expect(same[0]?.observedGeneration).toBe(2);
    expect(same[0]?.reason).toBe('Other');
    const flipped = mergeConditions(same, [{ type: 'Ready', status: 'True', reason: 'Ok', message: '' }], 2, t1);
    expect(flipped[0]?.lastTransitionTime).toBe('2026-01-01T01:00:00Z');
  });

  it('refuses reasons the API server would reject', () => {
    expect(() => mergeConditions(undefined, [{ type: 'Ready', status: 'True', reason: 'not valid!', message: '' }], 1)).toThrow(/not a valid/);
  });
});
