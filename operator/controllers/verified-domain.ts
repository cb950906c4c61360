// VerifiedDomain: issue a token, look the TXT record up, verify, refuse domains another
// organization verified first. A check that throws is recorded in Ready before it is retried.
import { randomBytes } from 'node:crypto';
import type { VerifiedDomain, VerifiedDomainStatus } from '../../crds/api/index.ts';
import { findCondition, isTrue, mergeConditions, rfc3339, type DesiredCondition } from '../conditions.ts';
import { timestamp } from '../decisions.ts';
import { applyStatus, stableStringify, type Context, type ReconcileResult } from '../context.ts';
import { queueKey, type KeyOf } from '../queue-key.ts';
import type { Controller } from './controller.ts';
import { errorMessage, RECONCILE_ERROR } from './steps.ts';
import { verificationChanged } from './watch.ts';

export const RECORD_PREFIX = '_gatehouse-challenge';

type Check = { ok: true } | { ok: false; reason: 'RecordNotFound' | 'RecordMismatch' | 'LookupFailed'; message: string };

async function checkTxt(ctx: Context, recordName: string, expected: string): Promise<Check> {
  try {
    const records = (await ctx.resolver.resolveTxt(recordName)).map((chunks) => chunks.join(''));
    if (records.includes(expected)) return { ok: true };
    if (records.length === 0) return { ok: false, reason: 'RecordNotFound', message: `TXT record not found at ${recordName}` };
    const shown = records.slice(0, 3).map((r) => `'${r.slice(0, 120)}'`).join(', ');
    return { ok: false, reason: 'RecordMismatch', message: `found ${shown} at ${recordName}, expected '${expected}'` };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return { ok: false, reason: 'RecordNotFound', message: `TXT record not found at ${recordName}` };
    return { ok: false, reason: 'LookupFailed', message: `DNS lookup of ${recordName} failed: ${code ?? (err as Error).message}` };
  }
}

/** Whether `a` keeps a domain that `b` (another namespace) also verified: first verified wins. */
function winsOver(a: VerifiedDomain, b: VerifiedDomain): boolean {
  const ka = [a.status?.verification?.verifiedTime ?? '~', timestamp(a.metadata.creationTimestamp) || '~', a.metadata.namespace];
  const kb = [b.status?.verification?.verifiedTime ?? '~', timestamp(b.metadata.creationTimestamp) || '~', b.metadata.namespace];
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return (ka[i] as string) < (kb[i] as string);
  return true;
}

type Verdict =
  | { verified: DesiredCondition; verification: NonNullable<VerifiedDomainStatus['verification']>; requeueAfterMs?: number }
  /** Woken by our own status write or another object: not time to ask DNS again yet. */
  | { waitMs: number };

async function judge(ctx: Context, vd: VerifiedDomain, now: Date): Promise<Verdict> {
  const { namespace } = vd.metadata;
  const uid = vd.metadata.uid ?? `${namespace}/${vd.metadata.name}`;
  const old = vd.status ?? {};
  const domain = vd.spec.domain;
  const recordName = `${RECORD_PREFIX}.${domain}`;
  const recordValue = old.verification?.recordValue ?? `gatehouse-domain-verification=${randomBytes(24).toString('base64url')}`;
  const wasVerified = isTrue(old.conditions, 'Verified');
  const verification: NonNullable<VerifiedDomainStatus['verification']> = { ...old.verification, recordName, recordValue };

  const rivals = [...ctx.domains.all()].filter((o) => o.spec.domain === domain && o.metadata.namespace !== namespace && isTrue(o.status?.conditions, 'Verified'));
  if (rivals.some((r) => !wasVerified || winsOver(r, vd))) {
    delete verification.verifiedTime;
    delete verification.nextCheckTime;
    return { verified: { type: 'Verified', status: 'False', reason: 'Conflict', message: `${domain} is already verified by another organization; it cannot be verified here` }, verification };
  }
  if (wasVerified && findCondition(old.conditions, 'Verified')?.reason === 'Verified') {
    // Verified stays verified: users must not lose SSO because a TXT record was cleaned up.
    delete verification.nextCheckTime;
    return { verified: { type: 'Verified', status: 'True', reason: 'Verified', message: findCondition(old.conditions, 'Verified')?.message ?? `TXT record found at ${recordName}` }, verification };
  }
  const next = old.verification?.nextCheckTime ? Date.parse(old.verification.nextCheckTime) : 0;
  const current = findCondition(old.conditions, 'Verified');
  const sameToken = old.verification?.recordValue === recordValue;
  if (sameToken && current && current.reason !== 'Conflict' && next > now.getTime() && old.observedGeneration === vd.metadata.generation) return { waitMs: next - now.getTime() };
  const result = await checkTxt(ctx, recordName, recordValue);
  verification.lastCheckedTime = rfc3339(now);
  if (result.ok) {
    ctx.dnsAttempts.delete(uid);
    verification.verifiedTime = rfc3339(now);
    delete verification.nextCheckTime;
    return { verified: { type: 'Verified', status: 'True', reason: 'Verified', message: `TXT record found at ${recordName}` }, verification };
  }
  const attempts = (ctx.dnsAttempts.get(uid) ?? 0) + 1;
  ctx.dnsAttempts.set(uid, attempts);
  const requeueAfterMs = Math.min(ctx.config.domainRecheckMaxInterval, ctx.config.domainRecheckInterval * 2 ** Math.min(attempts - 1, 20));
  verification.nextCheckTime = rfc3339(new Date(now.getTime() + requeueAfterMs));
  delete verification.verifiedTime;
  return { verified: { type: 'Verified', status: 'False', reason: result.reason, message: `${result.message}; next check at ${verification.nextCheckTime}` }, verification, requeueAfterMs };
}

