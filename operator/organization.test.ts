// The organization module: domain ownership, test state, the profile view and its fingerprint.
import { describe, expect, it } from 'vitest';
import type { SSOProfile, SSOProfileStatus, VerifiedDomain } from '../crds/api/index.ts';
import { domainOwners, isTested, latchedDomains, organizationOf, profileView, profileViewFingerprint } from './organization.ts';
import { cacheOf, TEST_PROOF_KEY } from './test-doubles.ts';

const profile = (name: string, created: string, spec: Partial<SSOProfile['spec']> = {}, status?: SSOProfileStatus, generation = 1): SSOProfile =>
  ({ metadata: { name, namespace: 'acme', generation, creationTimestamp: created }, spec: { idp: {}, domains: ['acme.com'], ...spec }, ...(status ? { status } : {}) }) as unknown as SSOProfile;
const cond = (type: string, status: 'True' | 'False') => ({ type, status, reason: 'R', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' });
const org = { verified: new Set(['acme.com', 'b.com']), owners: new Map([['acme.com', 'okta'], ['b.com', 'okta']]) };

describe('organization', () => {
  it('gives each domain to the oldest profile that lists it (name breaks ties)', () => {
    const owners = domainOwners([profile('z', '2026-02-01T00:00:00Z', { domains: ['a.com', 'b.com'] }), profile('y', '2026-01-01T00:00:00Z', { domains: ['b.com'] }), profile('x', '2026-02-01T00:00:00Z', { domains: ['a.com'] })]);
    expect(Object.fromEntries(owners)).toEqual({ 'b.com': 'y', 'a.com': 'x' });
  });

  it('counts a test as passed only for the address spec.test names now', () => {
    const ok = { test: { result: 'Succeeded', email: 'ADMIN@acme.com' } } as const;
    expect(isTested(profile('okta', '', { test: { email: 'admin@acme.com' } }, ok))).toBe(true);
    expect(isTested(profile('okta', '', { test: { email: 'other@acme.com' } }, ok))).toBe(false);
    expect(isTested(profile('okta', '', {}, ok))).toBe(false);
  });

  it('views a profile from its published status: enforcement as latched, whatever the generation, on the domains still wanted', () => {
    const status: SSOProfileStatus = { observedGeneration: 1, conditions: [cond('IdPConfigValid', 'True'), cond('CertificateValid', 'True')], enforcement: { phase: 'Enforced', domains: ['acme.com', 'b.com'] } };
    const p = profile('okta', '2026-01-01T00:00:00Z', { domains: ['acme.com', 'b.com'], enforcement: { domains: ['acme.com'], exempt: ['Admin@acme.com'] } }, status);
    const v = profileView(p, org);
    expect(v).toMatchObject({ name: 'okta', valid: true, tested: false });
    expect([...v.servedDomains]).toEqual(['acme.com', 'b.com']);
    expect([...v.enforcingDomains]).toEqual(['acme.com']);
    expect([...v.exempt]).toEqual(['admin@acme.com']);
    // An edit (a new generation not yet observed) keeps users enforced.
    const edited = profile('okta', '2026-01-01T00:00:00Z', p.spec, status, 2);
    expect([...profileView(edited, org).enforcingDomains]).toEqual(['acme.com']);
    const invalid = profile('okta', '2026-01-01T00:00:00Z', p.spec, { ...status, conditions: [cond('IdPConfigValid', 'True'), cond('CertificateValid', 'False')] });
    expect(profileView(invalid, org).valid).toBe(false);
  });

  it('holds latched domains through any phase until the spec drops them', () => {
    const status: SSOProfileStatus = { enforcement: { phase: 'Blocked', domains: ['acme.com', 'b.com'], latchedDomains: ['acme.com'] } };
    const p = profile('okta', '', { domains: ['acme.com', 'b.com'], enforcement: { domains: ['acme.com', 'b.com'] } }, status, 3);
    expect(latchedDomains(p)).toEqual(['acme.com']);
    expect([...profileView(p, org).enforcingDomains]).toEqual(['acme.com']);
    expect(latchedDomains(profile('okta', '', { domains: ['acme.com', 'b.com'], enforcement: { domains: ['b.com'] } }, status))).toEqual([]);
    expect(latchedDomains(profile('okta', '', { domains: ['acme.com'] }, status))).toEqual([]);
    // Written before latchedDomains existed: an enforcing phase latched its domains.
    expect(latchedDomains(profile('okta', '', { enforcement: { domains: ['acme.com'] } }, { enforcement: { phase: 'InProgress', domains: ['acme.com'] } }))).toEqual(['acme.com']);
    expect(latchedDomains(profile('okta', '', { enforcement: { domains: ['acme.com'] } }, { enforcement: { phase: 'Blocked', domains: ['acme.com'] } }))).toEqual([]);
  });

  it('leaves a latched domain with its profile when an older profile lists it later', () => {
    const latched = profile('young', '2026-03-01T00:00:00Z', { enforcement: { domains: ['acme.com'] } }, { enforcement: { phase: 'Enforced', latchedDomains: ['acme.com'] } });
    expect(Object.fromEntries(domainOwners([profile('old', '2026-01-01T00:00:00Z'), latched]))).toEqual({ 'acme.com': 'young' });
  });

  it('keeps the last passed test through later attempts', () => {
    const passed = { lastPassed: { email: 'admin@acme.com', time: '2026-01-01T00:00:00Z' } };
    expect(isTested(profile('okta', '', { test: { email: 'Admin@acme.com' } }, { test: { ...passed, result: 'Failed', email: 'admin@acme.com' } }))).toBe(true);
    expect(isTested(profile('okta', '', { test: { email: 'admin@acme.com' } }, { test: { ...passed, result: 'Pending', email: 'admin@acme.com' } }))).toBe(true);
    expect(isTested(profile('okta', '', { test: { email: 'new@acme.com' } }, { test: passed }))).toBe(false);
  });

  it('leaves a profile being deleted out of the organization', () => {
    const going = { ...profile('old', '2026-01-01T00:00:00Z'), metadata: { ...profile('old', '2026-01-01T00:00:00Z').metadata, deletionTimestamp: '2026-04-01T00:00:00Z' } } as unknown as SSOProfile;
    const o = organizationOf({ domains: cacheOf<VerifiedDomain>([]), profiles: cacheOf([going, profile('young', '2026-02-01T00:00:00Z')]), domainProofKey: TEST_PROOF_KEY }, 'acme');
    expect(o.profiles.map((p) => p.metadata.name)).toEqual(['young']);
    expect(o.owners.get('acme.com')).toBe('young');
    expect(profileViewFingerprint(going)).not.toBe(profileViewFingerprint(profile('old', '2026-01-01T00:00:00Z')));
  });

  it('views a profile as its own reconcile is about to publish it', () => {
    const p = profile('okta', '2026-01-01T00:00:00Z', { enforcement: { domains: ['acme.com'] } }, { observedGeneration: 0 });
    const v = profileView(p, org, { valid: true, enforcingDomains: ['acme.com'] });
    expect(v.valid).toBe(true);
    expect([...v.enforcingDomains]).toEqual(['acme.com']);
  });

  it('fingerprints what decisions read, not the counters', () => {
    const spec = { enforcement: { domains: ['acme.com'] } };
    const status: SSOProfileStatus = { observedGeneration: 1, enforcement: { phase: 'InProgress', domains: ['acme.com'], latchedDomains: ['acme.com'], matchedUsers: 10, enforcedUsers: 1 } };
    const p = profile('okta', '', spec, status);
    const withEnforcement = (e: Partial<NonNullable<SSOProfileStatus['enforcement']>>) => profile('okta', '', spec, { ...status, enforcement: { ...status.enforcement!, ...e } });
    expect(profileViewFingerprint(withEnforcement({ enforcedUsers: 5 }))).toBe(profileViewFingerprint(p));
    // Latched, the phase's progress changes no decision: no pass over every user when it ends.
    expect(profileViewFingerprint(withEnforcement({ phase: 'Enforced', enforcedUsers: 10 }))).toBe(profileViewFingerprint(p));
    expect(profileViewFingerprint(withEnforcement({ latchedDomains: [] }))).not.toBe(profileViewFingerprint(p));
    // A status written before latchedDomains existed holds its domains through its phase.
    const legacy = (phase: 'Blocked' | 'InProgress') => profile('okta', '', spec, { observedGeneration: 1, enforcement: { phase, domains: ['acme.com'] } });
    expect(profileViewFingerprint(legacy('InProgress'))).not.toBe(profileViewFingerprint(legacy('Blocked')));
    expect(profileViewFingerprint(profile('okta', '', spec, { ...status, test: { result: 'Succeeded', email: 'a@acme.com' } }))).not.toBe(profileViewFingerprint(p));
    expect(profileViewFingerprint(profile('okta', '', spec, status, 2))).not.toBe(profileViewFingerprint(p));
    expect(profileViewFingerprint(profile('okta', '', spec, { ...status, test: { lastPassed: { email: 'a@acme.com', time: '2026-01-01T00:00:00Z' } } }))).not.toBe(profileViewFingerprint(p));
  });
});
