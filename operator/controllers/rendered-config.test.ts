import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ORGANIZATION_DISPLAY_NAME_ANNOTATION, spConfig, type ManagedUser, type SSOProfile, type VerifiedDomain } from '../../crds/api/index.ts';
import { displayNameOnly } from '../caches.ts';
import type { Context, NamespaceObject, SecretObject } from '../context.ts';
import { SCIM_ENABLED_LABEL, SCIM_TOKEN_SECRET_NAME } from '../scim-token.ts';
import { cacheOf as cache, provenDomain, TEST_PROOF_KEY } from '../test-doubles.ts';
import { renderConfig } from './rendered-config.ts';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const token = (t: string): SecretObject => ({ metadata: { name: SCIM_TOKEN_SECRET_NAME, namespace: '' }, data: { token: Buffer.from(t).toString('base64') } });
const scimNs = (name: string): NamespaceObject => ({ metadata: { name, labels: { [SCIM_ENABLED_LABEL]: 'enabled' } } });

function ctxWith(namespaces: NamespaceObject[], secrets: SecretObject[], domains: VerifiedDomain[] = [], displayNames: NamespaceObject[] = []): Context {
  return {
    log: pino({ level: 'silent' }),
    domains: cache(domains),
    users: cache<ManagedUser>([]),
    profiles: cache<SSOProfile>([]),
    scimNamespaces: cache(namespaces),
    displayNames: cache(displayNames.map(displayNameOnly)),
    scimSecrets: cache(secrets),
    fragments: new Map(),
    domainProofKey: TEST_PROOF_KEY,
  } as unknown as Context;
}

const verifiedDomain = (namespace: string, domain: string): VerifiedDomain => provenDomain(domain, namespace);

describe('renderConfig with SCIM', () => {
  it('renders SCIM-only organizations with the digest of their token, sorted, nothing for unlabelled ones', () => {
    const a = 'a'.repeat(43);
    const b = 'b'.repeat(43);
    const ctx = ctxWith(
      [scimNs('zeta'), scimNs('alpha'), scimNs('pending')],
      [
        { ...token(a), metadata: { name: SCIM_TOKEN_SECRET_NAME, namespace: 'zeta' } },
        { ...token(b), metadata: { name: SCIM_TOKEN_SECRET_NAME, namespace: 'alpha' } },
        // A token Secret in a namespace without the label is not rendered.
        { ...token('c'.repeat(43)), metadata: { name: SCIM_TOKEN_SECRET_NAME, namespace: 'unlabelled' } },
      ],
      [verifiedDomain('zeta', 'zeta.example'), verifiedDomain('domains-only', 'd.example')],
    );
    const { json } = renderConfig(ctx);
    const doc = spConfig.parse(JSON.parse(json));
    expect(doc.organizations).toEqual([
      { namespace: 'alpha', verifiedDomains: [], profiles: [], scim: { tokenSHA256: [sha256(b)] } },
      { namespace: 'domains-only', verifiedDomains: ['d.example'], profiles: [] },
      // Labelled, Secret not created yet: the entry exists and accepts no token.
      { namespace: 'pending', verifiedDomains: [], profiles: [], scim: { tokenSHA256: [] } },
      { namespace: 'zeta', verifiedDomains: ['zeta.example'], profiles: [], scim: { tokenSHA256: [sha256(a)] } },
    ]);
    expect(json).not.toContain(a);
    expect(json).not.toContain(b);
  });

  it('renders the namespace\'s display-name annotation as the organization\'s displayName, trimmed, and none when blank', () => {
    const named = (name: string, displayName: string): NamespaceObject => ({ metadata: { name, annotations: { [ORGANIZATION_DISPLAY_NAME_ANNOTATION]: displayName, other: 'x' }, labels: { a: 'b' } } });
    const ctx = ctxWith([], [], [verifiedDomain('acme', 'acme.example'), verifiedDomain('blank', 'b.example'), verifiedDomain('plain', 'p.example')], [
      named('acme', '  Acme Corporation '),
      named('blank', '   '),
      { metadata: { name: 'plain' } },
      // A named namespace without anything Gatehouse renders stays out of the config.
      named('unrelated', 'Unrelated'),
    ]);
    const doc = spConfig.parse(JSON.parse(renderConfig(ctx).json));
    expect(doc.organizations).toEqual([
      { namespace: 'acme', displayName: 'Acme Corporation', verifiedDomains: ['acme.example'], profiles: [] },
      { namespace: 'blank', verifiedDomains: ['b.example'], profiles: [] },
      { namespace: 'plain', verifiedDomains: ['p.example'], profiles: [] },
    ]);
    expect(displayNameOnly(named('acme', 'Acme'))).toEqual({ metadata: { name: 'acme', annotations: { [ORGANIZATION_DISPLAY_NAME_ANNOTATION]: 'Acme' } } });
  });

  it('gives equal bytes for equal input whatever the cache order', () => {
    const secrets = ['x', 'y'].map((ns) => ({ ...token(ns.repeat(40)), metadata: { name: SCIM_TOKEN_SECRET_NAME, namespace: ns } }));
    const one = renderConfig(ctxWith([scimNs('x'), scimNs('y')], secrets));
    const two = renderConfig(ctxWith([scimNs('y'), scimNs('x')], [...secrets].reverse()));
    expect(two.json).toBe(one.json);
    expect(two.hash).toBe(one.hash);
  });
});
