// The SSOProfile enforcement step: NotRequested, Blocked (and why), InProgress and Enforced.
import { describe, expect, it } from 'vitest';
import type { SSOProfile } from '../../../crds/api/index.ts';
import { enforcementStep } from './enforcement.ts';
import { contextWith, profile, reconcileOf, user } from './fixtures.ts';

const valid = [
  { type: 'IdPConfigValid', status: 'True', reason: 'Valid', message: 'ok' },
  { type: 'CertificateValid', status: 'True', reason: 'Valid', message: 'ok' },
] as const;
const testedStatus = { test: { result: 'Succeeded', email: 'admin@acme.com' } } as const;
const enforcing = (over: Partial<SSOProfile['spec']> = {}) => profile('okta', { test: { email: 'admin@acme.com' }, enforcement: { domains: ['acme.com'], exempt: ['admin@acme.com'] }, ...over }, testedStatus);

async function run(p: SSOProfile, users = [user('a@acme.com')], conditions: readonly { type: string; status: 'True' | 'False' | 'Unknown'; reason: string; message: string }[] = valid, served = ['acme.com']) {
  const { ctx } = contextWith({ profiles: [p], users });
  const r = reconcileOf(ctx, p);
  for (const c of conditions) r.conditions.set(c);
  r.served = served;
  const result = await enforcementStep.run(r, r.conditions);
  return { e: r.status.enforcement, enforced: r.conditions.get('Enforced'), result };
}

describe('enforcement step', () => {
  it('is NotRequested without domains to enforce', async () => {
    const { e, enforced } = await run(profile('okta'));
    expect(e).toEqual({ phase: 'NotRequested' });
    expect(enforced).toMatchObject({ status: 'False', reason: 'NotRequested', message: 'spec.enforcement.domains is empty' });
  });

  it('is Blocked by an invalid IdP, a missing test login, or a domain this profile does not serve', async () => {
    const invalid = await run(enforcing(), undefined, [valid[0], { type: 'CertificateValid', status: 'False', reason: 'Expired', message: 'every IdP certificate has expired' }]);
    expect(invalid.e).toMatchObject({ phase: 'Blocked', reason: 'IdPConfigInvalid', message: 'the IdP configuration or its certificates are not valid: every IdP certificate has expired' });
    expect(invalid.enforced).toMatchObject({ status: 'False', reason: 'IdPConfigInvalid' });
    const untested = await run(profile('okta', { test: { email: 'admin@acme.com' }, enforcement: { domains: ['acme.com'] } }));
    expect(untested.e).toMatchObject({ phase: 'Blocked', reason: 'TestNotPassed', message: 'admin@acme.com has not completed a successful test login yet' });
    const unserved = await run(enforcing(), undefined, valid, []);
    expect(unserved.e).toMatchObject({ phase: 'Blocked', reason: 'DomainNotVerified', message: 'not Verified (or served by another profile): acme.com' });
  });

  it('is InProgress until every matching user carries the decision, and counts again soon', async () => {
    const { e, enforced, result } = await run(enforcing(), [user('a@acme.com'), user('admin@acme.com'), user('b@other.com')]);
    expect(e).toMatchObject({ phase: 'InProgress', matchedUsers: 2, enforcedUsers: 0, message: '2 users still to update' });
    expect(enforced).toMatchObject({ status: 'False', reason: 'InProgress' });
    expect(result.requeueAfterMs).toBe(2000);
  });

  it('is Enforced once they do; exempt users count as matched, not enforced', async () => {
    const users = [
      user('a@acme.com', { available: true, enforced: true, reason: 'DomainEnforced', profile: 'okta', message: '', since: '2026-01-01T00:00:00Z' }),
      user('admin@acme.com', { available: true, enforced: false, reason: 'ExemptAdmin', profile: 'okta', message: '', since: '2026-01-01T00:00:00Z' }),
    ];
    const { e, enforced, result } = await run(enforcing(), users);
    expect(e).toMatchObject({ phase: 'Enforced', matchedUsers: 2, enforcedUsers: 1, message: '1 of 2 users of acme.com enforced; the others are exempt or overridden' });
    expect(enforced).toMatchObject({ status: 'True', reason: 'Enforced' });
    expect(result.requeueAfterMs).toBeUndefined();
  });
});
