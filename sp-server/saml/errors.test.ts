import { describe, expect, it } from 'vitest';
import { quote, SAML_ERROR_CODES, SAML_USER_MESSAGES, SamlValidationError } from './errors.ts';

describe('SAML error codes', () => {
  it('are unique, metric-label safe, and each has a user message', () => {
    expect(new Set(SAML_ERROR_CODES).size).toBe(SAML_ERROR_CODES.length);
    for (const code of SAML_ERROR_CODES) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(SAML_USER_MESSAGES[code]).toMatch(/\.$/);
    }
    expect(Object.keys(SAML_USER_MESSAGES).sort()).toEqual([...SAML_ERROR_CODES].sort());
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
