// The per-namespace decision inputs: shared by every user until a domain or profile event, or the
// earliest lapse of a proof, can change them.
import { describe, expect, it } from 'vitest';
import type { SSOProfile, VerifiedDomain } from '../crds/api/index.ts';
import type { Informer, InformerHandler, KubeObject } from '../kube/informer.ts';
import { KindCache } from './context.ts';
import { decisionInputs } from './decision-inputs.ts';
import { signDomain } from './domain-proof.ts';
import { TEST_PROOF_KEY } from './test-doubles.ts';

/** A KindCache with a hand-driven informer: `emit` delivers an event as a watch would. */
function drivenCache<T extends KubeObject>(objects: T[]) {
  const handlers: InformerHandler<T>[] = [];
  const cache = new KindCache<T>([{ on: (h: InformerHandler<T>) => handlers.push(h), hasSynced: true } as unknown as Informer<T>]);
  const emit = (event: 'add' | 'update', o: T) => handlers.forEach((h) => h(event, o));
  for (const o of objects) emit('add', o);
  return { cache, emit };
}

function domain(name: string, lapseTime: string): VerifiedDomain {
  const vd = { metadata: { name: name.replaceAll('.', '-'), namespace: 'acme', uid: `uid-${name}` }, spec: { domain: name } } as VerifiedDomain;
  const a = { verifiedTime: '2026-01-01T00:00:00Z', confirmedTime: '2026-01-01T00:00:00Z', lapseTime };
  vd.status = { verification: { ...a, proof: signDomain(TEST_PROOF_KEY, vd, a) } };
  return vd;
}

const profile = (domains: string[]): SSOProfile =>
  ({ metadata: { name: 'okta', namespace: 'acme', generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { idp: {}, domains } }) as unknown as SSOProfile;

describe('decision inputs', () => {
  it('are computed once per namespace and recomputed after a profile or domain event', () => {
    const domains = drivenCache([domain('acme.com', '2099-01-01T00:00:00Z')]);
    const profiles = drivenCache([profile(['acme.com'])]);
    const caches = { domains: domains.cache, profiles: profiles.cache, domainProofKey: TEST_PROOF_KEY };
    const first = decisionInputs(caches, 'acme');
    expect(decisionInputs(caches, 'acme')).toBe(first);
    expect([...(first.views[0]?.servedDomains ?? [])]).toEqual(['acme.com']);

    profiles.emit('update', profile(['acme.com', 'b.com']));
    const second = decisionInputs(caches, 'acme');
    expect(second).not.toBe(first);
    expect([...second.org.verified]).toEqual(['acme.com']);

    domains.emit('add', domain('b.com', '2099-01-01T00:00:00Z'));
    const third = decisionInputs(caches, 'acme');
    expect([...third.org.verified].sort()).toEqual(['acme.com', 'b.com']);
    expect([...(third.views[0]?.servedDomains ?? [])].sort()).toEqual(['acme.com', 'b.com']);
  });

  it('stop counting a domain the moment its proof lapses, without any event', () => {
    const caches = { domains: drivenCache([domain('acme.com', '2026-06-01T00:00:00Z')]).cache, profiles: drivenCache([profile(['acme.com'])]).cache, domainProofKey: TEST_PROOF_KEY };
    expect([...decisionInputs(caches, 'acme', new Date('2026-05-31T23:59:59Z')).org.verified]).toEqual(['acme.com']);
    expect([...decisionInputs(caches, 'acme', new Date('2026-06-01T00:00:00Z')).org.verified]).toEqual([]);
  });
});
