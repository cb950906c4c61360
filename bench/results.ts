// What a benchmark leaves behind for bench/README.md: its headline figures with the floor or peer
// measured in the same run, the ratio and the goal, plus the machine and load they came from, as
// bench/results/<bench>.json. `npm run bench:report` turns every such file into the README's table.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { z } from 'zod';

export const RESULTS_DIR = new URL('./results/', import.meta.url);

/** The benchmark runs that write results, in the order the README lists them. */
export const BENCH_ORDER = ['acs', 'acs-peers', 'acs-workers', 'login', 'login-es256', 'enforcement', 'enforcement-100k', 'enforcement-100k-rate', 'kube-client', 'scim', 'hostile', 'config-reload'] as const;
export type BenchName = (typeof BENCH_ORDER)[number];

export const benchFigureSchema = z.object({
  /** The path measured, as the README's table names it. */
  path: z.string(),
  /** The headline figure with its unit, e.g. "1,876 validations/s of CPU". */
  figure: z.string(),
  /** The floor or peer from the same run, e.g. "2 × RSA-2048 verify: 12,522/s". */
  floor: z.string(),
  /** The figure against the floor or peer, e.g. "6.67× the floor's cost". */
  ratio: z.string(),
  goal: z.string(),
  /** null where the path has no goal. */
  met: z.boolean().nullable(),
});
export type BenchFigure = z.infer<typeof benchFigureSchema>;

export const benchResultSchema = z.object({
  bench: z.string(),
  command: z.string(),
  measuredAt: z.string(),
  machine: z.object({ node: z.string(), cores: z.number(), cpu: z.string(), loadAtStart: z.number(), loadAtEnd: z.number() }),
  /** Warm-up and counts, as the benchmark states them. */
  settings: z.string(),
  figures: z.array(benchFigureSchema),
});
export type BenchResult = z.infer<typeof benchResultSchema>;

const load1 = (): number => Number((loadavg()[0] as number).toFixed(2));

/**
 * Call at the benchmark's start: the load average then is part of the result. The command is
 * rebuilt from the npm script, the arguments and whichever of `envNames` are set.
 */
export function startResults(bench: BenchName, script: string, envNames: readonly string[] = []): { save(settings: string, figures: BenchFigure[]): string } {
  const loadAtStart = load1();
  const env = envNames.filter((n) => process.env[n] !== undefined).map((n) => `${n}=${process.env[n]} `).join('');
  const args = process.argv.slice(2);
  const command = `${env}hack/env.sh npm run ${script}${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
  return {
    save(settings, figures) {
      const result: BenchResult = {
        bench,
        command,
        measuredAt: new Date().toISOString(),
        machine: { node: process.version, cores: availableParallelism(), cpu: cpus()[0]?.model.trim() ?? 'unknown', loadAtStart, loadAtEnd: load1() },
        settings,
        figures: figures.map((f) => benchFigureSchema.parse(f)),
      };
      mkdirSync(RESULTS_DIR, { recursive: true });
      const file = new URL(`${bench}.json`, RESULTS_DIR);
      writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
      return file.pathname;
    },
  };
}

export function readResult(file: URL): BenchResult {
  return benchResultSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/** The middle value (the upper one of an even count): rounds are medians so that a preempted round does not move the figure. */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
}

/** Figures as the README prints them: thousands separated, a fixed number of decimals. */
export function fmt(n: number, decimals = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}
