// The worker-thread side of the validation pool: every CPU-bound check of one SAML response, with
// input and answer as structured-clonable data (an error travels as its stable code and hint).
// Each worker keeps the profiles it was sent by the pool's key for them, so a task carries the
// profile (its keys, certificates, settings) only until this thread has it.
import { threadId } from 'node:worker_threads';
import type { RenderedSAMLProfile } from '../../crds/api/index.ts';
import { SamlValidationError, type SamlErrorCode } from './errors.ts';
import { validateDocumentOnly, type DocumentContext, type ValidatedAssertion } from './validate.ts';

export interface ValidationTask {
  samlResponseBase64: string;
  ctx: Omit<DocumentContext, 'profile'>;
  /** Names one profile object of the main thread: a changed profile is a new object with a new key. */
  profileKey: number;
  /** The profile itself, when the pool does not know this thread to hold it under profileKey. */
  profile?: RenderedSAMLProfile;
}

/**
 * A refusal's cause travels as text, for the debug log only (a uniform code hides it from the sender).
 * `missingProfile`: the task came without its profile and this thread has none under its key; nothing was checked.
 */
export type ValidationOutcome =
  | { ok: true; assertion: ValidatedAssertion; thread: number }
  | { ok: false; code: SamlErrorCode; hint: string; cause?: string; thread: number }
  | { ok: false; missingProfile: true; thread: number };

/** Profiles a worker keeps; past it the oldest goes (a task naming it is sent again with the profile). */
export const PROFILES_PER_WORKER = 1024;

const profiles = new Map<number, RenderedSAMLProfile>();

function profileFor(task: ValidationTask): RenderedSAMLProfile | undefined {
  if (task.profile === undefined) return profiles.get(task.profileKey);
  if (!profiles.has(task.profileKey)) {
    if (profiles.size >= PROFILES_PER_WORKER) profiles.delete(profiles.keys().next().value as number);
    profiles.set(task.profileKey, task.profile);
  }
  return task.profile;
}

export default async function validateInWorker(task: ValidationTask): Promise<ValidationOutcome> {
  const profile = profileFor(task);
  if (profile === undefined) return { ok: false, missingProfile: true, thread: threadId };
  try {
    return { ok: true, assertion: await validateDocumentOnly(task.samlResponseBase64, { ...task.ctx, profile }), thread: threadId };
  } catch (err) {
    // validateDocumentOnly turns everything into a SamlValidationError; anything else is a bug and fails the task.
    if (err instanceof SamlValidationError) return { ok: false, code: err.code, hint: err.hint, thread: threadId, ...(err.cause === undefined ? {} : { cause: String(err.cause) }) };
    throw err;
  }
}
