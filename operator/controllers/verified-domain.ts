// VerifiedDomain: issue a token, look the TXT record up, verify and sign the verification,
// re-verify it periodically (a missing record lapses the domain after a grace period), refuse
// domains another organization verified first. A check that throws is recorded in Ready first.
// The recheck annotation asks for a look-up before the scheduled one (domain-recheck.ts).
import { randomBytes } from 'node:crypto';
import { RECHECK_SPACING_MS, type VerifiedDomain, type VerifiedDomainStatus } from '../../crds/api/index.ts';
import { findCondition, mergeConditions, rfc3339, type DesiredCondition } from '../conditions.ts';
import { isEarlier, isProven, isSignedByOperator, signDomain } from '../domain-proof.ts';
import { applyStatus, stableStringify, type Context, type ReconcileResult } from '../context.ts';
import { queueKey, type KeyOf } from '../queue-key.ts';
import type { Controller } from './controller.ts';
import { recheckPending, recheckSpacingLeftMs, recheckToken } from './domain-recheck.ts';
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

type Verification = NonNullable<VerifiedDomainStatus['verification']>;

type Verdict =
  | { verified: DesiredCondition; lapsing: DesiredCondition; verification: Verification; requeueAfterMs?: number }
  /** Woken by our own status write or another object: not time to ask DNS again yet. */
  | { waitMs: number };

const NOT_LAPSING: DesiredCondition = { type: 'VerificationLapsing', status: 'False', reason: 'NotLapsing', message: 'the TXT record was found at the last check' };
const NOT_VERIFIED: DesiredCondition = { type: 'VerificationLapsing', status: 'False', reason: 'NotVerified', message: 'the domain is not verified' };

/** Whole hours, or seconds under an hour: for messages an admin reads. */
const roughly = (ms: number): string => (ms >= 3_600_000 ? `${Math.ceil(ms / 3_600_000)}h` : `${Math.ceil(ms / 1000)}s`);

/**
 * Tells the admin what ends a conflict without naming the other organization: whoever controls
 * the domain's DNS can withdraw the other organization's record, and its verification lapses.
 */
function conflictMessage(ctx: Context, domain: string, recordName: string, recordValue: string): string {
  // Its lapse time was fixed at its last confirmation, which cannot be later than the removal.
  const within = roughly(ctx.config.domainVerificationGrace);
  return (
    `${domain} is already verified by another organization; the organization that verifies a domain first keeps it. ` +
    `If your organization controls the DNS of ${domain}, remove every TXT record at ${recordName} except '${recordValue}': ` +
    `the other organization's verification then lapses within about ${within} and ${domain} is verified here at once. ` +
    `Otherwise ask the team that runs Gatehouse to remove the other organization's VerifiedDomain.`
  );
}

/** Drops what a verification had once the domain is not verified (the proof with it). */
function withoutProof(v: Verification): Verification {
  const { verifiedTime: _v, confirmedTime: _c, lapseTime: _l, proof: _p, ...rest } = v;
  return rest;
}

/** A look-up the annotation asked for does not push the scheduled ones further out. */
function backoffMs(ctx: Context, uid: string, scheduled: boolean): number {
  const attempts = Math.max(1, (ctx.dnsAttempts.get(uid) ?? 0) + (scheduled ? 1 : 0));
  ctx.dnsAttempts.set(uid, attempts);
  return Math.min(ctx.config.domainRecheckMaxInterval, ctx.config.domainRecheckInterval * 2 ** Math.min(attempts - 1, 20));
}

/**
 * Whatever wakes a reconcile — a spec edit, status rewritten by whoever may write it (an earlier
 * `nextCheckTime`, a forged condition), the recheck annotation — this process looks one domain up
 * at most once per recheck interval (at most 10 s): the pace of DNS queries is the operator's,
 * never a tenant's. Scheduled checks are never held back by it (their backoff starts at that
 * interval).
 */
