// Ready and Reconciling (kstatus): summarised from the conditions the steps own. Ready is True
// only when everything the profile declares is in effect; a failed step makes it False with
// reason ReconcileError, latched enforcement whose SSO sign-in fails (Degraded) makes it False,
// and an enforcement in progress is Reconciling.
import type { DesiredCondition } from '../../conditions.ts';
import { errorMessage, RECONCILE_ERROR, type ConditionBook, type StepFailure } from '../steps.ts';

/** Positive-polarity conditions that must be True before the profile can be Ready, in the order a reader fixes them. */
const PREREQUISITES = ['IdPConfigValid', 'CertificateValid', 'ClientSecretReady', 'DomainsVerified', 'SPKeyReady'];
/** Enforced=False reasons that do not keep a profile from being Ready. */
const NOT_BLOCKING = ['NotRequested', 'InProgress'];

export function summariseReady(conditions: Pick<ConditionBook, 'get'>, failure?: StepFailure): { ready: DesiredCondition; reconciling?: DesiredCondition } {
  const enforced = conditions.get('Enforced');
  const degraded = conditions.get('Degraded');
  const reconciling: DesiredCondition | undefined = enforced?.reason === 'InProgress' ? { type: 'Reconciling', status: 'True', reason: 'EnforcementInProgress', message: enforced.message } : undefined;
  const notReady = PREREQUISITES.map((t) => conditions.get(t)).find((c) => c && c.status !== 'True');
  let ready: DesiredCondition;
  if (failure) ready = { type: 'Ready', status: 'False', reason: RECONCILE_ERROR, message: `${failure.step} failed: ${errorMessage(failure.error)}` };
  else if (notReady) ready = { type: 'Ready', status: 'False', reason: notReady.reason, message: notReady.message };
  else if (degraded?.status === 'True') ready = { type: 'Ready', status: 'False', reason: 'EnforcementDegraded', message: degraded.message };
  else if (enforced && enforced.status !== 'True' && !NOT_BLOCKING.includes(enforced.reason)) ready = { type: 'Ready', status: 'False', reason: 'EnforcementBlocked', message: enforced.message };
  else if (reconciling) ready = { type: 'Ready', status: 'False', reason: 'EnforcementInProgress', message: reconciling.message };
  else ready = { type: 'Ready', status: 'True', reason: 'Ready', message: 'the profile is valid and in effect' };
  return reconciling ? { ready, reconciling } : { ready };
}
