import { describe, expect, it } from 'vitest';
import { ScimError } from './errors.ts';
import { equalityValues, matches, parseFilter } from './filter.ts';

const alice = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  id: 'alice-1234',
  externalId: 'ExT-1',
  userName: 'Alice@Example.com',
  active: true,
  name: { givenName: 'Alice', familyName: 'Liddell' },
  emails: [
    { value: 'alice@example.com', type: 'work', primary: true },
    { value: 'alice@home.example', type: 'home' },
  ],
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { employeeNumber: '42', manager: { value: 'bob' } },
};

function filterError(input: string): ScimError {
  try {
    parseFilter(input);
  } catch (err) {
    if (err instanceof ScimError) return err;
    throw err;
  }
  throw new Error(`'${input}' parsed`);
}

describe('SCIM filter parser', () => {
  it('parses the Okta lookup into a comparison', () => {
    expect(parseFilter('userName eq "alice@example.com"')).toEqual({
      kind: 'compare',
      path: { attr: 'userName' },
      op: 'eq',
      value: 'alice@example.com',
    });
  });

  it('gives and precedence over or, and honours parentheses', () => {
    const f = parseFilter('userName eq "a" or userName eq "b" and active eq true');
    expect(f.kind).toBe('or');
    const g = parseFilter('(userName eq "a" or userName eq "b") and active eq true');
    expect(g.kind).toBe('and');
  });

  it('parses URN-qualified paths, value paths, not and pr', () => {
    const f = parseFilter('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "42"');
    expect(f).toMatchObject({ kind: 'compare', path: { urn: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', attr: 'employeeNumber' } });
    expect(parseFilter('emails[type eq "work" and value co "@"]')).toMatchObject({ kind: 'valuePath', path: { attr: 'emails' } });
    expect(parseFilter('not (active eq false)')).toMatchObject({ kind: 'not' });
    expect(parseFilter('title pr')).toEqual({ kind: 'present', path: { attr: 'title' } });
  });

  it('reads keywords and operators case-insensitively and JSON escapes in strings', () => {
    expect(parseFilter('userName EQ "a\\"b" AND active Eq true')).toMatchObject({ kind: 'and', left: { value: 'a"b' } });
  });

  it.each([
    ['', 'empty'],
    ['userName', 'operator'],
    ['userName eq', 'value'],
    ['userName eq "unterminated', 'unterminated'],
    ['userName zz "a"', 'unknown operator'],
    ['(userName eq "a"', "expected ')'"],
    ['userName eq "a")', 'unexpected input'],
    ['userName eq "a" and', 'attribute'],
    ['userName eq bare', 'value'],
    ['emails[type eq "work"', "expected ']'"],
    ['emails[x[y eq 1]]', ''],
    ['a.b.c eq 1', 'invalid attribute path'],
    ['userName eq "a" ; drop', 'unexpected character'],
  ])('rejects %j with invalidFilter', (input, detail) => {
    const err = filterError(input);
    expect(err.status).toBe(400);
    expect(err.scimType).toBe('invalidFilter');
    expect(err.message).toContain(detail);
  });

  it('rejects filters nested beyond the depth limit', () => {
    expect(filterError(`${'('.repeat(100)}a eq 1${')'.repeat(100)}`).message).toContain('nested');
  });
});

describe('SCIM filter evaluation', () => {
  it.each([
    ['userName eq "alice@example.com"', true],
    ['userName eq "bob@example.com"', false],
    ['externalId eq "ExT-1"', true],
    ['externalId eq "ext-1"', false], // caseExact
    ['emails.value eq "ALICE@home.example"', true],
    ['emails[type eq "work" and value eq "x"]', false],
    ['emails[type eq "work" and primary eq true]', true],
    ['emails[type eq "home" and primary eq true]', false],
    ['name.familyName sw "lid"', true],
    ['userName ew "@example.com" and active eq true', true],
    ['userName eq "x" or (active eq true and name.givenName co "lic")', true],
    ['not (active eq true)', false],
    ['title pr', false],
    ['name pr', true],
    ['title eq null', true],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "42"', true],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "bob"', true],
    ['USERNAME eq "alice@example.com"', true],
    // JavaScript's object members are not attributes (found by fuzzing: `constructor pr` matched every user).
    ['constructor pr', false],
    ['toString pr', false],
  ])('%s → %s', (input, expected) => {
    expect(matches(alice, parseFilter(input))).toBe(expected);
  });

  it('derives indexed lookups only when every match must carry the value', () => {
    const isUserName = (p: { attr: string; sub?: string }) => p.attr.toLowerCase() === 'username' && !p.sub;
    expect(equalityValues(parseFilter('userName eq "a"'), isUserName)).toEqual(['a']);
    expect(equalityValues(parseFilter('userName eq "a" and active eq true'), isUserName)).toEqual(['a']);
    expect(equalityValues(parseFilter('userName eq "a" or userName eq "b"'), isUserName)).toEqual(['a', 'b']);
    expect(equalityValues(parseFilter('userName eq "a" or active eq true'), isUserName)).toBeUndefined();
    expect(equalityValues(parseFilter('userName co "a"'), isUserName)).toBeUndefined();
    const isEmail = (p: { attr: string; sub?: string }) => p.attr.toLowerCase() === 'emails' && p.sub?.toLowerCase() === 'value';
    expect(equalityValues(parseFilter('emails[value eq "x"]'), isEmail)).toEqual(['x']);
    expect(equalityValues(parseFilter('emails.value eq "x"'), isEmail)).toEqual(['x']);
  });
});
