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
  return { e: r.status.enforcement, enforced: r.conditions.get('Enforced'), degraded: r.conditions.get('Degraded'), result };
}

/** A profile whose enforcement on acme.com was reached earlier (the published status latched it). */
const latched = (status: SSOProfile['status'] = {}, over: Partial<SSOProfile['spec']> = {}) =>
  profile('okta', { test: { email: 'admin@acme.com' }, enforcement: { domains: ['acme.com'] }, ...over }, {
    ...status,
    test: { lastPassed: { email: 'admin@acme.com', time: '2026-01-01T00:00:00Z' }, ...status.test },
    enforcement: { phase: 'Enforced', domains: ['acme.com'], latchedDomains: ['acme.com'] },
  });
const enforcedUser = user('a@acme.com', { available: true, enforced: true, reason: 'DomainEnforced', profile: 'okta', message: '', since: '2026-01-01T00:00:00Z' });

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

  it('counts the same user objects again when the decision inputs change (an address made exempt)', async () => {
    const a = user('a@acme.com', { available: true, enforced: true, reason: 'DomainEnforced', profile: 'okta', message: '', since: '2026-01-01T00:00:00Z' });
    expect((await run(enforcing(), [a])).e).toMatchObject({ phase: 'Enforced', enforcedUsers: 1 });
    const exempt = enforcing({ enforcement: { domains: ['acme.com'], exempt: ['admin@acme.com', 'A@acme.com'] } });
    expect((await run(exempt, [a])).e).toMatchObject({ phase: 'InProgress', matchedUsers: 1, message: '1 users still to update' });
  });

  it('latches the domains it enters', async () => {
    const { e } = await run(enforcing());
    expect(e).toMatchObject({ phase: 'InProgress', domains: ['acme.com'], latchedDomains: ['acme.com'] });
  });

  it.each([
    ['a failed test attempt', latched({ test: { result: 'Failed', email: 'admin@acme.com', errorCode: 'SIGNATURE_INVALID', message: 'bad' } }), valid, 'TestFailed'],
    ['expired certificates', latched(), [valid[0], { type: 'CertificateValid', status: 'False', reason: 'Expired', message: 'every IdP certificate has expired' }], 'CertificateExpired'],
    ['an invalid IdP configuration', latched(), [{ type: 'IdPConfigValid', status: 'False', reason: 'MetadataInvalid', message: 'DTD' }, { type: 'CertificateValid', status: 'Unknown', reason: 'IdPConfigInvalid', message: '' }], 'IdPConfigInvalid'],
    ['an OIDC client secret that cannot be read', latched(), [...valid, { type: 'ClientSecretReady', status: 'False', reason: 'SecretNotFound', message: 'the Secret acme/gatehouse-oidc-client does not exist' }], 'ClientSecretUnavailable'],
    ['unreachable metadata', latched(), [{ type: 'IdPConfigValid', status: 'False', reason: 'MetadataFetchFailed', message: 'fetching failed: ECONNREFUSED' }, { type: 'CertificateValid', status: 'Unknown', reason: 'IdPConfigInvalid', message: '' }], 'MetadataFetchFailed'],
  ] as const)('stays Enforced through %s, Degraded with a reason to act on', async (_name, p, conditions, reason) => {
    const { e, enforced, degraded } = await run(p, [enforcedUser], conditions);
    expect(e).toMatchObject({ phase: 'Enforced', latchedDomains: ['acme.com'], matchedUsers: 1, enforcedUsers: 1 });
    expect(enforced).toMatchObject({ status: 'True', reason: 'Enforced' });
    expect(degraded).toMatchObject({ status: 'True', reason });
    expect(degraded?.message).toContain('SSO stays enforced on acme.com (password login refused)');
  });

  it('is not Degraded by an unreadable OIDC client secret while the one read before still serves', async () => {
    const p = latched();
    const { ctx } = contextWith({ profiles: [p], users: [enforcedUser] });
    const r = reconcileOf(ctx, p);
    for (const c of [...valid, { type: 'ClientSecretReady', status: 'False', reason: 'SecretNotFound', message: 'gone; the secret read before keeps serving' } as const]) r.conditions.set(c);
    r.served = ['acme.com'];
    r.clientSecret = 'read-before';
    await enforcementStep.run(r, r.conditions);
    expect(r.conditions.get('Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
  });

  it('stays latched when the test address changes and is not tested yet', async () => {
    const { e, degraded } = await run(latched({}, { test: { email: 'new@acme.com' } }), [enforcedUser]);
    expect(e).toMatchObject({ phase: 'Enforced', latchedDomains: ['acme.com'] });
    expect(degraded).toMatchObject({ status: 'False', reason: 'AsExpected' });
  });

  it('keeps a latched domain while a newly wanted one is blocked', async () => {
    const p = latched({}, { domains: ['acme.com', 'b.com'], enforcement: { domains: ['acme.com', 'b.com'] } });
    const { e, enforced } = await run(p, [enforcedUser], valid, ['acme.com']);
    expect(e).toMatchObject({ phase: 'Enforced', reason: 'DomainNotVerified', domains: ['acme.com', 'b.com'], latchedDomains: ['acme.com'] });
    expect(e?.message).toContain('not yet enforced on b.com: not Verified (or served by another profile): b.com');
    expect(enforced).toMatchObject({ status: 'False', reason: 'DomainNotVerified' });
  });

  it('lets go of a domain only when the spec drops it', async () => {
    const { e, degraded } = await run(latched({}, { enforcement: undefined }), [enforcedUser]);
    expect(e).toEqual({ phase: 'NotRequested' });
    expect(degraded).toBeUndefined();
  });
});
