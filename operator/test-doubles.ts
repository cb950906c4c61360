// Test doubles for the reconcilers' unit tests: caches fed by hand, a fake API client that
// records what would go over the wire, and a queue that records what was enqueued.
import type { VerifiedDomain } from '../crds/api/index.ts';
import type { KubeClient } from '../kube/client.ts';
import type { Informer, InformerHandler, KubeObject } from '../kube/informer.ts';
import { KindCache, type Enqueuer } from './context.ts';
import { signDomain } from './domain-proof.ts';
import { encodeKey } from './queue-key.ts';

/** A KindCache fed by hand: one stand-in informer whose handlers receive 'add' events. */
export function cacheOf<T extends KubeObject>(objects: readonly T[]): KindCache<T> {
  const handlers: InformerHandler<T>[] = [];
  const fake = { on: (h: InformerHandler<T>) => handlers.push(h), hasSynced: true } as unknown as Informer<T>;
  const c = new KindCache<T>([fake]);
  for (const o of objects) for (const h of handlers) h('add', o);
  return c;
}

export interface ApiCall {
  method: string;
  path: string;
  body?: unknown;
}

/** A KubeClient whose every request goes to `answer` (throw to fail it); `calls` keeps them in order. */
export function fakeClient(answer: (call: ApiCall) => unknown = () => ({})): { client: KubeClient; calls: ApiCall[] } {
  const calls: ApiCall[] = [];
  const call = async (method: string, path: string, o: { body?: unknown } = {}) => {
    // The client sends a string body as it is (status writes arrive serialised): tests read the JSON.
    const c = { method, path, body: typeof o.body === 'string' ? (JSON.parse(o.body) as unknown) : o.body };
    calls.push(c);
    return answer(c);
  };
  const apply = async (path: string, body: unknown, _fieldManager: string, options: { subresource?: string } = {}) => call('PATCH', options.subresource ? `${path}/${options.subresource}` : path, { body });
  return { client: { call, apply } as unknown as KubeClient, calls };
}

/** An Enqueuer that records the encoded keys it was given. */
export function recordingQueue(): Enqueuer & { keys: string[] } {
  const keys: string[] = [];
  return { keys, add: (k) => keys.push(encodeKey(k)), addAfter: (k) => keys.push(encodeKey(k)) };
}

/** The domain-proof key of the unit tests' contexts. */
export const TEST_PROOF_KEY = Buffer.alloc(32, 7);

/** A VerifiedDomain the operator (holding TEST_PROOF_KEY) verified, valid for a year from 2026-01-01. */
export function provenDomain(domain: string, namespace: string, verifiedTime = '2026-01-01T00:00:00Z'): VerifiedDomain {
  const vd = {
    metadata: { name: domain.replaceAll('.', '-'), namespace, uid: `uid-${namespace}-${domain}` },
    spec: { domain },
    status: { conditions: [{ type: 'Verified', status: 'True', reason: 'Verified', message: '', lastTransitionTime: verifiedTime }] },
  } as VerifiedDomain;
  const attestation = { verifiedTime, confirmedTime: verifiedTime, lapseTime: '2099-01-01T00:00:00Z' };
  vd.status = { ...vd.status, verification: { ...attestation, proof: signDomain(TEST_PROOF_KEY, vd, attestation) } };
  return vd;
}
