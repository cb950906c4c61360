import { describe, expect, it } from 'vitest';
import { ScimError } from './errors.ts';
import { serviceProviderConfig } from './discovery.ts';
import { MAX_ATTRIBUTE_VALUES, MAX_GROUP_MEMBERS, MAX_PATCH_OPERATIONS, MAX_PAYLOAD_BYTES } from './limits.ts';
import { applyPatch, parsePatchRequest, PATCH_OP_SCHEMA, type PatchOperation } from './patch.ts';
import { parseGroupInput, parseUserInput } from './schemas.ts';

const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const opts = { coreSchemas: [CORE], readOnly: ['id', 'meta'] };

const base = () => ({
  userName: 'alice@example.com',
  active: true,
  name: { givenName: 'Alice', familyName: 'Liddell' },
  emails: [{ value: 'alice@example.com', type: 'work', primary: true }],
});

const ops = (...o: unknown[]) => parsePatchRequest({ schemas: [PATCH_OP_SCHEMA], Operations: o }).Operations;

function patchError(resource: Record<string, unknown>, operations: PatchOperation[]): ScimError {
  try {
    applyPatch(resource, operations, opts);
  } catch (err) {
    if (err instanceof ScimError) return err;
    throw err;
  }
  throw new Error('patch applied');
}

