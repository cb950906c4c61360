import { describe, expect, it } from 'vitest';
import { ScimError } from './errors.ts';
import { applyPatch, parsePatchRequest, PATCH_OP_SCHEMA, type PatchOperation } from './patch.ts';

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
});
