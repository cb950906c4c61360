// ACS validation through the worker pool: validations per second with 1 and 2 worker threads,
// side by side with validation on the event loop (the pool's floor: one core, no messaging), and
// the ratio 2 workers / 1 worker (goal >= 1.7 on 2 cores). Each configuration first validates
// BENCH_WARMUP responses per thread (so every worker's JIT has settled), then BENCH_N responses,
// BENCH_INFLIGHT per thread kept in flight as the ACS would under load, each round timed
// wall-clock; CPU (main thread and workers, one process) is reported per validation too.
//
//   npm run bench:acs-workers   (BENCH_N default 1500, BENCH_WARMUP default 400, BENCH_ROUNDS default 3)
import { availableParallelism, loadavg } from 'node:os';
import { buildResponse, testProfile, type BuiltResponse } from '../test/support/saml-fixtures.ts';
import { memoryReplayCache, validateSamlResponse } from '../sp-server/saml/validate.ts';
import { createValidationPool } from '../sp-server/saml/validation-pool.ts';
import type { Validator } from '../sp-server/context.ts';

const N = Number(process.env.BENCH_N ?? 1500);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 400);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const INFLIGHT = Number(process.env.BENCH_INFLIGHT ?? 8);
const ATTRIBUTES = 5;
const profile = testProfile();

interface Rate {
  perSecond: number;
  cpuMsPerValidation: number;
}

async function responses(count: number): Promise<BuiltResponse[]> {
  const out: BuiltResponse[] = [];
  for (let i = 0; i < count; i++) out.push(await buildResponse({ attributes: ATTRIBUTES, signResponse: true, signAssertion: true, notOnOrAfterSeconds: 3600, subjectNotOnOrAfterSeconds: 3600 }));
  return out;
}

/** Validates `set` with `inflight` validations outstanding at any time; every one must succeed. */
async function drive(validate: Validator, set: BuiltResponse[], inflight: number): Promise<Rate> {
  const replay = memoryReplayCache();
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const lane = async () => {
    while (next < set.length) {
      const r = set[next++] as BuiltResponse;
      await validate(r.base64, { profile, expectedInResponseTo: r.inResponseTo, replay });
    }
  };
  await Promise.all(Array.from({ length: inflight }, lane));
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { perSecond: (set.length * 1000) / wallMs, cpuMsPerValidation: (cpu.user + cpu.system) / 1000 / set.length };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function measure(name: string, threads: number, warm: BuiltResponse[], set: BuiltResponse[]): Promise<number> {
  const pool = threads > 0 ? createValidationPool({ threads }) : undefined;
  const validate = pool?.validate ?? validateSamlResponse;
  const inflight = Math.max(1, threads) * INFLIGHT;
  try {
    await drive(validate, warm.slice(0, WARMUP * Math.max(1, threads)), inflight);
    const rounds: Rate[] = [];
    for (let i = 0; i < ROUNDS; i++) rounds.push(await drive(validate, set, inflight));
    const rate = median(rounds.map((r) => r.perSecond));
    const cpu = median(rounds.map((r) => r.cpuMsPerValidation));
    console.log(`  ${name.padEnd(28)} ${rate.toFixed(0).padStart(6)}/s   rounds ${rounds.map((r) => r.perSecond.toFixed(0)).join(', ')}   CPU ${(cpu * 1000).toFixed(0)} µs per validation (all threads)`);
    return rate;
  } finally {
    await pool?.close();
  }
}

console.log(`ACS validation through the worker pool — node ${process.version}, ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at start`);
console.log(`${ATTRIBUTES} attribute values, response and assertion signed (rsa-sha256, RSA-2048); ${N} validations per round, median of ${ROUNDS} rounds (wall-clock); warm-up ${WARMUP} validations per thread; ${INFLIGHT} in flight per thread\n`);
const warm = await responses(WARMUP * 2);
const set = await responses(N);
const inThread = await measure('on the event loop (floor)', 0, warm, set);
const one = await measure('pool, 1 worker', 1, warm, set);
const two = await measure('pool, 2 workers', 2, warm, set);
console.log(`\n  1 worker / event loop: ${(one / inThread).toFixed(2)}x (the cost of messaging a worker)`);
console.log(`  2 workers / 1 worker:  ${(two / one).toFixed(2)}x (goal >= 1.7x on 2 cores: ${two / one >= 1.7 ? 'met' : 'NOT met'})`);
console.log(`  load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end: on a shared machine the other processes take cores from the 2-worker run first`);
