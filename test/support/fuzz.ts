// Shared settings for the property-based fuzz tests (*.fuzz.test.ts): one fixed seed so a failure
// reproduces, FUZZ_SEED / FUZZ_RUNS to explore further by hand, and a per-input work bound.
import fc from 'fast-check';

/** The seed every fuzz property starts from; fast-check prints it (and the path) on failure. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261130);
/** FUZZ_RUNS=10 runs every property ten times longer (by hand, never in CI). */
const RUN_FACTOR = Number(process.env.FUZZ_RUNS ?? 1);

/**
 * A loose bound on the CPU time one input may take. It is a work bound (no input may cost seconds,
 * as the quadratic canonicalization once did), not a speed claim. It counts this process's CPU
 * time, not wall time: on a machine shared with other test runs the wall clock measures the
 * neighbours.
 */
export const WORK_BOUND_MS = 250;

/** The vitest timeout of one fuzz property: its runs together, in wall time on a shared machine. */
export const FUZZ_TEST_TIMEOUT_MS = 120_000;

export function fuzzParams<T>(numRuns: number): fc.Parameters<T> {
  return { seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(numRuns * RUN_FACTOR)) };
}

type Outcome<T> = { ok: true; value: T; ms: number } | { ok: false; error: unknown; ms: number };

const cpuMsSince = (start: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

async function timed<T>(work: () => Promise<T> | T): Promise<Outcome<T>> {
  const start = process.cpuUsage();
  try {
    const value = await work();
    return { ok: true, value, ms: cpuMsSince(start) };
  } catch (error) {
    return { ok: false, error, ms: cpuMsSince(start) };
  }
}

/**
 * Runs `work` on one input and returns how it settled, failing when it took longer than the work
 * bound twice in a row: a garbage collection or a cold code path slows one run, work that grows
 * with the input slows both.
 */
export async function withinWorkBound<T>(work: () => Promise<T> | T, what: string): Promise<Outcome<T>> {
  const first = await timed(work);
  if (first.ms <= WORK_BOUND_MS) return first;
  const again = await timed(work);
  if (again.ms > WORK_BOUND_MS) throw new Error(`${what} took ${first.ms.toFixed(0)} ms and ${again.ms.toFixed(0)} ms of CPU, over the ${WORK_BOUND_MS} ms work bound per input`);
  return again;
}