describe('SCIM PATCH engine', () => {
  it('applies Entra ID capitalised ops with paths, without mutating the input', () => {
    const input = base();
    const out = applyPatch(input, ops({ op: 'Replace', path: 'active', value: 'False' }, { op: 'Add', path: 'displayName', value: 'Alice L' }), opts);
    expect(out).toMatchObject({ active: 'False', displayName: 'Alice L' });
    expect(input.active).toBe(true);
  });

  it('applies a path-less value map, dotted sub-attributes and extension URNs included', () => {
    const out = applyPatch(base(), ops({
      op: 'replace',
      value: {
        active: false,
        'name.givenName': 'Alicia',
        [`${ENT}:employeeNumber`]: '7',
        [ENT]: { department: 'R&D' },
      },
    }), opts);
    expect(out).toMatchObject({ active: false, name: { givenName: 'Alicia', familyName: 'Liddell' }, [ENT]: { employeeNumber: '7', department: 'R&D' } });
  });

  it('replaces a value selected by a filter, and adds the element when none matches (Entra)', () => {
    const out = applyPatch(base(), ops(
      { op: 'replace', path: 'emails[type eq "work"].value', value: 'alice@new.example' },
      { op: 'add', path: 'emails[type eq "home"].value', value: 'alice@home.example' },
    ), opts);
    expect(out.emails).toEqual([
      { value: 'alice@new.example', type: 'work', primary: true },
      { type: 'home', value: 'alice@home.example' },
    ]);
  });

  it('appends to multi-valued attributes without duplicates, and removes by filter or by value', () => {
    const group = { displayName: 'eng', members: [{ value: 'a' }, { value: 'b' }] };
    const added = applyPatch(group, ops({ op: 'Add', path: 'members', value: [{ value: 'b' }, { value: 'c' }] }), opts);
    expect(added.members).toEqual([{ value: 'a' }, { value: 'b' }, { value: 'c' }]);
    const removed = applyPatch(added, ops({ op: 'Remove', path: 'members[value eq "a"]' }, { op: 'Remove', path: 'members', value: [{ value: 'c' }] }), opts);
    expect(removed.members).toEqual([{ value: 'b' }]);
    const cleared = applyPatch(removed, ops({ op: 'remove', path: 'members' }), opts);
    expect(cleared.members).toBeUndefined();
  });

  it('treats core-schema-qualified paths as top-level attributes and matches names case-insensitively', () => {
    const out = applyPatch(base(), ops({ op: 'replace', path: `${CORE}:NAME.GIVENNAME`, value: 'Al' }), opts);
    expect(out.name).toEqual({ givenName: 'Al', familyName: 'Liddell' });
  });

  it('removes sub-attributes and extension attributes', () => {
    const withExt = { ...base(), [ENT]: { manager: { value: 'bob' }, department: 'x' } };
    const out = applyPatch(withExt, ops({ op: 'remove', path: `${ENT}:manager` }, { op: 'remove', path: 'name.familyName' }), opts);
    expect(out[ENT]).toEqual({ department: 'x' });
    expect(out.name).toEqual({ givenName: 'Alice' });
  });

  it.each([
    [{ op: 'remove' }, 'noTarget'],
    [{ op: 'add', value: 'x' }, 'invalidValue'],
    [{ op: 'replace', path: 'id', value: 'x' }, 'mutability'],
    [{ op: 'replace', path: 'emails[type eq', value: 'x' }, 'invalidPath'],
    [{ op: 'replace', path: 'emails[type ne "work"].value', value: 'x' }, 'noTarget'],
    [{ op: 'add', path: 'displayName' }, 'invalidValue'],
  ])('rejects %j with %s', (op, scimType) => {
    const resource = { ...base(), emails: [{ value: 'a@example.com', type: 'work' }] };
    expect(patchError(resource, ops(op)).scimType).toBe(scimType);
  });

  it('rejects malformed PATCH envelopes with invalidSyntax', () => {
    for (const body of [
      {},
      { schemas: ['x'], Operations: [{ op: 'add', path: 'a', value: 1 }] },
      { schemas: [PATCH_OP_SCHEMA], Operations: [] },
      { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'move', path: 'a' }] },
      'not an object',
    ]) {
      expect(() => parsePatchRequest(body)).toThrow(expect.objectContaining({ scimType: 'invalidSyntax' }));
    }
    expect(parsePatchRequest({ schemas: [PATCH_OP_SCHEMA], operations: [{ op: 'ADD', path: 'a', value: 1 }] }).Operations[0]?.op).toBe('add');
  });

  it('adds and removes 5,000 group members in one request each, keeping order and dropping duplicates', () => {
    const member = (i: number) => ({ value: `user-${i}` });
    const group = { displayName: 'all', members: [member(-1)] };
    const all = Array.from({ length: MAX_GROUP_MEMBERS - 1 }, (_, i) => member(i));
    const added = applyPatch(group, ops({ op: 'Add', path: 'members', value: [...all, member(0), member(-1)] }), opts);
    expect(added.members).toEqual([member(-1), ...all]);
    const odd = all.filter((_, i) => i % 2 === 1);
    const removed = applyPatch(added, ops({ op: 'Remove', path: 'members', value: odd }), opts);
    expect(removed.members).toEqual([member(-1), ...all.filter((_, i) => i % 2 === 0)]);
    const byBareValue = applyPatch(removed, ops({ op: 'Remove', path: 'members', value: all.map((m) => m.value) }), opts);
    expect(byBareValue.members).toEqual([member(-1)]);
  });

  it(`refuses more than ${MAX_PATCH_OPERATIONS} operations with tooMany`, () => {
    const many = Array.from({ length: MAX_PATCH_OPERATIONS + 1 }, () => ({ op: 'replace', path: 'displayName', value: 'x' }));
    expect(() => parsePatchRequest({ schemas: [PATCH_OP_SCHEMA], Operations: many })).toThrow(expect.objectContaining({ status: 400, scimType: 'tooMany' }));
    expect(parsePatchRequest({ schemas: [PATCH_OP_SCHEMA], Operations: many.slice(1) }).Operations).toHaveLength(MAX_PATCH_OPERATIONS);
  });

  it('refuses a result with more values than an attribute may hold, with tooMany', () => {
    const full = { displayName: 'all', members: Array.from({ length: MAX_GROUP_MEMBERS }, (_, i) => ({ value: `u${i}` })) };
    expect(patchError(full, ops({ op: 'add', path: 'members', value: [{ value: 'one-more' }] }))).toMatchObject({ status: 400, scimType: 'tooMany' });
    expect(applyPatch(full, ops({ op: 'add', path: 'members', value: [{ value: 'u0' }] }), opts).members).toHaveLength(MAX_GROUP_MEMBERS);
    const roles = Array.from({ length: MAX_ATTRIBUTE_VALUES + 1 }, (_, i) => ({ value: `r${i}` }));
    expect(patchError(base(), ops({ op: 'add', path: 'roles', value: roles }))).toMatchObject({ scimType: 'tooMany' });
    expect(patchError(base(), ops({ op: 'add', path: `${ENT}:badges`, value: roles }))).toMatchObject({ scimType: 'tooMany' });
  });

  it('refuses over-long multi-valued attributes on create and replace too', () => {
    const members = Array.from({ length: MAX_GROUP_MEMBERS + 1 }, (_, i) => ({ value: `u${i}` }));
    expect(() => parseGroupInput({ displayName: 'g', members })).toThrow(expect.objectContaining({ scimType: 'tooMany' }));
    expect(parseGroupInput({ displayName: 'g', members: members.slice(1) }).members).toHaveLength(MAX_GROUP_MEMBERS);
    const roles = Array.from({ length: MAX_ATTRIBUTE_VALUES + 1 }, (_, i) => ({ value: `r${i}` }));
    expect(() => parseUserInput({ userName: 'a@example.com', roles })).toThrow(expect.objectContaining({ scimType: 'tooMany' }));
  });

  it('advertises its limits in ServiceProviderConfig', () => {
    expect(serviceProviderConfig('https://sp/scim/v2/org')).toMatchObject({
      patch: { supported: true, maxOperations: MAX_PATCH_OPERATIONS, maxGroupMembers: MAX_GROUP_MEMBERS, maxValuesPerAttribute: MAX_ATTRIBUTE_VALUES },
      bulk: { supported: false, maxPayloadSize: MAX_PAYLOAD_BYTES },
      filter: { supported: true, maxResults: 1000 },
    });
  });
});
