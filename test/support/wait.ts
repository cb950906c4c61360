// The one polling helper of the tests: retry a probe until it yields a value or a deadline
// passes, and say what was being waited for (and the last state seen) when it does not.

/** Thrown by a probe when waiting longer cannot help (a child process died): waitFor stops at once. */
export class GiveUp extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GiveUp';
  }
}

/**
 * Polls `probe` until it returns a value that is not undefined/false, or throws with the last
 * error and `describe`'s account of the state. A probe may also throw (an assertion, a refused
 * request): that counts as not yet, unless it throws GiveUp.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, describe?: () => Promise<string> | string, intervalMs = 150): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const detail = [lastErr === undefined ? '' : String(lastErr), describe ? await describe() : ''].filter(Boolean).join('\n');
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `: ${detail}` : ''}`, { cause: lastErr });
}
