// The ACS body limit an installation sets is the one the ACS applies, and no limit it may set
// admits a SAMLResponse that the validator's own length check would refuse.
import { afterAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/support/sp-app.ts';
import { ACS_BODY_LIMIT_BYTES, ACS_BODY_LIMIT_MAX_BYTES, ACS_BODY_LIMIT_MIN_BYTES } from './acs-body-limit.ts';
import { decodeBase64, MAX_RESPONSE_BASE64 } from './dom.ts';

describe('the ACS body limit', () => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const t of apps) await t.close();
  });
  const post = async (t: TestApp, bytes: number) => {
    const body = `SAMLResponse=${'A'.repeat(bytes - 'SAMLResponse='.length)}`;
    return fetch(`${t.base}/saml/acme/okta/acs`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  };

  it('is the configured one: over it 413 before parsing, under it the validator refuses', async () => {
    const small = await startTestApp({ app: { acsBodyLimitBytes: ACS_BODY_LIMIT_MIN_BYTES } });
    const dflt = await startTestApp();
    apps.push(small, dflt);
    expect((await post(small, ACS_BODY_LIMIT_MIN_BYTES + 1)).status).toBe(413);
    const under = await post(small, ACS_BODY_LIMIT_MIN_BYTES);
    expect(under.status).toBe(400);
    expect(await under.text()).toContain('MALFORMED_RESPONSE');
    expect((await post(dflt, ACS_BODY_LIMIT_MIN_BYTES + 1)).status).toBe(400);
    expect((await post(dflt, ACS_BODY_LIMIT_BYTES + 1)).status).toBe(413);
  });

  it('admits no SAMLResponse longer than the validator decodes, at any limit an installation may set', () => {
    expect(ACS_BODY_LIMIT_MIN_BYTES).toBeLessThanOrEqual(ACS_BODY_LIMIT_BYTES);
    expect(ACS_BODY_LIMIT_BYTES).toBeLessThanOrEqual(ACS_BODY_LIMIT_MAX_BYTES);
    expect(MAX_RESPONSE_BASE64).toBeGreaterThanOrEqual(ACS_BODY_LIMIT_MAX_BYTES);
    expect(() => decodeBase64('A'.repeat(ACS_BODY_LIMIT_MAX_BYTES))).not.toThrow();
    expect(() => decodeBase64('A'.repeat(MAX_RESPONSE_BASE64 + 4))).toThrow(/longer than/);
  });

  it('refuses base64 with a stray character after many line breaks as MALFORMED_RESPONSE, in linear time', () => {
    // The former pattern backtracked quadratically here: 100,000 line breaks took minutes.
    expect(() => decodeBase64(`AAAA${'\r\n'.repeat(100_000)}!`)).toThrow(/not base64/);
  });
});