function lookupFloorLeftMs(ctx: Context, uid: string, now: Date): number {
  const last = ctx.domainLookups.get(uid);
  if (last === undefined) return 0;
  return Math.max(0, last + Math.min(ctx.config.domainRecheckInterval, RECHECK_SPACING_MS) - now.getTime());
}

async function judge(ctx: Context, vd: VerifiedDomain, now: Date): Promise<Verdict> {
  const { namespace } = vd.metadata;
  const uid = vd.metadata.uid ?? `${namespace}/${vd.metadata.name}`;
  const old = vd.status ?? {};
  const domain = vd.spec.domain;
  const key = ctx.domainProofKey;
  const recordName = `${RECORD_PREFIX}.${domain}`;
  const recordValue = old.verification?.recordValue ?? `gatehouse-domain-verification=${randomBytes(24).toString('base64url')}`;
  // Only the operator's own signature says this domain was verified: the condition may be forged.
  const proven = isProven(key, vd, now);
  const lapsed = !proven && isSignedByOperator(key, vd);
  const verification: Verification = { ...old.verification, recordName, recordValue };
  // Written only with a verdict reached now: the request it carries is answered by it.
  const handledRecheck = recheckToken(vd);
  if (handledRecheck === undefined) delete verification.handledRecheck;
  else verification.handledRecheck = handledRecheck;

  const rivals = [...ctx.domains.all()].filter((o) => o.spec.domain === domain && o.metadata.namespace !== namespace && isProven(key, o, now));
  if (rivals.some((r) => !proven || isEarlier(r, vd))) {
    delete verification.nextCheckTime;
    return { verified: { type: 'Verified', status: 'False', reason: 'Conflict', message: conflictMessage(ctx, domain, recordName, recordValue) }, lapsing: NOT_VERIFIED, verification: withoutProof(verification) };
  }
  const current = findCondition(old.conditions, 'Verified');
  let scheduledWaitMs: number | undefined;
  if (proven) {
    const confirmed = Date.parse(verification.confirmedTime as string);
    const lapseAt = Date.parse(verification.lapseTime as string);
    const recheckAt = confirmed + ctx.config.domainReverifyInterval;
    const lapsingNow = findCondition(old.conditions, 'VerificationLapsing')?.status === 'True';
    const next = old.verification?.nextCheckTime ? Date.parse(old.verification.nextCheckTime) : 0;
    const dueAt = lapsingNow ? Math.min(next || now.getTime(), lapseAt) : recheckAt;
    if (dueAt > now.getTime() && current?.status === 'True' && old.observedGeneration === vd.metadata.generation) scheduledWaitMs = Math.min(dueAt - now.getTime(), 2 ** 31 - 1);
  } else {
    const next = old.verification?.nextCheckTime ? Date.parse(old.verification.nextCheckTime) : 0;
    const sameToken = old.verification?.recordValue === recordValue;
    // A Verified=True without a proof is corrected at once, never waited on.
    if (sameToken && current && current.status !== 'True' && current.reason !== 'Conflict' && next > now.getTime() && old.observedGeneration === vd.metadata.generation) scheduledWaitMs = next - now.getTime();
  }
  if (scheduledWaitMs !== undefined) {
    if (!recheckPending(vd)) return { waitMs: scheduledWaitMs };
    const spacingMs = recheckSpacingLeftMs(ctx, uid, vd, now);
    if (spacingMs > 0) return { waitMs: Math.min(scheduledWaitMs, spacingMs) };
  }
  const floorMs = lookupFloorLeftMs(ctx, uid, now);
  if (floorMs > 0) return { waitMs: floorMs };
  ctx.domainLookups.set(uid, now.getTime());
  const result = await checkTxt(ctx, recordName, recordValue);
  verification.lastCheckedTime = rfc3339(now);
  if (result.ok) {
    ctx.dnsAttempts.delete(uid);
    const attestation = {
      verifiedTime: proven ? (verification.verifiedTime as string) : rfc3339(now),
      confirmedTime: rfc3339(now),
      lapseTime: rfc3339(new Date(now.getTime() + ctx.config.domainVerificationGrace)),
    };
    delete verification.nextCheckTime;
    Object.assign(verification, attestation, { proof: signDomain(key, vd, attestation) });
    return {
      verified: { type: 'Verified', status: 'True', reason: 'Verified', message: `TXT record found at ${recordName}` },
      lapsing: NOT_LAPSING,
      verification,
      requeueAfterMs: ctx.config.domainReverifyInterval,
    };
  }
  const retryMs = backoffMs(ctx, uid, scheduledWaitMs === undefined);
  verification.nextCheckTime = rfc3339(new Date(now.getTime() + retryMs));
  if (proven) {
    // Within the grace period: still verified (users keep SSO), but the admin is told.
    const lapseAt = Date.parse(verification.lapseTime as string);
    return {
      verified: { type: 'Verified', status: 'True', reason: 'Verified', message: current?.message ?? `TXT record found at ${recordName}` },
      lapsing: { type: 'VerificationLapsing', status: 'True', reason: result.reason, message: `${result.message}; ${domain} lapses at ${verification.lapseTime} unless the record is published again` },
      verification,
      requeueAfterMs: Math.max(1, Math.min(retryMs, lapseAt - now.getTime())),
    };
  }
  if (lapsed) {
    // The signed times stay: they say when it lapsed, and they no longer count for anything.
    return {
      verified: { type: 'Verified', status: 'False', reason: 'Lapsed', message: `the verification lapsed at ${verification.lapseTime}: ${result.message}; next check at ${verification.nextCheckTime}` },
      lapsing: NOT_VERIFIED,
      verification,
      requeueAfterMs: retryMs,
    };
  }
  return {
    verified: { type: 'Verified', status: 'False', reason: result.reason, message: `${result.message}; next check at ${verification.nextCheckTime}` },
    lapsing: NOT_VERIFIED,
    verification: withoutProof(verification),
    requeueAfterMs: retryMs,
  };
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
  const { verified, lapsing, verification, requeueAfterMs } = verdict;
  const domain = vd.spec.domain;
  const ready: DesiredCondition = { ...verified, type: 'Ready' };
  const status: VerifiedDomainStatus = {
    observedGeneration: vd.metadata.generation,
    conditions: mergeConditions(old.conditions, [verified, ready, lapsing], vd.metadata.generation, now),
    verification,
  };
  if (stableStringify(status) !== stableStringify(old)) {
    await applyStatus(ctx, 'VerifiedDomain', namespace, name, status);
    const before = findCondition(old.conditions, 'Verified');
    if (before?.reason !== verified.reason || before.status !== verified.status) {
      ctx.log.info({ kind: 'VerifiedDomain', namespace, name, domain, reason: verified.reason }, verified.message);
      if (verified.reason === 'Verified') ctx.events.record(vd, 'Normal', 'Verified', `${domain} verified: ${verified.message}`);
      else if (verified.reason === 'Conflict' || verified.reason === 'Lapsed') ctx.events.record(vd, 'Warning', verified.reason, verified.message);
      else ctx.events.record(vd, 'Normal', 'VerificationPending', verified.message);
    }
    if (lapsing.status === 'True' && findCondition(old.conditions, 'VerificationLapsing')?.status !== 'True') {
      ctx.log.warn({ kind: 'VerifiedDomain', namespace, name, domain, reason: lapsing.reason }, lapsing.message);
      ctx.events.record(vd, 'Warning', 'VerificationLapsing', lapsing.message);
    }
  }
  return requeueAfterMs !== undefined ? { requeueAfterMs } : {};
}

export const verifiedDomainController: Controller<'VerifiedDomain'> = {
  kind: 'VerifiedDomain',
  queue: 'control',
  watch(ctx, queue) {
    ctx.domains.on((event, vd, old) => {
      if (event === 'delete' && vd.metadata.uid !== undefined) ctx.domainLookups.delete(vd.metadata.uid);
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
