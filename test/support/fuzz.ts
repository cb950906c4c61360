// Shared settings for the property-based fuzz tests (*.fuzz.test.ts): one fixed seed so a failure
// reproduces, FUZZ_SEED / FUZZ_RUNS to explore further by hand, and a per-input work bound.
import fc from 'fast-check';

/** The seed every fuzz property starts from; fast-check prints it (and the path) on failure. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261130);
/** FUZZ_RUNS=10 runs every property ten times longer (by hand, never in CI). */
const RUN_FACTOR = Number(process.env.FUZZ_RUNS ?? 1);

/**
 * A loose bound on the time one input may take. It is a work bound (no input may cost seconds, as
 * the quadratic canonicalization once did), not a speed claim, so it leaves room for a loaded machine.
 */
export const WORK_BOUND_MS = 250;

export function fuzzParams<T>(numRuns: number): fc.Parameters<T> {
  return { seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(numRuns * RUN_FACTOR)) };
}

/** Runs `work`, returning what it settled with and how long it took. */
export async function timed<T>(work: () => Promise<T> | T): Promise<{ ok: true; value: T; ms: number } | { ok: false; error: unknown; ms: number }> {
  const t0 = performance.now();
  try {
    const value = await work();
    return { ok: true, value, ms: performance.now() - t0 };
  } catch (error) {
    return { ok: false, error, ms: performance.now() - t0 };
  }
}

/** Fails the property when one input took longer than the work bound. */
export function assertWithinWorkBound(ms: number, what: string): void {
  if (ms > WORK_BOUND_MS) throw new Error(`${what} took ${ms.toFixed(0)} ms, over the ${WORK_BOUND_MS} ms work bound per input`);
}
