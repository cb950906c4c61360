import { describe, expect, it } from 'vitest';
import type { ManagedUser, SSOProfile, VerifiedDomain } from '../../../crds/api/index.ts';
import { forecastEnforcement, verifiedNow } from './forecast.ts';
import { progressOf } from './progress.ts';

const T = '2026-01-01T00:00:00Z';
const cond = (type: string, status = 'True') => ({ type, status: status as 'True', reason: 'R', message: '', lastTransitionTime: T });
const domain = (d: string, verified: boolean, lapseTime = '2999-01-01T00:00:00Z'): VerifiedDomain =>
  ({ metadata: { name: d.replace(/\./g, '-'), namespace: 'org' }, spec: { domain: d }, status: { conditions: [cond('Verified', verified ? 'True' : 'False')], verification: { lapseTime } } }) as VerifiedDomain;
const profile = (name: string, domains: string[], o: { tested?: boolean; valid?: boolean } = {}): SSOProfile =>
  ({
    metadata: { name, namespace: 'org', creationTimestamp: T, generation: 1 },
    spec: { domains, test: { email: `admin@${domains[0]}` } },
    status: { conditions: [cond('IdPConfigValid', o.valid === false ? 'False' : 'True'), cond('CertificateValid')], ...(o.tested ? { test: { lastPassed: { email: `admin@${domains[0]}`, time: T } } } : {}) },
  }) as unknown as SSOProfile;
const user = (email: string, spec: Partial<ManagedUser['spec']> = {}): ManagedUser => ({ metadata: { name: email, namespace: 'org' }, spec: { email, sso: 'Inherit', active: true, ...spec } }) as ManagedUser;

const users = [user('admin@a.example'), user('one@a.example'), user('two@A.EXAMPLE'), user('off@a.example', { sso: 'Disabled' }), user('gone@a.example', { active: false }), user('x@b.example')];
const proposal = { profile: 'idp', domains: ['a.example'], exempt: ['Admin@a.example'], unmanagedUsers: 'Refuse' as const };

describe('enforcement forecast', () => {
  it('counts with the operator\'s decisions: exempt, Disabled and inactive users keep their sign-in', () => {
    const f = forecastEnforcement({ profiles: [profile('idp', ['a.example'], { tested: true })], domains: [domain('a.example', true)], users }, proposal);
    expect(f).toEqual({ matched: 5, enforced: 2, kept: { ExemptAdmin: 1, OverrideDisabled: 1, Inactive: 1 }, blockers: [] });
  });

  it('names what would block enforcement: no passed test, an invalid IdP, an unverified or lapsed domain', () => {
    const f = forecastEnforcement({ profiles: [profile('idp', ['a.example'], { valid: false })], domains: [domain('a.example', true, '2000-01-01T00:00:00Z')], users }, proposal);
    expect(f.blockers.map((b) => b.reason)).toEqual(['IdPConfigInvalid', 'TestNotPassed', 'DomainNotVerified']);
    expect(f.enforced).toBe(0);
  });

  it('leaves a domain an older connection serves to that connection', () => {
    const older = profile('older', ['a.example'], { tested: true });
    const f = forecastEnforcement({ profiles: [{ ...profile('idp', ['a.example'], { tested: true }), metadata: { name: 'idp', namespace: 'org', creationTimestamp: new Date('2026-02-01T00:00:00Z') } }, older], domains: [domain('a.example', true)], users }, proposal);
    expect(f.blockers.map((b) => b.reason)).toEqual(['DomainNotVerified']);
  });

  it('counts a domain as verified by its Verified condition until it lapses', () => {
    expect([...verifiedNow([domain('a.example', true), domain('b.example', false), domain('c.example', true, '2000-01-01T00:00:00Z')])]).toEqual(['a.example']);
  });
});

describe('enforcement progress', () => {
  const withStatus = (enforcement: Record<string, unknown> | undefined, observedGeneration = 1) => ({ ...profile('idp', ['a.example']), status: { observedGeneration, ...(enforcement ? { enforcement } : {}) } }) as SSOProfile;
  it('waits for the operator to catch up with the spec, then follows the phase', () => {
    expect(progressOf(withStatus({ phase: 'Enforced' }, 0))).toMatchObject({ text: 'Waiting for the operator', done: false });
    expect(progressOf(withStatus({ phase: 'InProgress', matchedUsers: 10, enforcedUsers: 4 }))).toMatchObject({ text: 'In progress: 4 of 10 users enforced', progress: { value: 4, max: 10 }, done: false });
    expect(progressOf(withStatus({ phase: 'Enforced', matchedUsers: 10, enforcedUsers: 8 }))).toMatchObject({ text: 'Enforced', progress: { value: 8, max: 8 }, done: true });
    expect(progressOf(withStatus({ phase: 'Blocked', reason: 'TestNotPassed', message: 'm' }))).toMatchObject({ text: 'Blocked: the connection has not passed a test yet', message: 'm', done: true });
    expect(progressOf(withStatus(undefined))).toMatchObject({ text: 'Not enforced', done: true });
  });
});
