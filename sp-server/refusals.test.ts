import { describe, expect, it } from 'vitest';
import { LOGIN_REFUSAL_CODES, OIDC_REFUSAL_CODES, REFUSAL_CODES, REFUSAL_HTTP_STATUSES, REFUSALS } from './refusals.ts';
import { SAML_ERROR_CODES } from './saml/errors.ts';

describe('the refusal table', () => {
  it('has one row for every validator code, every login code and every OIDC code, and nothing else', () => {
    expect(new Set(REFUSAL_CODES).size).toBe(SAML_ERROR_CODES.length + LOGIN_REFUSAL_CODES.length + OIDC_REFUSAL_CODES.length);
    expect(Object.keys(REFUSALS).sort()).toEqual([...SAML_ERROR_CODES, ...LOGIN_REFUSAL_CODES, ...OIDC_REFUSAL_CODES].sort());
  });

  it.each(REFUSAL_CODES)('%s has a user message, admin advice, a refusal HTTP status and a metric label', (code) => {
    const row = REFUSALS[code];
    expect(row.userMessage.trim()).not.toBe('');
    expect(row.userMessage).toMatch(/\.$/);
    expect(row.adminAdvice.trim()).not.toBe('');
    expect(row.adminAdvice).toMatch(/\.$/);
    expect(REFUSAL_HTTP_STATUSES).toContain(row.httpStatus);
    expect(row.httpStatus).toBeGreaterThanOrEqual(400);
    // A refusal is the client's or the IdP's doing, except those that say the server is saturated
    // or cannot reach the OpenID Provider.
    if (code === 'SERVER_BUSY' || code === 'OIDC_UPSTREAM_UNREACHABLE' || code === 'OIDC_UPSTREAM_ADDRESS_REFUSED') expect(row.httpStatus).toBe(503);
    else expect(row.httpStatus).toBeLessThan(500);
    expect(row.metricLabel).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });

  it('sends refusals about the user\'s account with 403 and refusals of the response with 400', () => {
    for (const code of ['USER_INACTIVE', 'USER_NOT_MANAGED', 'USER_OTHER_ORGANIZATION', 'DOMAIN_NOT_VERIFIED'] as const) expect(REFUSALS[code].httpStatus).toBe(403);
    for (const code of SAML_ERROR_CODES) expect(REFUSALS[code].httpStatus).toBe(400);
    expect(REFUSALS.PROFILE_NOT_FOUND.httpStatus).toBe(404);
  });

  it('never shows internals to the user', () => {
    for (const code of REFUSAL_CODES) expect(REFUSALS[code].userMessage).not.toMatch(/spec\.|status\.[a-z]|NameID|<|SAMLResponse/);
  });
});
