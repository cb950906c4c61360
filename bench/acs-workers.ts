// ACS validation through the worker pool: validations per second with 1 and 2 worker threads,
// side by side with the process confined to one core (`taskset` on every thread of this process),
// validating on the event loop (no messaging) and through a 1-worker pool (what the default pool
// is on a 1-core machine). The goal's ratio: 2 workers on 2 cores / the better of the two on one
// core, the process's single-core throughput (>= 1.7). Next to them, the ceiling of any pool: two
// free-running validation loops on two threads, each validating half the round with no message
// per validation (bench/acs-loop-worker.ts) — what this machine's two cores give this workload at
// all. Each configuration first validates BENCH_WARMUP responses per thread (so every worker's
// JIT has settled), then BENCH_N responses, BENCH_INFLIGHT per thread kept in flight as the ACS
// would under load, each round timed wall-clock; CPU (main thread and workers, one process) is
// reported per validation too, next to the floor under any validation: node:crypto's two
// RSA-2048 verifies (bench/rsa-floor.ts), so the ceiling of N workers is N cores at that rate.
//
//   npm run bench:acs-workers   (BENCH_N default 5000, BENCH_WARMUP default 1000, BENCH_ROUNDS default 5; a
// round of 1,000 took 0.1–0.2 s once validation cost ~150 µs, and its rate moved by half between rounds)
import { execFileSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { buildResponse, testIdpKeys, testProfile, type BuiltResponse } from '../test/support/saml-fixtures.ts';
import { memoryReplayCache, validateSamlResponse } from '../sp-server/saml/validate.ts';
import { createValidationPool } from '../sp-server/saml/validation-pool.ts';
import type { Validator } from '../sp-server/context.ts';
import { fmt, median, startResults } from './results.ts';
import { describeRsaFloor, measureRsaFloor } from './rsa-floor.ts';
import type { LoopOrder, LoopWorkerData } from './acs-loop-worker.ts';

const results = startResults('acs-workers', 'bench:acs-workers', ['BENCH_N', 'BENCH_WARMUP', 'BENCH_ROUNDS', 'BENCH_INFLIGHT']);
const N = Number(process.env.BENCH_N ?? 5000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const INFLIGHT = Number(process.env.BENCH_INFLIGHT ?? 8);
const ATTRIBUTES = 5;
const profile = testProfile();

interface Rate {
  perSecond: number;
  cpuMsPerValidation: number;
  /** The event loop's share: the pool's hand-off (or, without a pool, the whole validation). */
  mainThreadMsPerValidation: number;
}

/** CPU of the calling thread alone, in ms. */
const threadCpuMs = (): number => {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
};

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
  const main0 = threadCpuMs();
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
  return { perSecond: (set.length * 1000) / wallMs, cpuMsPerValidation: (cpu.user + cpu.system) / 1000 / set.length, mainThreadMsPerValidation: (threadCpuMs() - main0) / set.length };
}


type SetName = 'warm' | 'main';

interface Contender {
  name: string;
  threads: number;
  /** Confined to the first core (every thread of the process) while it runs. */
  oneCore: boolean;
  /** One round over `set` (named as the loop workers know it). */
  drive(name: SetName, set: BuiltResponse[]): Promise<Rate>;
  rounds: Rate[];
  close(): Promise<void>;
}

function contender(name: string, threads: number, oneCore = false): Contender {
  const pool = threads > 0 ? createValidationPool({ threads }) : undefined;
  const validate = pool?.validate ?? validateSamlResponse;
  return { name, threads, oneCore, drive: (_name, set) => drive(validate, set, Math.max(1, threads) * INFLIGHT), rounds: [], close: async () => pool?.close() };
}

/** `threads` free-running validation loops, each validating its share of a round on a thread of its own. */
function loops(name: string, threads: number, sets: Record<SetName, BuiltResponse[]>): Contender {
  const plain = (set: BuiltResponse[]) => set.map((r) => ({ base64: r.base64, inResponseTo: r.inResponseTo }));
  const workerData: LoopWorkerData = { profile, sets: { warm: plain(sets.warm), main: plain(sets.main) } };
  const workers = Array.from({ length: threads }, () => new Worker(new URL('./acs-loop-worker.ts', import.meta.url), { workerData }));
  const share = (w: Worker, order: LoopOrder) =>
    new Promise<number>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
      w.postMessage(order);
    });
  return {
    name,
    threads,
    oneCore: false,
    async drive(set, responses) {
      const count = responses.length;
      const cpu0 = process.cpuUsage();
      const main0 = threadCpuMs();
      const t0 = performance.now();
      const done = await Promise.all(workers.map((w, k) => share(w, { set, from: Math.floor((k * count) / threads), to: Math.floor(((k + 1) * count) / threads) })));
      const wallMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      if (done.reduce((a, b) => a + b, 0) !== count) throw new Error(`the loops validated ${done.join(' + ')} of ${count} responses`);
      return { perSecond: (count * 1000) / wallMs, cpuMsPerValidation: (cpu.user + cpu.system) / 1000 / count, mainThreadMsPerValidation: (threadCpuMs() - main0) / count };
    },
    rounds: [],
    close: async () => void (await Promise.all(workers.map((w) => w.terminate()))),
  };
}

const CORES = availableParallelism();
/** Sets the CPU affinity of every thread of this process (workers, V8's helpers): the first core, or all. */
function confine(oneCore: boolean): void {
  execFileSync('taskset', ['--all-tasks', '--pid', '--cpu-list', oneCore ? '0' : `0-${CORES - 1}`, String(process.pid)], { stdio: 'ignore' });
}

