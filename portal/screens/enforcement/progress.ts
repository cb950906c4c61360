// status.enforcement of a profile as the live progress region reads it: the phase in words, the
// bar's value, and whether the operator has finished with the latest spec (done stops polling).
import type { SSOProfile } from '../../../crds/api/index.ts';
import { BLOCKED_REASON_WORDS } from './forecast.ts';

export interface EnforcementProgress {
  phase: string;
  text: string;
  reason?: string | undefined;
  message: string;
  matchedUsers: number;
  enforcedUsers: number;
  progress: { value: number; max: number };
  done: boolean;
}

export function progressOf(p: SSOProfile): EnforcementProgress {
  const e = p.status?.enforcement;
  // A status older than the spec describes the previous request: wait for the operator.
  const current = (p.status?.observedGeneration ?? -1) >= (p.metadata.generation ?? 0);
  const matched = e?.matchedUsers ?? 0;
  const enforced = e?.enforcedUsers ?? 0;
  const base = { reason: e?.reason, matchedUsers: matched, enforcedUsers: enforced, message: e?.message ?? '' };
  if (!e && current) return { ...base, phase: 'NotRequested', text: 'Not enforced', progress: { value: 0, max: 1 }, done: true };
  if (!e || !current) return { ...base, phase: e?.phase ?? 'Pending', text: 'Waiting for the operator', message: '', progress: { value: 0, max: 1 }, done: false };
  switch (e.phase) {
    case 'Enforced':
      return { ...base, phase: e.phase, text: 'Enforced', progress: { value: Math.max(enforced, 1), max: Math.max(enforced, 1) }, done: true };
    case 'InProgress':
      return { ...base, phase: e.phase, text: `In progress: ${enforced} of ${matched} users enforced`, progress: { value: enforced, max: Math.max(matched, 1) }, done: false };
    case 'Blocked':
      return { ...base, phase: e.phase, text: `Blocked: ${BLOCKED_REASON_WORDS[e.reason ?? ''] ?? e.reason ?? 'a prerequisite is missing'}`, progress: { value: 0, max: 1 }, done: true };
    default:
      return { ...base, phase: e.phase, text: 'Not enforced', progress: { value: 0, max: 1 }, done: true };
  }
}
