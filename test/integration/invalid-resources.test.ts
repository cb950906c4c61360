// Invalid resources must be refused by the API server itself (schema or CEL), with a message
// that names the field, so that kubectl apply and GitOps tools show the admin what to fix.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { kubectl } from '../controlplane/kubectl.ts';

const kubeconfig = inject('kubeconfig');
const ns = 'invalid-resources';
const cert = readFileSync(join(import.meta.dirname, '..', '..', 'examples', '31-ssoprofile-entra.yaml'), 'utf8')
  .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)![0]
  .replace(/\n\s+/g, '\n');

const validProfileSpec = {
  domains: ['example.com'],
  idp: { entityID: 'https://idp.example.com', ssoURL: 'https://idp.example.com/sso', certificates: [cert] },
};

interface Case {
  name: string;
  kind: 'ManagedUser' | 'VerifiedDomain' | 'SSOProfile';
  spec: Record<string, unknown>;
  field: string;
  message?: RegExp;
}

const cases: Case[] = [
  { name: 'email without @', kind: 'ManagedUser', spec: { email: 'not-an-email' }, field: 'spec.email' },
  {
    name: 'email whose domain part is not a DNS name',
    kind: 'ManagedUser',
    spec: { email: 'bob@exa_mple' },
    field: 'spec.email',
    message: /domain part of the email must be a DNS name/,
  },
  { name: 'missing email', kind: 'ManagedUser', spec: { displayName: 'Nobody' }, field: 'spec.email', message: /Required value/ },
  { name: 'unknown spec.sso value', kind: 'ManagedUser', spec: { email: 'a@example.com', sso: 'Maybe' }, field: 'spec.sso', message: /Unsupported value: "Maybe"/ },
  { name: 'role with invalid characters', kind: 'ManagedUser', spec: { email: 'a@example.com', roles: ['Admin!'] }, field: 'spec.roles[0]' },
  { name: 'active as a string', kind: 'ManagedUser', spec: { email: 'a@example.com', active: 'disabled' }, field: 'spec.active', message: /must be of type boolean/ },
  { name: 'upper-case domain', kind: 'VerifiedDomain', spec: { domain: 'Example.COM' }, field: 'spec.domain' },
  { name: 'single-label domain', kind: 'VerifiedDomain', spec: { domain: 'localhost' }, field: 'spec.domain' },
  {
    name: 'missing IdP data',
    kind: 'SSOProfile',
    spec: { domains: ['example.com'], idp: {} },
    field: 'spec.idp',
    message: /idp needs metadata \(xml or url\), or entityID, ssoURL and at least one certificate/,
  },
  {
    name: 'entityID and SSO URL without a certificate',
    kind: 'SSOProfile',
    spec: { domains: ['example.com'], idp: { entityID: 'https://idp.example.com', ssoURL: 'https://idp.example.com/sso' } },
    field: 'spec.idp',
  },
  {
    name: 'metadata with both xml and url',
    kind: 'SSOProfile',
    spec: { domains: ['example.com'], idp: { metadata: { xml: '<x/>', url: 'https://idp.example.com/md' } } },
    field: 'spec.idp.metadata',
    message: /exactly one of metadata.xml and metadata.url/,
  },
  {
    name: 'metadata URL that is not http(s)',
    kind: 'SSOProfile',
    spec: { domains: ['example.com'], idp: { metadata: { url: 'file:///etc/passwd' } } },
    field: 'spec.idp.metadata.url',
  },
  {
    name: 'metadata refreshed every millisecond',
    kind: 'SSOProfile',
    spec: { domains: ['example.com'], idp: { metadata: { url: 'https://idp.example.com/md', refreshInterval: '1ms' } } },
    field: 'spec.idp.metadata.refreshInterval',
    message: /refreshInterval must be at least 5m/,
  },
  {
    name: 'metadata refreshed continuously (0s)',
    kind: 'SSOProfile',
    spec: { domains: ['example.com'], idp: { metadata: { url: 'https://idp.example.com/md', refreshInterval: '0s' } } },
    field: 'spec.idp.metadata.refreshInterval',
    message: /refreshInterval must be at least 5m/,
  },
  {
    name: 'metadata signing certificate that is not PEM',
    kind: 'SSOProfile',
    spec: { domains: ['example.com'], idp: { metadata: { url: 'https://idp.example.com/md', signingCertificate: 'x'.repeat(80) } } },
    field: 'spec.idp.metadata.signingCertificate',
  },
  {
    name: 'enforcement domain outside spec.domains',
    kind: 'SSOProfile',
    spec: { ...validProfileSpec, enforcement: { domains: ['other.com'] } },
    field: 'spec.enforcement.domains',
    message: /must also be listed in spec.domains/,
  },
  {
    name: 'unknown signature algorithm',
    kind: 'SSOProfile',
    spec: { ...validProfileSpec, signatureAlgorithms: ['rsa-md5'] },
    field: 'spec.signatureAlgorithms[0]',
    message: /Unsupported value: "rsa-md5"/,
  },
  {
    name: 'clock skew above five minutes',
    kind: 'SSOProfile',
    spec: { ...validProfileSpec, allowedClockSkew: '1h' },
    field: 'spec.allowedClockSkew',
    message: /at most 5m/,
  },
  {
    name: 'test user outside the profile\'s domains',
    kind: 'SSOProfile',
    spec: { ...validProfileSpec, test: { email: 'eve@elsewhere.org' } },
    field: 'spec.test.email',
    message: /must belong to one of spec.domains/,
  },
  { name: 'no domains', kind: 'SSOProfile', spec: { ...validProfileSpec, domains: [] }, field: 'spec.domains' },
  {
    name: 'certificate that is not PEM',
    kind: 'SSOProfile',
    spec: { ...validProfileSpec, idp: { ...validProfileSpec.idp, certificates: ['x'.repeat(80)] } },
    field: 'spec.idp.certificates[0]',
  },
  {
    name: 'enforcement exempt entry that is not an email',
    kind: 'SSOProfile',
    spec: { ...validProfileSpec, enforcement: { domains: ['example.com'], exempt: ['root'] } },
    field: 'spec.enforcement.exempt[0]',
  },
];

