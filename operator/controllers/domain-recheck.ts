// The recheck annotation of a VerifiedDomain: a value no look-up has answered yet asks for one
// now, spaced per domain so that flipping the annotation cannot make the operator hammer DNS.
import { createHash } from 'node:crypto';
import { RECHECK_ANNOTATION, RECHECK_SPACING_MS, type VerifiedDomain } from '../../crds/api/index.ts';
import type { Context } from '../context.ts';

/** Longer annotation values are kept in status as a digest, so status stays small. */
const MAX_KEPT_LENGTH = 64;

/** What status keeps of the annotation: short values as they are (a reader can compare them), long ones as a digest. */
export function recheckToken(vd: VerifiedDomain): string | undefined {
  const value = vd.metadata.annotations?.[RECHECK_ANNOTATION];
  if (value === undefined || value.length <= MAX_KEPT_LENGTH) return value;
  return `sha256:${createHash('sha256').update(value).digest('hex')}`;
}

/** Whether the annotation carries a value the last look-up did not answer. */
export function recheckPending(vd: VerifiedDomain): boolean {
  const token = recheckToken(vd);
  return token !== undefined && token !== vd.status?.verification?.handledRecheck;
}

/**
 * How long a requested look-up still waits. The spacing runs from the later of the last look-up
 * this process made (status may be rewritten by whoever may write it) and the one status records
 * (it survives restarts and leader changes); a recorded time in the future counts as now.
 */
export function recheckSpacingLeftMs(ctx: Pick<Context, 'domainLookups'>, uid: string, vd: VerifiedDomain, now: Date): number {
  const inMemory = ctx.domainLookups.get(uid) ?? 0;
  const inStatus = Math.min(Date.parse(vd.status?.verification?.lastCheckedTime ?? '') || 0, now.getTime());
  return Math.max(0, Math.max(inMemory, inStatus) + RECHECK_SPACING_MS - now.getTime());
}
