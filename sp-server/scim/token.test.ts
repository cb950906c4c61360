import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SPConfig } from '../../crds/api/index.ts';
import { tokenMatches, tokenVerifierFromConfig } from './token.ts';

const hex = (t: string) => createHash('sha256').update(t).digest('hex');

describe('SCIM token verification', () => {
  const config: SPConfig = {
    formatVersion: 1,
    organizations: [
      { namespace: 'acme', verifiedDomains: [], profiles: [], scim: { tokenSHA256: [hex('acme-token-old'), hex('acme-token-new')] } },
      { namespace: 'globex', verifiedDomains: [], profiles: [], scim: { tokenSHA256: [hex('globex-token')] } },
      { namespace: 'initech', verifiedDomains: [], profiles: [] },
    ],
  };
  let current: SPConfig | undefined = config;
  const verify = tokenVerifierFromConfig(() => current);

  it('accepts every listed token of the organization, and only for that organization', async () => {
    expect(await verify('acme', 'acme-token-old')).toBe(true);
    expect(await verify('acme', 'acme-token-new')).toBe(true);
    expect(await verify('globex', 'globex-token')).toBe(true);
    expect(await verify('globex', 'acme-token-new')).toBe(false);
    expect(await verify('acme', 'globex-token')).toBe(false);
  });

  it('refuses organizations without SCIM, unknown organizations, near-misses and the digest itself', async () => {
    expect(await verify('initech', '')).toBe(false);
    expect(await verify('nowhere', 'acme-token-new')).toBe(false);
    expect(await verify('acme', 'acme-token-new ')).toBe(false);
    expect(await verify('acme', hex('acme-token-new'))).toBe(false);
    expect(tokenMatches('x', ['not-hex', ''])).toBe(false);
  });

  it('follows a reloaded config (rotation)', async () => {
    current = { ...config, organizations: [{ namespace: 'acme', verifiedDomains: [], profiles: [], scim: { tokenSHA256: [hex('acme-token-new')] } }] };
    expect(await verify('acme', 'acme-token-old')).toBe(false);
    expect(await verify('acme', 'acme-token-new')).toBe(true);
    current = undefined;
    expect(await verify('acme', 'acme-token-new')).toBe(false);
  });
});
