// Runs every benchmark one after another (each starts what it needs and stops it), then rewrites
// the results table of bench/README.md from what they wrote. Run on a machine with nothing else
// busy: `hack/env.sh npm run bench:all [-- --only acs,login]`. About 20 minutes with the defaults on an
// idle machine; enforcement over 100,000 users (about 40 minutes more) runs only when named in --only.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { BENCH_ORDER, type BenchName } from './results.ts';

/** The npm script and arguments of each run. */
const RUNS: Record<BenchName, { script: string; args: string[]; env?: Record<string, string>; onlyWhenNamed?: true }> = {
  acs: { script: 'bench:acs', args: [], env: { BENCH_PEERS: 'none' } },
  'acs-peers': { script: 'bench:acs', args: [] },
  'acs-workers': { script: 'bench:acs-workers', args: [] },
  login: { script: 'bench:login', args: [] },
  'login-es256': { script: 'bench:login', args: ['--id-token-alg', 'ES256'] },
  enforcement: { script: 'bench:enforcement', args: ['--users', '10000', '--floor-concurrency', '16'] },
  'enforcement-100k': { script: 'bench:enforcement', args: ['--users', '100000', '--memory-only'] },
  'enforcement-100k-rate': { script: 'bench:enforcement', args: ['--users', '100000', '--floor-concurrency', '16'], onlyWhenNamed: true },
  'kube-client': { script: 'bench:kube-client', args: [] },
  scim: { script: 'bench:scim', args: [] },
  hostile: { script: 'bench:hostile', args: ['--limited'] },
  'config-reload': { script: 'bench:config-reload', args: [] },
};
const BENCHES: readonly string[] = BENCH_ORDER;

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const only = values.only?.split(',').map((s) => s.trim());
const unknown = only?.filter((b) => !BENCHES.includes(b)) ?? [];
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHES.join(', ')}`);
  process.exit(2);
}
const failed: string[] = [];
for (const bench of BENCH_ORDER.filter((b) => (only === undefined ? !RUNS[b].onlyWhenNamed : only.includes(b)))) {
  const { script, args, env = {} } = RUNS[bench];
  const envText = Object.entries(env).map(([k, v]) => `${k}=${v} `).join('');
  console.log(`\n=== ${envText}npm run ${script}${args.length > 0 ? ` -- ${args.join(' ')}` : ''} ===`);
  const run = spawnSync('npm', ['run', script, ...(args.length > 0 ? ['--', ...args] : [])], { stdio: 'inherit', env: { ...process.env, ...env } });
  if (run.status !== 0) failed.push(bench);
}
spawnSync(process.execPath, [new URL('./report.ts', import.meta.url).pathname], { stdio: 'inherit' });
if (failed.length > 0) {
  console.error(`failed: ${failed.join(', ')}`);
  process.exit(1);
}
