// Property-based fuzzing of the SCIM filter parser and evaluator: arbitrary and grammar-shaped
// filters either parse and evaluate to a boolean, or are refused with 400 invalidFilter; never
// another exception, and each within a per-input work bound.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_TEST_TIMEOUT_MS, fuzzParams, withinWorkBound } from '../../test/support/fuzz.ts';
import { ScimError } from './errors.ts';
import { matches, parseFilter } from './filter.ts';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const user = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE],
  id: 'u-1',
  externalId: 'ext-1',
  userName: 'alice@acme.test',
  active: true,
  name: { givenName: 'Alice', familyName: 'Liddell' },
  emails: Array.from({ length: 50 }, (_, i) => ({ value: `alice${i}@acme.test`, type: i === 0 ? 'work' : 'other', primary: i === 0 })),
  groups: [{ value: 'g-1', display: 'admins' }],
  meta: { resourceType: 'User', lastModified: '2026-01-01T00:00:00Z', version: 'W/"1"' },
  [ENTERPRISE]: { department: 'R&D', manager: { value: 'u-0' } },
};
/** Names a resource does not have, JavaScript's own object members among them. */
const ABSENT = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'nickName', 'x'];
const ATTRIBUTES = ['userName', 'USERNAME', 'id', 'externalId', 'active', 'name.givenName', 'emails', 'emails.value', 'emails.type', 'emails.primary', 'groups.value', 'meta.lastModified', 'meta.version', `${ENTERPRISE}:department`, `${ENTERPRISE}:manager.value`, `${ENTERPRISE}:manager`, 'urn:x', '__proto__', ...ABSENT];
const OPERATORS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le', 'EQ', 'pr', 'xx'];
const value = fc.oneof(
  fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)),
  fc.constantFrom('true', 'false', 'null', '"alice@acme.test"', '"work"', '"2026-01-01T00:00:00Z"', '"\\u0000"', '"\\"', '"unterminated', '1e400', '-0', '1.', '.5', '0x10'),
  fc.double({ noNaN: true }).map(String),
);

/** Filters built from the grammar's pieces, with misplaced pieces mixed in. */
const { filter: grammarFilter } = fc.letrec<{ filter: string; atom: string }>((tie) => ({
  atom: fc.oneof(
    fc.tuple(fc.constantFrom(...ATTRIBUTES), fc.constantFrom(...OPERATORS), value).map(([a, op, v]) => (op === 'pr' ? `${a} pr` : `${a} ${op} ${v}`)),
    fc.tuple(fc.constantFrom('emails', 'groups', 'x', `${ENTERPRISE}:manager`), tie('filter')).map(([a, f]) => `${a}[${f}]`),
    tie('filter').map((f) => `(${f})`),
    tie('filter').map((f) => `not (${f})`),
  ),
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('atom'),
    fc.tuple(tie('atom'), fc.constantFrom('and', 'or', 'AND', 'Or', 'xor', ''), tie('atom')).map(([l, op, r]) => `${l} ${op} ${r}`),
  ),
}));

/** A filter with a few characters replaced, inserted or removed. */
const mutatedFilter = fc.tuple(grammarFilter, fc.array(fc.tuple(fc.nat(), fc.constantFrom('(', ')', '[', ']', '"', '\\', ' ', '.', ':', '-', '\u00e9', ''), fc.boolean()), { maxLength: 3 }))
  .map(([f, edits]) => edits.reduce((s, [at, ch, insert]) => { const i = s.length === 0 ? 0 : at % s.length; return s.slice(0, i) + ch + s.slice(insert ? i : i + 1); }, f));

/** The largest and deepest inputs the parser's bounds let through, and just past them. */
const hugeFilter = fc.oneof(
  fc.integer({ min: 1, max: 2100 }).map((n) => `${'('.repeat(n)}userName pr${')'.repeat(n)}`),
  fc.integer({ min: 1, max: 1100 }).map((n) => `${'not ('.repeat(n)}userName pr${')'.repeat(n)}`),
  fc.integer({ min: 1, max: 300 }).map((n) => Array.from({ length: n }, (_, i) => `emails.value eq "alice${i}@acme.test"`).join(' or ')),
  fc.integer({ min: 1, max: 600 }).map((n) => Array.from({ length: n }, () => 'emails[type eq "work"]').join(' and ')),
  fc.integer({ min: 4000, max: 4200 }).map((n) => `userName eq "${'a'.repeat(n)}"`),
);

function check(input: string): Promise<void> {
  return withinWorkBound(() => {
    try {
      const f = parseFilter(input);
      expect(typeof matches(user, f)).toBe('boolean');
    } catch (err) {
      if (!(err instanceof ScimError)) throw new Error(`the filter ${JSON.stringify(input.slice(0, 200))} threw ${String(err)}`, { cause: err });
      expect({ status: err.status, scimType: err.scimType }).toEqual({ status: 400, scimType: 'invalidFilter' });
    }
  }, `the filter ${JSON.stringify(input.slice(0, 80))}`).then((r) => {
    if (!r.ok) throw r.error;
  });
}

describe('the SCIM filter under fuzzing', () => {
  it('parses and evaluates, or refuses with invalidFilter, any text', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 30 })), check), fuzzParams(400));
  }, FUZZ_TEST_TIMEOUT_MS);

  it('parses and evaluates, or refuses with invalidFilter, grammar-shaped and mutated filters', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(grammarFilter, mutatedFilter), check), fuzzParams(500));
  }, FUZZ_TEST_TIMEOUT_MS);

  it('handles the longest and deepest filters within the work bound', async () => {
    await fc.assert(fc.asyncProperty(hugeFilter, check), fuzzParams(40));
  }, FUZZ_TEST_TIMEOUT_MS);

  it('never finds an attribute the resource does not have, however it is named', async () => {
    await fc.assert(
      fc.property(fc.constantFrom(...ABSENT), fc.constantFrom('pr', 'ne null', 'eq "x"', 'co ""', 'sw ""'), (name, test) => {
        expect(matches(user, parseFilter(`${name} ${test}`)), `${name} ${test}`).toBe(false);
      }),
      fuzzParams(60),
    );
  });
});
