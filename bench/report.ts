// Rewrites the results table at the top of bench/README.md from bench/results/*.json, the files
// the benchmarks write, so the table says what the last runs printed and nothing else.
//
//   node bench/report.ts           rewrite the table
//   node bench/report.ts --check   exit 1 when the table differs from the results (a unit test runs this)
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { BENCH_ORDER, RESULTS_DIR, readResult, type BenchResult } from './results.ts';

const README = new URL('./README.md', import.meta.url);
const BEGIN = '<!-- results:begin (written by `npm run bench:report` from bench/results/*.json; do not edit) -->';
const END = '<!-- results:end -->';

export function loadResults(dir: URL = RESULTS_DIR): BenchResult[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const order: readonly string[] = BENCH_ORDER;
  const rank = (bench: string): number => (order.includes(bench) ? order.indexOf(bench) : order.length);
  return names.map((n) => readResult(new URL(n, dir))).sort((a, b) => rank(a.bench) - rank(b.bench) || a.bench.localeCompare(b.bench));
}

const cell = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
const met = (m: boolean | null): string => (m === null ? '—' : m ? '**met**' : 'not met');

export function renderTable(results: readonly BenchResult[]): string {
  const lines = [
    BEGIN,
    '| path | figure | floor / peer, same run | ratio | goal | met | run |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  const runs: string[] = [];
  results.forEach((r, i) => {
    const ref = `[${i + 1}]`;
    for (const f of r.figures) lines.push(`| ${cell(f.path)} | ${cell(f.figure)} | ${cell(f.floor)} | ${cell(f.ratio)} | ${cell(f.goal)} | ${met(f.met)} | ${ref} |`);
    const m = r.machine;
    runs.push(`${ref} \`${r.command}\` — ${r.measuredAt.slice(0, 16).replace('T', ' ')} UTC, ${m.cores} cores (${m.cpu}), Node ${m.node.replace(/^v/, '')}, load average ${m.loadAtStart} at start → ${m.loadAtEnd} at end; ${r.settings}`);
  });
  if (results.length === 0) lines.push('| (no results yet: run `npm run bench:all`) | | | | | | |');
  return [...lines, '', ...runs.map((r) => `${r}  `), END].join('\n');
}

export function withTable(readme: string, table: string): string {
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`bench/README.md has no results block (${BEGIN} … ${END})`);
  return readme.slice(0, begin) + table + readme.slice(end + END.length);
}

if (import.meta.main) {
  const readme = readFileSync(README, 'utf8');
  const next = withTable(readme, renderTable(loadResults()));
  if (process.argv.includes('--check')) {
    if (next !== readme) {
      console.error('bench/README.md: the results table differs from bench/results/*.json; run `npm run bench:report`');
      process.exit(1);
    }
  } else {
    writeFileSync(README, next);
    console.log('bench/README.md: results table rewritten');
  }
}
