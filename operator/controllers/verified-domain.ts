// VerifiedDomain: issue a token, look the TXT record up, verify, refuse domains another
// organization verified first.
import { randomBytes } from 'node:crypto';
import type { VerifiedDomain, VerifiedDomainStatus } from '../../crds/api/index.ts';
import { findCondition, isTrue, mergeConditions, rfc3339, type DesiredCondition } from '../conditions.ts';
import { timestamp } from '../decisions.ts';
import { applyStatus, stableStringify, type Context, type ReconcileResult } from '../context.ts';

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

export async function reconcileVerifiedDomain(ctx: Context, namespace: string, name: string): Promise<ReconcileResult> {
  const vd = ctx.domains.get(namespace, name);
  if (!vd) return {};
  const uid = vd.metadata.uid ?? `${namespace}/${name}`;
  const now = new Date();
  const old = vd.status ?? {};
  const domain = vd.spec.domain;
  const recordName = `${RECORD_PREFIX}.${domain}`;
  const recordValue = old.verification?.recordValue ?? `gatehouse-domain-verification=${randomBytes(24).toString('base64url')}`;
  const wasVerified = isTrue(old.conditions, 'Verified');
  const verification: NonNullable<VerifiedDomainStatus['verification']> = { ...old.verification, recordName, recordValue };
  let verified: DesiredCondition;
  let requeueAfterMs: number | undefined;

  const rivals = [...ctx.domains.all()].filter((o) => o.spec.domain === domain && o.metadata.namespace !== namespace && isTrue(o.status?.conditions, 'Verified'));
  const winner = rivals.find((r) => !wasVerified || winsOver(r, vd));
  if (winner) {
    verified = { type: 'Verified', status: 'False', reason: 'Conflict', message: `${domain} is already verified by another organization; it cannot be verified here` };
    delete verification.verifiedTime;
    delete verification.nextCheckTime;
  } else if (wasVerified && findCondition(old.conditions, 'Verified')?.reason === 'Verified') {
    // Verified stays verified: users must not lose SSO because a TXT record was cleaned up.
    verified = { type: 'Verified', status: 'True', reason: 'Verified', message: findCondition(old.conditions, 'Verified')?.message ?? `TXT record found at ${recordName}` };
    delete verification.nextCheckTime;
  } else {
    const next = old.verification?.nextCheckTime ? Date.parse(old.verification.nextCheckTime) : 0;
    const current = findCondition(old.conditions, 'Verified');
    const sameToken = old.verification?.recordValue === recordValue;
    if (sameToken && current && current.reason !== 'Conflict' && next > now.getTime() && old.observedGeneration === vd.metadata.generation) {
      // Woken by our own status write or another object: not time to ask DNS again yet.
      return { requeueAfterMs: next - now.getTime() };
    }
    const result = await checkTxt(ctx, recordName, recordValue);
    verification.lastCheckedTime = rfc3339(now);
    if (result.ok) {
      ctx.dnsAttempts.delete(uid);
      verified = { type: 'Verified', status: 'True', reason: 'Verified', message: `TXT record found at ${recordName}` };
      verification.verifiedTime = rfc3339(now);
      delete verification.nextCheckTime;
    } else {
      const attempts = (ctx.dnsAttempts.get(uid) ?? 0) + 1;
      ctx.dnsAttempts.set(uid, attempts);
      requeueAfterMs = Math.min(ctx.config.domainRecheckMaxInterval, ctx.config.domainRecheckInterval * 2 ** Math.min(attempts - 1, 20));
      verification.nextCheckTime = rfc3339(new Date(now.getTime() + requeueAfterMs));
      delete verification.verifiedTime;
      verified = { type: 'Verified', status: 'False', reason: result.reason, message: `${result.message}; next check at ${verification.nextCheckTime}` };
    }
  }
  if (winner) requeueAfterMs = undefined;

  const ready: DesiredCondition = { ...verified, type: 'Ready' };
  const status: VerifiedDomainStatus = {
    observedGeneration: vd.metadata.generation,
    conditions: mergeConditions(old.conditions, [verified, ready], vd.metadata.generation, now),
    verification,
  };
  if (stableStringify(status) !== stableStringify(old)) {
    await applyStatus(ctx, 'VerifiedDomain', namespace, name, status);
    const before = findCondition(old.conditions, 'Verified');
    if (before?.reason !== verified.reason) ctx.log.info({ kind: 'VerifiedDomain', namespace, name, domain, reason: verified.reason }, verified.message);
    if (before?.reason !== verified.reason) {
      if (verified.reason === 'Verified') ctx.events.record(vd, 'Normal', 'Verified', `${domain} verified: ${verified.message}`);
      else if (verified.reason === 'Conflict') ctx.events.record(vd, 'Warning', 'Conflict', verified.message);
      else ctx.events.record(vd, 'Normal', 'VerificationPending', verified.message);
    }
  }
  return requeueAfterMs !== undefined ? { requeueAfterMs } : {};
}
