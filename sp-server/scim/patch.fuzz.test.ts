// Property-based fuzzing of SCIM PATCH: arbitrary JSON bodies and grammar-shaped operations
// either apply (returning a new object, the input untouched) or are refused with a 400 ScimError;
// never another exception, and each within a per-input work bound.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_TEST_TIMEOUT_MS, fuzzParams, withinWorkBound } from '../../test/support/fuzz.ts';
import { ScimError } from './errors.ts';
import { applyPatch, parsePatchRequest, PATCH_OP_SCHEMA } from './patch.ts';

const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const OPTIONS = { coreSchemas: [CORE], readOnly: ['id', 'meta', 'groups'] };
const resource = () => ({
  schemas: [CORE, ENTERPRISE],
  id: 'u-1',
  userName: 'alice@acme.test',
  active: true,
  name: { givenName: 'Alice', familyName: 'Liddell' },
  emails: [{ value: 'alice@acme.test', type: 'work', primary: true }, { value: 'a@home.test', type: 'home' }],
  roles: [{ value: 'member' }],
  [ENTERPRISE]: { department: 'R&D', manager: { value: 'u-0' } },
});

const PATHS = ['userName', 'active', 'displayName', 'name.givenName', 'name', 'emails', 'emails.value', 'emails[type eq "work"]', 'emails[type eq "work"].value', 'emails[value co "@"].primary',
  'roles', 'roles[value eq "admin"]', 'id', 'meta.version', 'groups', `${CORE}:userName`, `${ENTERPRISE}:department`, `${ENTERPRISE}:manager.value`, `${ENTERPRISE}:manager`, 'urn:x:y',
  'emails[', 'emails]', 'emails[type eq "work"]x', 'emails[type eq]', 'a.b.c', '', 'constructor', 'toString', 'x'.repeat(1025)];
const jsonValue = fc.jsonValue({ maxDepth: 3 });
const shapedValue = fc.oneof(
  jsonValue,
  fc.constantFrom('False', 'True', '', 'alice@acme.test'),
  fc.array(fc.record({ value: fc.oneof(fc.string({ maxLength: 8 }), jsonValue), type: fc.constantFrom('work', 'home', 'x'), primary: fc.boolean() }, { requiredKeys: [] }), { maxLength: 6 }),
  fc.dictionary(fc.constantFrom(...PATHS, 'name.familyName', 'emails[type eq "work"].value'), jsonValue, { maxKeys: 4 }),
);
const operation = fc.record(
  { op: fc.oneof(fc.constantFrom('add', 'Add', 'replace', 'Replace', 'remove', 'REMOVE'), fc.string({ maxLength: 8 })), path: fc.oneof(fc.constantFrom(...PATHS), fc.string({ maxLength: 20 })), value: shapedValue },
  { requiredKeys: ['op'] },
);
const shapedBody = fc.record({
  schemas: fc.oneof(fc.constant([PATCH_OP_SCHEMA]), fc.array(fc.string({ maxLength: 10 }), { maxLength: 2 })),
  Operations: fc.array(operation, { minLength: 0, maxLength: 8 }),
});
/** The largest bodies a directory sends: many operations, or many values in one. */
const hugeBody = fc.oneof(
  fc.integer({ min: 1, max: 1000 }).map((n) => ({ schemas: [PATCH_OP_SCHEMA], Operations: Array.from({ length: n }, (_, i) => ({ op: 'replace', path: 'displayName', value: `n${i}` })) })),
  fc.integer({ min: 1, max: 300 }).map((n) => ({ schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'add', path: 'emails', value: Array.from({ length: n }, (_, i) => ({ value: `a${i}@acme.test`, type: 'other' })) }] })),
  fc.integer({ min: 1001, max: 1100 }).map((n) => ({ schemas: [PATCH_OP_SCHEMA], Operations: Array.from({ length: n }, () => ({ op: 'remove', path: 'displayName' })) })),
);

async function check(body: unknown): Promise<void> {
  const input = resource();
  const before = JSON.stringify(input);
  const r = await withinWorkBound(() => applyPatch(input, parsePatchRequest(body).Operations, OPTIONS), `the PATCH ${JSON.stringify(body).slice(0, 120)}`);
  if (r.ok) {
    expect(typeof r.value).toBe('object');
    expect(() => JSON.stringify(r.value)).not.toThrow();
  } else {
    if (!(r.error instanceof ScimError)) throw new Error(`the PATCH ${JSON.stringify(body).slice(0, 200)} threw ${String(r.error)}`, { cause: r.error });
    expect(r.error.status).toBe(400);
    expect(r.error.scimType).toBeDefined();
  }
  expect(JSON.stringify(input), 'the engine changed its input').toBe(before);
}

describe('SCIM PATCH under fuzzing', () => {
  it('applies or refuses with a 400 any JSON body', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(jsonValue, fc.record({ schemas: fc.constant([PATCH_OP_SCHEMA]), Operations: jsonValue })), check), fuzzParams(300));
  }, FUZZ_TEST_TIMEOUT_MS);

  it('applies or refuses with a 400 grammar-shaped operations', async () => {
    await fc.assert(fc.asyncProperty(shapedBody, check), fuzzParams(500));
  }, FUZZ_TEST_TIMEOUT_MS);

  it('handles the most operations and values a request may carry within the work bound', async () => {
    await fc.assert(fc.asyncProperty(hugeBody, check), fuzzParams(30));
  }, FUZZ_TEST_TIMEOUT_MS);
});
