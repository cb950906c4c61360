// ManagedUsers are read with the CRD's schemas: its defaults apply and its decision reasons are
// the only ones accepted.
import { describe, expect, it } from 'vitest';
import { toUserRecord } from './directory.ts';

const managedUser = (spec: Record<string, unknown>, status?: Record<string, unknown>) => ({
  apiVersion: 'sso.gatehouse.dev/v1alpha1',
  kind: 'ManagedUser',
  metadata: { name: 'alice', namespace: 'acme', uid: 'u-1', resourceVersion: '7', labels: { team: 'a' } },
  spec,
  ...(status ? { status } : {}),
});

describe('toUserRecord', () => {
  it('reads a ManagedUser with the CRD defaults and the login part of the decision', () => {
    const decision = { available: true, enforced: true, profile: 'okta', reason: 'DomainEnforced', message: 'm', since: '2026-01-01T00:00:00Z' };
    expect(toUserRecord(managedUser({ email: 'Alice@Acme.test', roles: ['admin'] }, { sso: decision }))).toEqual({
      metadata: { name: 'alice', namespace: 'acme', uid: 'u-1', resourceVersion: '7' },
      namespace: 'acme',
      name: 'alice',
      uid: 'u-1',
      email: 'alice@acme.test',
      active: true,
      roles: ['admin'],
      sso: { available: true, enforced: true, profile: 'okta', reason: 'DomainEnforced' },
    });
    expect(toUserRecord(managedUser({ email: 'bob@acme.test', active: false }))).toMatchObject({ active: false, roles: [] });
  });

  it('refuses a decision reason the CRD does not define, and a spec the CRD refuses', () => {
    expect(toUserRecord(managedUser({ email: 'alice@acme.test' }, { sso: { available: true, enforced: false, reason: 'BecauseISaidSo' } }))).toBeUndefined();
    expect(toUserRecord(managedUser({ email: 'not-an-email' }))).toBeUndefined();
  });
});
