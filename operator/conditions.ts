// metav1.Condition bookkeeping: lastTransitionTime moves only when status changes, every
// condition carries the generation it was computed from.
import type { Condition } from '../crds/api/index.ts';

export type ConditionStatus = Condition['status'];

export interface DesiredCondition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

const REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

/**
 * Merges desired conditions into the existing list. Conditions of other types that are not in
 * `desired` are dropped: the operator owns the whole list it applies.
 */
export function mergeConditions(existing: readonly Condition[] | undefined, desired: readonly DesiredCondition[], generation: number | undefined, now: Date = new Date()): Condition[] {
  const byType = new Map((existing ?? []).map((c) => [c.type, c]));
  return desired.map((d) => {
    if (!REASON.test(d.reason)) throw new Error(`condition reason ${JSON.stringify(d.reason)} is not a valid metav1.Condition reason`);
    const old = byType.get(d.type);
    const lastTransitionTime = old && old.status === d.status ? old.lastTransitionTime : rfc3339(now);
    const c: Condition = { type: d.type, status: d.status, reason: d.reason, message: d.message.slice(0, 32768), lastTransitionTime };
    if (generation !== undefined) c.observedGeneration = generation;
    return c;
  });
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/** RFC 3339 with second precision, the form the API server stores for metav1.Time. */
export function rfc3339(d: Date): string {
  // Every reconcile of a burst formats the same second: format it once.
  const second = Math.floor(d.getTime() / 1000);
  if (second !== lastSecond || lastFormatted === '') {
    lastFormatted = d.toISOString().replace(/\.\d{3}Z$/, 'Z');
    lastSecond = second;
  }
  return lastFormatted;
}
let lastSecond = NaN;
let lastFormatted = '';