export async function reconcileVerifiedDomain(ctx: Context, key: KeyOf<'VerifiedDomain'>): Promise<ReconcileResult> {
  const { namespace, name } = key;
  const vd = ctx.domains.get(namespace, name);
  if (!vd) return {};
  const now = new Date();
  const old = vd.status ?? {};
  let verdict: Verdict;
  try {
    verdict = await judge(ctx, vd, now);
  } catch (err) {
    // Deferred status: the failure is recorded in Ready (Verified keeps its last value), then retried.
    const ready: DesiredCondition = { type: 'Ready', status: 'False', reason: RECONCILE_ERROR, message: `verification failed: ${errorMessage(err)}` };
    const verified = findCondition(old.conditions, 'Verified');
    const status: VerifiedDomainStatus = { ...old, conditions: mergeConditions(old.conditions, verified ? [verified, ready] : [ready], vd.metadata.generation, now) };
    if (stableStringify(status) !== stableStringify(old)) await applyStatus(ctx, 'VerifiedDomain', namespace, name, status).catch((e: unknown) => ctx.log.warn({ kind: 'VerifiedDomain', namespace, name, err: errorMessage(e) }, 'could not record the failure in status'));
    throw err;
  }
  if ('waitMs' in verdict) return { requeueAfterMs: verdict.waitMs };
  const { verified, verification, requeueAfterMs } = verdict;
  const domain = vd.spec.domain;
  const ready: DesiredCondition = { ...verified, type: 'Ready' };
  const status: VerifiedDomainStatus = {
    observedGeneration: vd.metadata.generation,
    conditions: mergeConditions(old.conditions, [verified, ready], vd.metadata.generation, now),
    verification,
  };
  if (stableStringify(status) !== stableStringify(old)) {
    await applyStatus(ctx, 'VerifiedDomain', namespace, name, status);
    const before = findCondition(old.conditions, 'Verified');
    if (before?.reason !== verified.reason) {
      ctx.log.info({ kind: 'VerifiedDomain', namespace, name, domain, reason: verified.reason }, verified.message);
      if (verified.reason === 'Verified') ctx.events.record(vd, 'Normal', 'Verified', `${domain} verified: ${verified.message}`);
      else if (verified.reason === 'Conflict') ctx.events.record(vd, 'Warning', 'Conflict', verified.message);
      else ctx.events.record(vd, 'Normal', 'VerificationPending', verified.message);
    }
  }
  return requeueAfterMs !== undefined ? { requeueAfterMs } : {};
}

export const verifiedDomainController: Controller<'VerifiedDomain'> = {
  kind: 'VerifiedDomain',
  queue: 'control',
  watch(ctx, queue) {
    ctx.domains.on((event, vd, old) => {
      queue.add(queueKey.verifiedDomain(vd.metadata.namespace, vd.metadata.name));
      if (!verificationChanged(event, vd, old)) return;
      // First verified wins: a change here may settle a rival's conflict in another namespace.
      for (const other of ctx.domains.all()) {
        if (other.spec.domain === vd.spec.domain && other.metadata.namespace !== vd.metadata.namespace) queue.add(queueKey.verifiedDomain(other.metadata.namespace, other.metadata.name));
      }
    });
  },
  *initialKeys(ctx) {
    for (const d of ctx.domains.all()) yield queueKey.verifiedDomain(d.metadata.namespace, d.metadata.name);
  },
  reconcile: reconcileVerifiedDomain,
};