function manifest(kind: string, name: string, spec: Record<string, unknown>): string {
  return stringify({ apiVersion: 'sso.gatehouse.dev/v1alpha1', kind, metadata: { name, namespace: ns }, spec });
}

describe('the API server refuses invalid resources, naming the field', () => {
  beforeAll(async () => {
    await kubectl(kubeconfig, ['create', 'namespace', ns]);
  });

  it('covers at least twelve cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(12);
  });

  it('accepts the valid baseline the SSOProfile cases start from', async () => {
    const res = await kubectl(kubeconfig, ['apply', '--dry-run=server', '-f', '-'], manifest('SSOProfile', 'baseline', validProfileSpec));
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
  });

  it.each(cases)('$kind: $name', async ({ kind, spec, field, message }) => {
    const res = await kubectl(kubeconfig, ['apply', '--dry-run=server', '-f', '-'], manifest(kind, 'invalid', spec));
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('is invalid');
    expect(res.stderr).toContain(field);
    if (message) expect(res.stderr).toMatch(message);
  });

  it('SSOProfile: a metadata refresh interval of exactly 5m, and a PEM signing certificate, are accepted', async () => {
    const spec = { domains: ['example.com'], idp: { metadata: { url: 'https://idp.example.com/md', refreshInterval: '5m', signingCertificate: cert } } };
    const res = await kubectl(kubeconfig, ['apply', '--dry-run=server', '-f', '-'], manifest('SSOProfile', 'floor', spec));
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
  });

  it('VerifiedDomain: spec.domain cannot change after creation', async () => {
    const created = await kubectl(kubeconfig, ['apply', '-f', '-'], manifest('VerifiedDomain', 'immutable', { domain: 'example.com' }));
    expect(created.code, created.stderr).toBe(0);
    const changed = await kubectl(kubeconfig, ['apply', '-f', '-'], manifest('VerifiedDomain', 'immutable', { domain: 'example.org' }));
    expect(changed.code).not.toBe(0);
    expect(changed.stderr).toContain('spec.domain');
    expect(changed.stderr).toMatch(/spec.domain is immutable/);
  });
});
