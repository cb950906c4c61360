// jsonEqual says what comparing stableStringify's output says, for any JSON-shaped values.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonEqual, stableStringify } from './context.ts';

const json = fc.anything({ maxDepth: 3, values: [fc.boolean(), fc.integer({ min: -3, max: 3 }), fc.constantFrom('a', 'b', ''), fc.constant(null), fc.constant(undefined)] });

/** The same value with every object's keys in reverse order. */
const reordered = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(reordered) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reordered(x)])) : v;

describe('jsonEqual', () => {
  it('agrees with comparing stableStringify output', () => {
    fc.assert(fc.property(json, json, (a, b) => jsonEqual(a, b) === (stableStringify(a) === stableStringify(b))), { numRuns: 2000 });
  });

  it('ignores key order and undefined members, and sees any other difference', () => {
    fc.assert(fc.property(json, (a) => jsonEqual(a, reordered(a))));
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual({ sso: { enforced: true } }, { sso: { enforced: false } })).toBe(false);
    expect(jsonEqual([1, 2], [1, 2, 3])).toBe(false);
    expect(jsonEqual({ a: [] }, { a: {} })).toBe(false);
  });
});
