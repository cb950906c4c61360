import { describe, expect, it } from 'vitest';
import { REFUSALS } from '../refusals.ts';
import { quote, SAML_ERROR_CODES, SamlValidationError } from './errors.ts';

describe('SAML error codes', () => {
  it('are unique, metric-label safe, and each has a user message', () => {
    expect(new Set(SAML_ERROR_CODES).size).toBe(SAML_ERROR_CODES.length);
    for (const code of SAML_ERROR_CODES) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(REFUSALS[code].userMessage).toMatch(/\.$/);
    }
    expect(Object.keys(REFUSALS)).toEqual(expect.arrayContaining([...SAML_ERROR_CODES]));
  });

  it('carry the code and the hint', () => {
    const e = new SamlValidationError('AUDIENCE_MISMATCH', 'audience mismatch: the IdP sends "a", expected "b"');
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toBe('AUDIENCE_MISMATCH: audience mismatch: the IdP sends "a", expected "b"');
    expect(e.code).toBe('AUDIENCE_MISMATCH');
  });

  it('quote values from a response bounded and without control characters', () => {
    expect(quote('a\nb')).toBe('"a b"');
    expect(quote('x'.repeat(500)).length).toBeLessThan(130);
    expect(quote(undefined)).toBe('nothing');
  });
});
