// The SSOProfile domains step: verified, unverified and claimed domains.
import { describe, expect, it } from 'vitest';
import { domainsStep } from './domains.ts';
import { contextWith, profile, reconcileOf, verified } from './fixtures.ts';

describe('domains step', () => {
  it('serves verified domains no older profile claims', async () => {
    const okta = profile('okta', { domains: ['b.com', 'acme.com'] });
    const { ctx } = contextWith({ profiles: [okta], domains: [verified('acme.com'), verified('b.com')] });
    const r = reconcileOf(ctx, okta);
    await domainsStep.run(r, r.conditions);
    expect(r.served).toEqual(['acme.com', 'b.com']);
    expect(r.conditions.get('DomainsVerified')).toMatchObject({ status: 'True', reason: 'Verified', message: 'serving acme.com, b.com' });
  });

  it('names domains not verified in the organization', async () => {
    const okta = profile('okta', { domains: ['acme.com', 'nope.com'] });
    const { ctx } = contextWith({ profiles: [okta] });
    const r = reconcileOf(ctx, okta);
    await domainsStep.run(r, r.conditions);
    expect(r.served).toEqual(['acme.com']);
    expect(r.conditions.get('DomainsVerified')).toMatchObject({ status: 'False', reason: 'DomainNotVerified', message: 'not Verified in this organization: nope.com' });
  });

  it('leaves a domain to the older profile that lists it', async () => {
    const older = profile('older', {}, undefined, '2025-01-01T00:00:00Z');
    const younger = profile('younger');
    const { ctx } = contextWith({ profiles: [younger, older] });
    const r = reconcileOf(ctx, younger);
    await domainsStep.run(r, r.conditions);
    expect(r.served).toEqual([]);
    expect(r.conditions.get('DomainsVerified')).toMatchObject({ status: 'False', reason: 'DomainClaimed', message: 'acme.com is served by SSOProfile older' });
  });
});
