// The SSOProfile controller: ordered steps (IdP, OIDC client secret, domains, SP key, test, enforcement, config),
// Ready summarised from their conditions, and the status written on the way out whatever
// happened — a step that throws is recorded as a condition, then retried with backoff. The
// enforcement finalizer follows the latch; a profile being deleted lifts enforcement through it.
import type { SSOProfile, SSOProfileStatus } from '../../../crds/api/index.ts';
import { mergeConditions } from '../../conditions.ts';
import { applyStatus, jsonEqual, stableStringify, type Context, type ReconcileResult } from '../../context.ts';
import { isDeleting } from '../../organization.ts';
import { queueKey, type KeyOf } from '../../queue-key.ts';
import { forgetSPKeyEntry } from '../../sp-key-store.ts';
import type { Controller } from '../controller.ts';
import { errorMessage, runSteps, type ChainOutcome, type Step } from '../steps.ts';
import { COUNT_DEBOUNCE_MS, countDebounceMs, FRAGMENT_DEBOUNCE_MS, verificationChanged } from '../watch.ts';
import { domainsStep } from './domains.ts';
import { enforcementStep } from './enforcement.ts';
import { recordTransitions } from './events.ts';
import { finishDeletion, syncEnforcementFinalizer } from './finalizer.ts';
import { idpStep } from './idp.ts';
import { clientSecretStep } from './oidc.ts';
import { summariseReady } from './ready.ts';
import { renderStep } from './render.ts';
import { spKeyStep } from './sp-key.ts';
import { operatorTestFields, startReconcile, type ProfileReconcile } from './state.ts';
import { testedStep } from './tested.ts';

export const PROFILE_STEPS: readonly Step<ProfileReconcile>[] = [idpStep, clientSecretStep, domainsStep, spKeyStep, testedStep, enforcementStep, renderStep];

/** The order conditions appear in status.conditions. */
const CONDITION_ORDER = ['IdPConfigValid', 'CertificateValid', 'ClientSecretReady', 'DomainsVerified', 'SPKeyReady', 'Tested', 'Enforced', 'Degraded', 'Ready', 'Reconciling', 'ConfigRendered'];

export async function reconcileSSOProfile(ctx: Context, key: KeyOf<'SSOProfile'>): Promise<ReconcileResult> {
  const { namespace, name } = key;
  const p = ctx.profiles.get(namespace, name);
  if (!p) {
    const fragKey = `${namespace}/${name}`;
    ctx.metadata.forget(fragKey);
    ctx.oidcProviders.forget(fragKey);
    ctx.oidcSecretsRead.delete(fragKey);
    ctx.metrics.enforcementDegraded.remove({ namespace, profile: name });
    if (ctx.fragments.delete(fragKey)) ctx.queue.addAfter(queueKey.config, FRAGMENT_DEBOUNCE_MS);
    await forgetSPKeyEntry(ctx, namespace, name);
    return {};
  }
  if (isDeleting(p)) return finishDeletion(ctx, p);
  const r = startReconcile(ctx, p);
  const outcome = await runSteps(PROFILE_STEPS, r, r.conditions);
  const latched = r.status.enforcement?.latchedDomains ?? [];
  if (latched.length === 0) r.conditions.delete('Degraded');
  if (!p.spec.oidc) r.conditions.delete('ClientSecretReady');
  const degraded = r.conditions.get('Degraded');
  if (degraded) ctx.metrics.enforcementDegraded.set({ namespace, profile: name }, degraded.status === 'True' ? 1 : 0);
  else ctx.metrics.enforcementDegraded.remove({ namespace, profile: name });
  // The finalizer follows the latch; a failed step leaves both as they were.
  if (!outcome.failure) await syncEnforcementFinalizer(ctx, p, latched);
  try {
    await writeStatus(r, outcome);
  } catch (err) {
    // The step's own error is the one worth retrying on; a failed write after it is only logged.
    if (!outcome.failure) throw err;
    ctx.log.warn({ kind: 'SSOProfile', namespace, name, err: errorMessage(err) }, 'could not record the failed step in status');
  }
  if (outcome.failure) throw outcome.failure.error;
  return outcome.requeueAfterMs !== undefined ? { requeueAfterMs: outcome.requeueAfterMs } : {};
}

