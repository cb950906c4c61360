import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { renderedOrganization } from '../crds/api/index.ts';
import { newScimTokenSecret, renderScim, SCIM_ENABLED_LABEL, SCIM_TOKEN_SECRET_NAME, tokenOfSecret } from './scim-token.ts';

const enabled = { metadata: { name: 'acme', labels: { [SCIM_ENABLED_LABEL]: 'enabled' } } };
const disabled = { metadata: { name: 'acme', labels: {} } };

describe('SCIM token Secret (operator side)', () => {
  it('creates a Secret with a random 256-bit token', () => {
    const a = newScimTokenSecret('acme');
    const b = newScimTokenSecret('acme');
    expect(a.metadata?.name).toBe(SCIM_TOKEN_SECRET_NAME);
    expect(a.metadata?.namespace).toBe('acme');
    const token = tokenOfSecret(a);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tokenOfSecret(b)).not.toBe(token);
  });

  it('renders only the sha256 of the token, and nothing when SCIM is not enabled', () => {
    const secret = newScimTokenSecret('acme');
    const token = tokenOfSecret(secret)!;
    const rendered = renderScim(enabled, secret);
    expect(rendered).toEqual({ tokenSHA256: [createHash('sha256').update(token).digest('hex')] });
    expect(JSON.stringify(rendered)).not.toContain(token);
    expect(renderScim(disabled, secret)).toBeUndefined();
    expect(renderScim(enabled, undefined)).toEqual({ tokenSHA256: [] });
    // The rendered value satisfies the config contract.
    expect(renderedOrganization.parse({ namespace: 'acme', verifiedDomains: [], profiles: [], scim: rendered }).scim).toEqual(rendered);
  });

  it('refuses short or malformed tokens instead of rendering them', () => {
    expect(tokenOfSecret({ stringData: { token: 'short' } })).toBeUndefined();
    expect(tokenOfSecret({ data: { token: Buffer.from('has spaces in it but is long enough to pass').toString('base64') } })).toBeUndefined();
    expect(tokenOfSecret({ stringData: { token: 'x'.repeat(40) } })).toBe('x'.repeat(40));
    expect(renderScim(enabled, { stringData: { token: 'short' } })).toEqual({ tokenSHA256: [] });
  });
});
