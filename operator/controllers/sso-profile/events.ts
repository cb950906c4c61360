// Kubernetes Events and log lines for an SSOProfile's state changes: IdP validity, certificate
// warnings, an OIDC client secret that cannot be read (never its value), test results, every
// enforcement phase change, degradation and lift (never one per user).
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
  if (idp && idp.status !== 'Unknown') ctx.events.record(p, idp.reason === 'Valid' ? 'Normal' : 'Warning', idp.reason === 'Valid' ? 'IdPConfigValid' : idp.reason, idp.message);
  const cert = changed('CertificateValid');
  if (cert && cert.reason !== 'Valid' && cert.reason !== 'SigningKeysAvailable' && cert.status !== 'Unknown') ctx.events.record(p, 'Warning', cert.reason === 'ExpiringSoon' ? 'CertificateExpiringSoon' : `Certificate${cert.reason}`, cert.message);
  const secret = changed('ClientSecretReady');
  if (secret?.status === 'False') ctx.events.record(p, 'Warning', secret.reason, secret.message);
  else if (secret && findCondition(old.conditions, 'ClientSecretReady')?.status === 'False') ctx.events.record(p, 'Normal', 'ClientSecretReady', secret.message);
  const tested = changed('Tested');
  if (tested && ['Succeeded', 'TestFailed', 'LatestAttemptFailed'].includes(tested.reason)) ctx.events.record(p, tested.reason === 'Succeeded' ? 'Normal' : 'Warning', tested.reason === 'Succeeded' ? 'TestSucceeded' : 'TestFailed', tested.message);
  const degraded = changed('Degraded');
  if (degraded?.status === 'True') ctx.events.record(p, 'Warning', 'EnforcementDegraded', `${degraded.reason}: ${degraded.message}`);
  else if (degraded && findCondition(old.conditions, 'Degraded')?.status === 'True') ctx.events.record(p, 'Normal', 'EnforcementRecovered', degraded.message);
  const a = old.enforcement;
  const b = now.enforcement;
  const lifted = (a?.latchedDomains ?? []).filter((d) => !(b?.latchedDomains ?? []).includes(d));
  if (lifted.length > 0) ctx.events.record(p, 'Normal', 'EnforcementLifted', `SSO enforcement lifted on ${lifted.join(', ')}: removed from spec.enforcement.domains`);
  if (b && (a?.phase !== b.phase || a?.reason !== b.reason)) {
    if (b.phase === 'Blocked') ctx.events.record(p, 'Warning', 'EnforcementBlocked', `${b.reason}: ${b.message ?? ''}`);
    else if (b.phase === 'InProgress') ctx.events.record(p, 'Normal', 'EnforcementStarted', `enforcing SSO on ${(b.domains ?? []).join(', ')}`);
    else if (b.phase === 'Enforced') ctx.events.record(p, 'Normal', 'EnforcementCompleted', b.message ?? '');
    else if (a) ctx.events.record(p, 'Normal', 'EnforcementRemoved', 'no domains to enforce');
  }
}
