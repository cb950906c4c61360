// The rendered config carries every SSOProfile field the sp-server needs: a contract field with no
// source, a spec field the render forgets, or an operator fallback that differs from the CRD's
// default fails here.
import { describe, expect, it } from 'vitest';
import { renderCRD } from '../render.ts';
import { MAX_ALLOWED_CLOCK_SKEW, MAX_ALLOWED_CLOCK_SKEW_SECONDS, SSO_PROFILE_DEFAULTS } from './defaults.ts';
import { ssoProfileKind } from './kinds.ts';
import { renderedProfile, renderProfile, type RenderedProfile, type ResolvedProfileFields, type SSOProfileSpecInput } from './rendered-config.ts';
import { ssoProfileSpec, type SSOProfileSpec } from './sso-profile.ts';

type SpecField = keyof SSOProfileSpec;

/** Where each contract field comes from. The mapped type makes a new contract field a compile error here until it has a row. */
const SOURCES: {
  [K in keyof RenderedProfile]-?: K extends ResolvedProfileFields
    ? { resolvedFrom: readonly SpecField[] }
    : { from: SpecField; expected: (spec: typeof full) => RenderedProfile[K] };
} = {
  name: { resolvedFrom: [] },
  displayName: { from: 'displayName', expected: (s) => s.displayName },
  sp: { resolvedFrom: [] },
  idp: { resolvedFrom: ['idp'] },
  oidc: { resolvedFrom: ['oidc'] },
  domains: { resolvedFrom: ['domains'] },
  nameIDFormat: { from: 'nameIDFormat', expected: (s) => s.nameIDFormat },
  signAuthnRequests: { from: 'signAuthnRequests', expected: (s) => s.signAuthnRequests },
  forceAuthn: { from: 'forceAuthn', expected: (s) => s.forceAuthn },
  signatureAlgorithms: { from: 'signatureAlgorithms', expected: (s) => [...s.signatureAlgorithms].sort() },
  allowedClockSkewSeconds: { from: 'allowedClockSkew', expected: () => 120 },
  jit: { from: 'provisioning', expected: () => ({ enabled: true, defaultRoles: ['editor', 'viewer'] }) },
  roleMapping: { from: 'roleMapping', expected: (s) => s.roleMapping },
  test: { resolvedFrom: ['test'] },
  enforcedDomains: { resolvedFrom: ['enforcement'] },
  unmanagedUsers: { from: 'enforcement', expected: () => 'Allow' },
  enforcementExempt: { from: 'enforcement', expected: () => ['admin@acme.test'] },
};

/** Spec fields the rendered config deliberately does not carry, and why. */
const NOT_CARRIED: Partial<Record<SpecField, string>> = {};

const pem = (label: string) => `-----BEGIN ${label}-----\n${'A'.repeat(64)}\n-----END ${label}-----\n`;

// Every field set, each to something other than its default, so a render that ignores the spec fails.
const full = {
  displayName: 'Okta (Acme)',
  idp: { entityID: 'https://idp.acme.test', ssoURL: 'https://idp.acme.test/sso', certificates: [pem('CERTIFICATE')] },
  domains: ['acme.test', 'acme.example'],
  nameIDFormat: 'persistent',
  signAuthnRequests: true,
  forceAuthn: true,
  signatureAlgorithms: ['rsa-sha512', 'rsa-sha1'],
  allowedClockSkew: '2m',
  test: { email: 'Tester@acme.test' },
  enforcement: { domains: ['acme.test'], exempt: ['Admin@acme.test'], unmanagedUsers: 'Allow' },
  provisioning: { jit: { enabled: true, defaultRoles: ['viewer', 'editor'] } },
  roleMapping: { attribute: 'groups', rules: [{ value: 'eng', roles: ['admin'] }] },
} satisfies Required<Omit<SSOProfileSpec, 'oidc'>>; // idp and oidc are exclusive: the OIDC fields are resolved by the operator

const minimal: SSOProfileSpecInput = { idp: full.idp, domains: ['acme.test'] };

const resolved: Pick<RenderedProfile, ResolvedProfileFields> = {
  name: 'okta',
  sp: {
    entityID: 'https://sso.example.com/saml/acme/okta/metadata',
    acsURL: 'https://sso.example.com/saml/acme/okta/acs',
    metadataURL: 'https://sso.example.com/saml/acme/okta/metadata',
    key: { privateKeyPem: pem('PRIVATE KEY'), certificatePem: pem('CERTIFICATE') },
  },
  idp: { entityID: full.idp.entityID, ssoURL: full.idp.ssoURL, certificates: full.idp.certificates },
  domains: ['acme.test'],
  enforcedDomains: ['acme.test'],
  test: { token: 't'.repeat(32), email: 'tester@acme.test', expiresAt: '2026-01-02T00:00:00Z' },
};

