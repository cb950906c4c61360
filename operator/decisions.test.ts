// The per-user SSO decision: every reason, and enforcement held while the serving profile is broken.
import { describe, expect, it } from 'vitest';
import { decide, type ProfileView } from './decisions.ts';

const profile = (over: Partial<ProfileView> = {}): ProfileView => ({
  name: 'okta',
  creationTimestamp: '2026-01-01T00:00:00Z',
  valid: true,
  servedDomains: new Set(['acme.com']),
  tested: true,
  enforcingDomains: new Set(['acme.com']),
  exempt: new Set(['admin@acme.com']),
  ...over,
});
const user = (email: string, sso: 'Inherit' | 'Enabled' | 'Disabled' = 'Inherit', active = true) => ({ spec: { email, sso, active } });
const verified = new Set(['acme.com', 'other.com']);

describe('decide', () => {
  it.each([
    ['deprovisioned user', user('a@acme.com', 'Inherit', false), [profile()], 'Inactive', false, false],
    ['unverified domain', user('a@nope.com'), [profile()], 'DomainNotVerified', false, false],
    ['lapsed verification of a latched domain: still enforced, SSO unavailable', user('a@acme.com'), [profile({ servedDomains: new Set() })], 'DomainEnforced', false, true],
    ['lapsed verification of a latched domain, exempt admin', user('admin@acme.com'), [profile({ servedDomains: new Set() })], 'DomainNotVerified', false, false],
    ['lapsed verification of a domain never enforced', user('a@acme.com'), [profile({ servedDomains: new Set(), enforcingDomains: new Set() })], 'DomainNotVerified', false, false],
    ['verified domain without profile', user('a@other.com'), [profile()], 'NoProfile', false, false],
    ['invalid profile, domain not enforced', user('a@acme.com'), [profile({ valid: false, enforcingDomains: new Set() })], 'NoProfile', false, false],
    ['invalid profile of an enforced domain: still enforced, SSO unavailable', user('a@acme.com'), [profile({ valid: false })], 'DomainEnforced', false, true],
    ['invalid profile, override Enabled after a passed test: still enforced', user('a@acme.com', 'Enabled'), [profile({ valid: false, enforcingDomains: new Set() })], 'OverrideEnabled', false, true],
    ['invalid profile, exempt admin of an enforced domain', user('admin@acme.com'), [profile({ valid: false })], 'NoProfile', false, false],
    ['invalid profile, override Disabled on an enforced domain', user('a@acme.com', 'Disabled'), [profile({ valid: false })], 'NoProfile', false, false],
    ['override Disabled', user('a@acme.com', 'Disabled'), [profile()], 'OverrideDisabled', true, false],
    ['exempt admin, any case', user('Admin@ACME.com'), [profile()], 'ExemptAdmin', true, false],
    ['exempt admin even with Enabled', user('admin@acme.com', 'Enabled'), [profile()], 'ExemptAdmin', true, false],
    ['override Enabled on a tested profile', user('a@acme.com', 'Enabled'), [profile({ enforcingDomains: new Set() })], 'OverrideEnabled', true, true],
    ['override Enabled on an untested profile', user('a@acme.com', 'Enabled'), [profile({ tested: false, enforcingDomains: new Set() })], 'NotEnforced', true, false],
    ['enforced domain, mixed-case email', user('Bob@Acme.COM'), [profile()], 'DomainEnforced', true, true],
    ['not enforced', user('a@acme.com'), [profile({ enforcingDomains: new Set() })], 'NotEnforced', true, false],
  ] as const)('%s', (_name, u, profiles, reason, available, enforced) => {
    const d = decide(u, _name.startsWith('lapsed') ? new Set(['other.com']) : verified, profiles);
    expect(d.reason).toBe(reason);
    expect(d.available).toBe(available);
    expect(d.enforced).toBe(enforced);
    if (available || enforced) expect(d.profile).toBe('okta');
  });

  it('tells an enforced user of a broken profile why SSO is unavailable', () => {
    expect(decide(user('a@acme.com'), verified, [profile({ valid: false })]).message).toBe(
      'SSO is enforced on acme.com by SSOProfile okta. SSO sign-in is unavailable until an administrator fixes SSOProfile okta (its IdP configuration or certificates are not valid); password login stays refused',
    );
  });
});