/** Writes conditions and the operator's status fields; status.test keeps the sp-server's fields untouched. */
async function writeStatus(r: ProfileReconcile, outcome: ChainOutcome): Promise<void> {
  const { ctx, profile: p, old, now } = r;
  const gen = p.metadata.generation;
  const { ready, reconciling } = summariseReady(r.conditions, outcome.failure);
  r.conditions.set(ready);
  if (reconciling) r.conditions.set(reconciling);
  else r.conditions.delete('Reconciling');
  const status: SSOProfileStatus = {
    ...r.status,
    // A generation counts as observed only once every step ran on it.
    observedGeneration: outcome.failure ? old.observedGeneration : gen,
    conditions: mergeConditions(old.conditions, r.conditions.inOrder(CONDITION_ORDER), gen, now),
  };
  const mine = (s: SSOProfileStatus) => ({ ...s, test: operatorTestFields(s.test), recentFailures: undefined });
  if (stableStringify(mine(status)) === stableStringify(mine(old))) return;
  await applyStatus(ctx, 'SSOProfile', p.metadata.namespace, p.metadata.name, JSON.parse(JSON.stringify(status)));
  const e = status.enforcement;
  ctx.log.debug({ kind: 'SSOProfile', namespace: p.metadata.namespace, name: p.metadata.name, phase: e?.phase, matchedUsers: e?.matchedUsers, enforcedUsers: e?.enforcedUsers }, 'status updated');
  recordTransitions(ctx, p, old, status);
}

/** Same spec, deletion state, finalizers and labels: what changed is status. */
function onlyStatusChanged(p: SSOProfile, old: SSOProfile): boolean {
  const a = p.metadata;
  const b = old.metadata;
  return a.generation === b.generation && a.deletionTimestamp === b.deletionTimestamp && jsonEqual(a.finalizers, b.finalizers) && jsonEqual(a.labels, b.labels);
}

export const ssoProfileController: Controller<'SSOProfile'> = {
  kind: 'SSOProfile',
  queue: 'control',
  watch(ctx, queue) {
    const inNamespace = (ns: string, delayMs = 0, except?: string) => {
      for (const s of ctx.profiles.inNamespace(ns)) if (s.metadata.name !== except) queue.addAfter(queueKey.ssoProfile(ns, s.metadata.name), delayMs);
    };
    ctx.profiles.on((event, p, old) => {
      // A status-only change (the profile's own progress echoed back, a test result) is batched
      // like user changes: reconciling each echo at once recounts every user back to back.
      const ns = p.metadata.namespace;
      queue.addAfter(queueKey.ssoProfile(ns, p.metadata.name), event === 'update' && old && onlyStatusChanged(p, old) ? countDebounceMs(ctx.users.sizeIn(ns)) : 0);
      // Domain claims depend on sibling profiles.
      if (event !== 'resync') inNamespace(ns, COUNT_DEBOUNCE_MS, p.metadata.name);
    });
    // A domain's verification changes which domains the namespace's profiles serve.
    ctx.domains.on((event, vd, old) => {
      if (verificationChanged(event, vd, old)) inNamespace(vd.metadata.namespace);
    });
    // An OIDC client secret created, rotated or removed applies at once.
    ctx.oidcClientSecrets.on((event, secret) => {
      if (event === 'resync') return;
      for (const s of ctx.profiles.inNamespace(secret.metadata.namespace ?? '')) if (s.spec.oidc) queue.add(queueKey.ssoProfile(s.metadata.namespace, s.metadata.name));
    });
    // Enforcement counts: batch many user changes into one profile reconcile.
    ctx.users.on((event, u) => {
      if (event !== 'resync') inNamespace(u.metadata.namespace, countDebounceMs(ctx.users.sizeIn(u.metadata.namespace)));
    });
  },
  *initialKeys(ctx) {
    for (const p of ctx.profiles.all()) yield queueKey.ssoProfile(p.metadata.namespace, p.metadata.name);
  },
  reconcile: reconcileSSOProfile,
};
