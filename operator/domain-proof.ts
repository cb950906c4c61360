// The operator's signature on a domain verification: VerifiedDomain status is writable by anyone
// who may write status in the organization's namespace, so only a verification carrying an HMAC
// made with a key that never leaves the operator's namespace counts, and only until it lapses.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { VerifiedDomain } from '../crds/api/index.ts';
import { isConflict, isNotFound, resourcePath, type KubeClient } from '../kube/client.ts';
import { RESOURCES } from '../kube/resources.ts';
import { timestamp } from './decisions.ts';

const PROOF_PREFIX = 'v1.';
const KEY_FIELD = 'key';
const KEY_BYTES = 32;

/** The signed facts of one verification; `lapseTime` bounds how long the proof is worth anything. */
export interface DomainAttestation {
  verifiedTime: string;
  confirmedTime: string;
  lapseTime: string;
}

const payload = (vd: VerifiedDomain, a: DomainAttestation) =>
  // uid binds the proof to this object: a copy in a re-created or another VerifiedDomain fails.
  ['gatehouse-domain-proof', 'v1', vd.metadata.uid ?? '', vd.metadata.namespace, vd.metadata.name, vd.spec.domain, a.verifiedTime, a.confirmedTime, a.lapseTime].join('\n');

export function signDomain(key: Buffer, vd: VerifiedDomain, a: DomainAttestation): string {
  return PROOF_PREFIX + createHmac('sha256', key).update(payload(vd, a)).digest('base64url');
}

/** Cache objects are replaced, never mutated, on change: a verdict per object and key holds. */
const verdicts = new WeakMap<VerifiedDomain, { key: Buffer; signed: boolean }>();

/** The proof in status is the operator's own signature over what status says (expired or not). */
export function isSignedByOperator(key: Buffer, vd: VerifiedDomain): boolean {
  const known = verdicts.get(vd);
  if (known?.key === key) return known.signed;
  const signed = checkSignature(key, vd);
  verdicts.set(vd, { key, signed });
  return signed;
}

function checkSignature(key: Buffer, vd: VerifiedDomain): boolean {
  const v = vd.status?.verification;
  if (!v?.proof || !v.verifiedTime || !v.confirmedTime || !v.lapseTime || !vd.metadata.uid) return false;
  const want = Buffer.from(signDomain(key, vd, { verifiedTime: v.verifiedTime, confirmedTime: v.confirmedTime, lapseTime: v.lapseTime }));
  const got = Buffer.from(v.proof);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Verified by the operator and not lapsed at `now`: the only test of a domain that anything trusts. */
export function isProven(key: Buffer, vd: VerifiedDomain, now: Date): boolean {
  return isSignedByOperator(key, vd) && Date.parse(vd.status?.verification?.lapseTime ?? '') > now.getTime();
}

/** The order in which organizations got a domain: the earliest proven verification keeps it. */
export function verificationOrder(vd: VerifiedDomain): string[] {
  return [vd.status?.verification?.verifiedTime ?? '~', timestamp(vd.metadata.creationTimestamp) || '~', vd.metadata.namespace];
}

export function isEarlier(a: VerifiedDomain, b: VerifiedDomain): boolean {
  const [ka, kb] = [verificationOrder(a), verificationOrder(b)];
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return (ka[i] as string) < (kb[i] as string);
  return true;
}

/**
 * Each domain with a proven verification, owned by the namespace that proved it first. A domain
 * proven in two namespaces (a rival's proof not yet withdrawn) goes to one only.
 */
export function provenDomainOwners(key: Buffer, all: Iterable<VerifiedDomain>, now: Date = new Date()): Map<string, VerifiedDomain> {
  const owners = new Map<string, VerifiedDomain>();
  for (const vd of all) {
    if (!isProven(key, vd, now)) continue;
    const held = owners.get(vd.spec.domain);
    if (!held || !isEarlier(held, vd)) owners.set(vd.spec.domain, vd);
  }
  return owners;
}

const keySecret = z.object({ data: z.record(z.string(), z.string()).optional() });

/**
 * The signing key, from the Secret `name` in the operator's namespace; created with a random key
 * on first start. Retries until the API server answers: without the key nothing can be trusted.
 */
export async function loadDomainProofKey(client: KubeClient, namespace: string, name: string, log: Logger, retryMs = 2000): Promise<Buffer> {
  const path = resourcePath(RESOURCES.Secret, namespace, name);
  for (;;) {
    try {
      const existing = keySecret.parse(await client.call('GET', path).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err))) ?? {});
      const stored = existing.data?.[KEY_FIELD];
      if (stored) {
        const key = Buffer.from(stored, 'base64');
        if (key.length < KEY_BYTES) throw new Error(`Secret ${namespace}/${name} key ${KEY_FIELD} is shorter than ${KEY_BYTES} bytes`);
        return key;
      }
      if (existing.data) throw new Error(`Secret ${namespace}/${name} has no ${KEY_FIELD}`);
      const key = randomBytes(KEY_BYTES);
      const body = { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'gatehouse-operator' } }, data: { [KEY_FIELD]: key.toString('base64') } };
      try {
        await client.call('POST', resourcePath(RESOURCES.Secret, namespace), { body });
        log.info({ namespace, name }, 'created the domain verification signing key');
        return key;
      } catch (err) {
        // Another replica created it first: read theirs.
        if (!isConflict(err)) throw err;
      }
    } catch (err) {
      log.warn({ namespace, name, err: err instanceof Error ? err.message : String(err), retryInMs: retryMs }, 'could not load the domain verification signing key');
      await new Promise((r) => setTimeout(r, retryMs));
    }
  }
}