/** One round of `c`, confined to the first core for its duration when it is a single-core contender. */
async function driveOn(c: Contender, name: SetName, set: BuiltResponse[]): Promise<Rate> {
  if (!c.oneCore) return c.drive(name, set);
  confine(true);
  try {
    return await c.drive(name, set);
  } finally {
    confine(false);
  }
}

console.log(`ACS validation through the worker pool — node ${process.version}, ${CORES} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at start`);
console.log(`${ATTRIBUTES} attribute values, response and assertion signed (rsa-sha256, RSA-2048); ${N} validations per round; ${ROUNDS} rounds, the contenders taking turns each round so that they share the machine's load alike; warm-up ${WARMUP} validations per thread first; ${INFLIGHT} in flight per thread\n`);
const floor = measureRsaFloor(testIdpKeys());
console.log(`  floor: ${describeRsaFloor(floor)}`);
const warm = await responses(WARMUP * 2);
const set = await responses(N);
const contenders = [
  contender('event loop (no pool), 1 core', 0, true),
  contender('pool, 1 worker, 1 core', 1, true),
  contender('pool, 1 worker', 1),
  contender('pool, 2 workers', 2),
  loops('2 loops, no pool (ceiling)', 2, { warm, main: set }),
];
try {
  for (const c of contenders) await driveOn(c, 'warm', warm.slice(0, WARMUP * Math.max(1, c.threads)));
  for (let i = 0; i < ROUNDS; i++) for (const c of contenders) c.rounds.push(await driveOn(c, 'main', set));
} finally {
  for (const c of contenders) await c.close();
}
const rates = contenders.map((c) => {
  const perSecond = c.rounds.map((r) => r.perSecond);
  const result = { median: median(perSecond), best: Math.max(...perSecond), cpu: median(c.rounds.map((r) => r.cpuMsPerValidation)), main: median(c.rounds.map((r) => r.mainThreadMsPerValidation)) };
  console.log(`  ${c.name.padEnd(28)} median ${result.median.toFixed(0).padStart(5)}/s, best ${result.best.toFixed(0).padStart(5)}/s   rounds ${perSecond.map((x) => x.toFixed(0)).join(', ')}   CPU ${(result.cpu * 1000).toFixed(0)} µs per validation (all threads; ${(result.main * 1000).toFixed(0)} on the event loop)`);
  return result;
});
type R = (typeof rates)[number];
const [inThread, oneOnOneCore, one, two, ceiling] = rates as [R, R, R, R, R];
const singleCore = Math.max(inThread.median, oneOnOneCore.median);
const met = two.median / singleCore >= 1.7;
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
console.log(`\n  1 worker / event loop on 1 core: ${ratio(one.median, inThread.median)} median, ${ratio(one.best, inThread.best)} best`);
console.log(`  2 workers / 1 worker:  ${ratio(two.median, one.median)} median, ${ratio(two.best, one.best)} best`);
console.log(`  2 workers on ${CORES} cores / 1 core (the better of event loop and 1-worker pool there): ${ratio(two.median, singleCore)} median (goal >= 1.7x: ${met ? 'met' : 'NOT met'})`);
console.log(`  2 free loops on ${CORES} cores / 1 core: ${ratio(ceiling.median, singleCore)} median — the most 2 cores give this workload here; 2 workers reach ${ratio(two.median, ceiling.median)} of it (the pool's hand-off)`);
console.log(`  the pool's cost: 2 workers spend ${fmt(two.cpu * 1000)} µs of CPU per validation against ${fmt(inThread.cpu * 1000)} on the event loop alone (+${fmt((two.cpu - inThread.cpu) * 1000)}); the event loop's part of each hand-off ${fmt(two.main * 1000)} µs`);
console.log(`  event loop / floor:     ${(inThread.cpu * 1000).toFixed(0)} µs of CPU per validation = ${ratio(inThread.cpu * 1000, floor.microsPerLogin)} the floor's ${floor.microsPerLogin.toFixed(0)} µs (two RSA verifies); 2 workers reach ${((100 * two.median) / (2 * floor.loginsPerCpuSecond)).toFixed(1)}% of 2 cores at the floor rate`);
console.log(`  load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end: on a shared machine other processes take cores from the 2-worker rounds first`);
console.log(`  results: ${results.save(`${ATTRIBUTES} attribute values; ${fmt(N)} validations per round, ${ROUNDS} rounds with the five taking turns, medians; warm-up ${WARMUP} validations per thread; ${INFLIGHT} in flight per thread`, [
  {
    path: `ACS validation through the worker pool, 2 workers on ${CORES} cores`,
    figure: `${fmt(two.median)} validations/s with 2 workers (${fmt(two.cpu * 1000)} µs of CPU each, ${fmt(two.main * 1000)} of them on the event loop)`,
    floor: `the process on 1 core: on the event loop ${fmt(inThread.median)}/s (${fmt(inThread.cpu * 1000)} µs of CPU each = ${ratio(inThread.cpu * 1000, floor.microsPerLogin)} the two RSA verifies), through a 1-worker pool ${fmt(oneOnOneCore.median)}/s; a 1-worker pool on 2 cores: ${fmt(one.median)}/s; the ceiling, 2 free-running validation loops without a pool: ${fmt(ceiling.median)}/s = ${ratio(ceiling.median, singleCore)} single-core`,
    ratio: `${ratio(two.median, singleCore)} the better single-core figure (${ratio(two.median, one.median)} 1 worker on 2 cores; ${ratio(two.median, ceiling.median)} the ceiling)`,
    goal: '≥ 1.7× single-core',
    met,
  },
])}`);
