// Kubernetes Events and log lines for an SSOProfile's state changes: IdP validity, certificate
// warnings, test results and every enforcement phase change (never one per user).
import type { SSOProfile, SSOProfileStatus } from '../../../crds/api/index.ts';
import { findCondition } from '../../conditions.ts';
import type { Context } from '../../context.ts';

export function recordTransitions(ctx: Pick<Context, 'log' | 'events'>, p: SSOProfile, old: SSOProfileStatus, now: SSOProfileStatus): void {
  const ready = findCondition(now.conditions, 'Ready');
  const wasReady = findCondition(old.conditions, 'Ready');
  if (ready && (ready.status !== wasReady?.status || ready.reason !== wasReady?.reason)) {
    ctx.log.info({ kind: 'SSOProfile', namespace: p.metadata.namespace, name: p.metadata.name, ready: ready.status, reason: ready.reason, phase: now.enforcement?.phase }, ready.message);
  }
  const changed = (type: string) => {
    const a = findCondition(old.conditions, type);
    const b = findCondition(now.conditions, type);
    return b && (a?.status !== b.status || a?.reason !== b.reason) ? b : undefined;
  };
  const idp = changed('IdPConfigValid');
  if (idp && idp.status !== 'Unknown') ctx.events.record(p, idp.status === 'True' ? 'Normal' : 'Warning', idp.status === 'True' ? 'IdPConfigValid' : idp.reason, idp.message);
  const cert = changed('CertificateValid');
  if (cert && cert.reason !== 'Valid' && cert.status !== 'Unknown') ctx.events.record(p, 'Warning', cert.reason === 'ExpiringSoon' ? 'CertificateExpiringSoon' : `Certificate${cert.reason}`, cert.message);
  const tested = changed('Tested');
  if (tested && (tested.reason === 'Succeeded' || tested.reason === 'TestFailed')) ctx.events.record(p, tested.status === 'True' ? 'Normal' : 'Warning', tested.reason === 'Succeeded' ? 'TestSucceeded' : 'TestFailed', tested.message);
  const a = old.enforcement;
  const b = now.enforcement;
  if (b && (a?.phase !== b.phase || a?.reason !== b.reason)) {
    if (b.phase === 'Blocked') ctx.events.record(p, 'Warning', 'EnforcementBlocked', `${b.reason}: ${b.message ?? ''}`);
    else if (b.phase === 'InProgress') ctx.events.record(p, 'Normal', 'EnforcementStarted', `enforcing SSO on ${(b.domains ?? []).join(', ')}`);
    else if (b.phase === 'Enforced') ctx.events.record(p, 'Normal', 'EnforcementCompleted', b.message ?? '');
    else if (a) ctx.events.record(p, 'Normal', 'EnforcementRemoved', 'no domains to enforce');
  }
}