/** Renders as the operator does, then reads it back as the sp-server does (JSON, shared schema). */
function renderAndRead(spec: SSOProfileSpecInput): RenderedProfile {
  return renderedProfile.parse(JSON.parse(JSON.stringify(renderProfile(spec, resolved))));
}

const carried = Object.entries(SOURCES).flatMap(([field, source]) => ('from' in source ? [[field as keyof RenderedProfile, source] as const] : []));

describe('the rendered profile', () => {
  it('has a source row for exactly the contract\'s fields', () => {
    expect(Object.keys(SOURCES).sort()).toEqual(Object.keys(renderedProfile.shape).sort());
  });

  it('accounts for every spec field: carried, resolved by the operator, or left out with a reason', () => {
    const used = new Set(Object.values(SOURCES).flatMap((s) => ('from' in s ? [s.from] : s.resolvedFrom)));
    for (const field of Object.keys(ssoProfileSpec.shape) as SpecField[]) {
      expect({ field, accounted: used.has(field) || NOT_CARRIED[field] !== undefined }).toEqual({ field, accounted: true });
    }
  });

  it('is rendered from a spec with every field set, and the fixture is one', () => {
    expect(ssoProfileSpec.safeParse(full).error).toBeUndefined();
    expect(Object.keys(full).sort()).toEqual(Object.keys(ssoProfileSpec.shape).filter((k) => k !== 'oidc').sort());
  });

  it.each(carried)('carries %s from its spec field', (field, source) => {
    const fromFull = renderAndRead(full)[field];
    expect(fromFull).toBeDefined();
    expect(fromFull).toEqual(source.expected(full));
    // Differs from what a spec without the field renders: the value came from the spec.
    expect(fromFull).not.toEqual(renderAndRead(minimal)[field]);
  });

  it('falls back to exactly the defaults the CRD declares', () => {
    const withCRDDefaults = ssoProfileSpec.parse(minimal);
    expect(renderAndRead(minimal)).toEqual(renderAndRead(withCRDDefaults));
    expect(renderAndRead(minimal)).toMatchObject({
      nameIDFormat: SSO_PROFILE_DEFAULTS.nameIDFormat,
      signAuthnRequests: false,
      signatureAlgorithms: [...SSO_PROFILE_DEFAULTS.signatureAlgorithms].sort(),
      allowedClockSkewSeconds: 90,
      jit: { enabled: false, defaultRoles: [] },
      unmanagedUsers: SSO_PROFILE_DEFAULTS.unmanagedUsers,
      enforcementExempt: [],
    });
    expect(SSO_PROFILE_DEFAULTS.unmanagedUsers).toBe('Refuse');
    // The CRD fills the same default in for the API server.
    expect(JSON.stringify(renderCRD(ssoProfileKind))).toMatch(new RegExp(`"unmanagedUsers":\\{"default":"${SSO_PROFILE_DEFAULTS.unmanagedUsers}"`));
    expect(withCRDDefaults.idp?.metadata).toBeUndefined();
    expect(ssoProfileSpec.parse({ ...minimal, idp: { metadata: { url: 'https://idp.acme.test/md' } } }).idp?.metadata?.refreshInterval).toBe(SSO_PROFILE_DEFAULTS.metadataRefreshInterval);
  });

  it('reads a config rendered before enforced domains and test link expiry existed as enforcing nothing more and a link that no longer works', () => {
    const { enforcedDomains: _e, unmanagedUsers: _u, enforcementExempt: _x, ...older } = renderAndRead(full);
    const read = renderedProfile.parse({ ...older, test: { token: 't'.repeat(32), email: 'tester@acme.test' } });
    expect(read).toMatchObject({ enforcedDomains: [], unmanagedUsers: 'Refuse', enforcementExempt: [] });
    expect(read.test?.expiresAt).toBeUndefined();
    expect(renderAndRead(full)).toMatchObject({ enforcedDomains: ['acme.test'], test: { expiresAt: '2026-01-02T00:00:00Z' } });
  });

  it('bounds the clock skew where the CRD does', () => {
    expect(MAX_ALLOWED_CLOCK_SKEW_SECONDS).toBe(300);
    const at = (seconds: number) => renderedProfile.safeParse({ ...renderAndRead(full), allowedClockSkewSeconds: seconds }).success;
    expect([at(MAX_ALLOWED_CLOCK_SKEW_SECONDS), at(MAX_ALLOWED_CLOCK_SKEW_SECONDS + 1)]).toEqual([true, false]);
    const crd = JSON.stringify(renderCRD(ssoProfileKind));
    expect(crd).toContain(`duration(self) <= duration('${MAX_ALLOWED_CLOCK_SKEW}')`);
    expect(renderAndRead({ ...minimal, allowedClockSkew: MAX_ALLOWED_CLOCK_SKEW }).allowedClockSkewSeconds).toBe(MAX_ALLOWED_CLOCK_SKEW_SECONDS);
  });
});
