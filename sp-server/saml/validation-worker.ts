// The worker-thread side of the validation pool: every CPU-bound check of one SAML response, with
// input and answer as structured-clonable data (an error travels as its stable code and hint).
import { SamlValidationError, type SamlErrorCode } from './errors.ts';
import { validateDocumentOnly, type DocumentContext, type ValidatedAssertion } from './validate.ts';

export interface ValidationTask {
  samlResponseBase64: string;
  ctx: DocumentContext;
}

/** A refusal's cause travels as text, for the debug log only (a uniform code hides it from the sender). */
export type ValidationOutcome = { ok: true; assertion: ValidatedAssertion } | { ok: false; code: SamlErrorCode; hint: string; cause?: string };

export default async function validateInWorker(task: ValidationTask): Promise<ValidationOutcome> {
  try {
    return { ok: true, assertion: await validateDocumentOnly(task.samlResponseBase64, task.ctx) };
  } catch (err) {
    // validateDocumentOnly turns everything into a SamlValidationError; anything else is a bug and fails the task.
    if (err instanceof SamlValidationError) return { ok: false, code: err.code, hint: err.hint, ...(err.cause === undefined ? {} : { cause: String(err.cause) }) };
    throw err;
  }
}
