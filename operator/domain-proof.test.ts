// Domain proofs: only verifications the operator signed, unedited and not lapsed, count for an organization.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { VerifiedDomain } from '../crds/api/index.ts';
import { fakeClient, cacheOf, provenDomain, TEST_PROOF_KEY } from './test-doubles.ts';
import { isProven, loadDomainProofKey, provenDomainOwners } from './domain-proof.ts';
import { verifiedDomainsOf } from './organization.ts';
import { KubeApiError } from '../kube/client.ts';

const NOW = new Date('2026-06-01T00:00:00Z');
const forged = (domain: string, namespace: string): VerifiedDomain => {
  const vd = structuredClone(provenDomain(domain, namespace));
  delete vd.status?.verification?.proof;
  return vd;
};

describe('domain proofs', () => {
  it('a verification the operator signed counts; a Verified condition alone does not', () => {
    expect(isProven(TEST_PROOF_KEY, provenDomain('acme.com', 'acme'), NOW)).toBe(true);
    expect(isProven(TEST_PROOF_KEY, forged('acme.com', 'acme'), NOW)).toBe(false);
    const domains = cacheOf([forged('acme.com', 'acme'), provenDomain('globex.com', 'globex')]);
    expect(verifiedDomainsOf(domains, 'acme', TEST_PROOF_KEY, NOW)).toEqual(new Set());
    expect(verifiedDomainsOf(domains, 'globex', TEST_PROOF_KEY, NOW)).toEqual(new Set(['globex.com']));
  });

  it('a proof made with another key, edited, or copied to another object does not count', () => {
    expect(isProven(Buffer.alloc(32, 8), provenDomain('acme.com', 'acme'), NOW)).toBe(false);
    const later = provenDomain('acme.com', 'acme');
    later.status!.verification!.lapseTime = '2199-01-01T00:00:00Z';
    expect(isProven(TEST_PROOF_KEY, later, NOW)).toBe(false);
    const copied = provenDomain('acme.com', 'mallory');
    copied.status!.verification!.proof = provenDomain('acme.com', 'acme').status!.verification!.proof;
    expect(isProven(TEST_PROOF_KEY, copied, NOW)).toBe(false);
    const recreated = provenDomain('acme.com', 'acme');
    recreated.metadata.uid = 'another-uid';
    expect(isProven(TEST_PROOF_KEY, recreated, NOW)).toBe(false);
  });

  it('a proof is worth nothing after its lapse time', () => {
    expect(isProven(TEST_PROOF_KEY, provenDomain('acme.com', 'acme'), new Date('2099-01-01T00:00:01Z'))).toBe(false);
  });

  it('a domain proven in two namespaces counts only for the one that verified it first', () => {
    const domains = cacheOf([provenDomain('acme.com', 'late', '2026-02-01T00:00:00Z'), provenDomain('acme.com', 'early', '2026-01-15T00:00:00Z')]);
    expect(provenDomainOwners(TEST_PROOF_KEY, domains.all(), NOW).get('acme.com')?.metadata.namespace).toBe('early');
    expect(verifiedDomainsOf(domains, 'late', TEST_PROOF_KEY, NOW)).toEqual(new Set());
    expect(verifiedDomainsOf(domains, 'early', TEST_PROOF_KEY, NOW)).toEqual(new Set(['acme.com']));
  });

  it('the key is read from its Secret, or created there when absent', async () => {
    const stored = Buffer.alloc(32, 3);
    const existing = fakeClient(() => ({ data: { key: stored.toString('base64') } }));
    expect(await loadDomainProofKey(existing.client, 'gatehouse', 'proof', pino({ level: 'silent' }))).toEqual(stored);
    const absent = fakeClient((c) => {
      if (c.method === 'GET') throw new KubeApiError(404, 'NotFound', 'not found', {});
      return {};
    });
    const created = await loadDomainProofKey(absent.client, 'gatehouse', 'proof', pino({ level: 'silent' }));
    expect(created.length).toBe(32);
    expect(absent.calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /api/v1/namespaces/gatehouse/secrets/proof', 'POST /api/v1/namespaces/gatehouse/secrets']);
    expect((absent.calls[1]?.body as { data: { key: string } }).data.key).toBe(created.toString('base64'));
  });
});
