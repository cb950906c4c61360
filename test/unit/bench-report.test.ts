// The benchmarks' results table: bench/README.md says what bench/results/*.json hold, and the
// table is built from the files alone.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadResults, renderTable, withTable } from '../../bench/report.ts';
import type { BenchResult } from '../../bench/results.ts';

const readme = readFileSync(new URL('../../bench/README.md', import.meta.url), 'utf8');

function result(bench: string, met: boolean | null): BenchResult {
  return {
    bench,
    command: `hack/env.sh npm run bench:${bench}`,
    measuredAt: '2026-12-01T03:00:00.000Z',
    machine: { node: 'v24.21.0', cores: 2, cpu: 'Test CPU', loadAtStart: 0.4, loadAtEnd: 1.2 },
    settings: 'warm-up 1000',
    figures: [{ path: `${bench} | path`, figure: '1,000/s', floor: 'floor 2,000/s', ratio: '0.50×', goal: '≥ 0.8×', met }],
  };
}

describe('bench results table', () => {
  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('bench/README.md shows exactly what bench/results/*.json hold', () => {
    expect(withTable(readme, renderTable(loadResults()))).toBe(readme);
  });

  it('lists results in the README order, each row pointing at its run, with met / not met', () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-results-'));
    writeFileSync(join(dir, 'scim.json'), JSON.stringify(result('scim', true)));
    writeFileSync(join(dir, 'acs.json'), JSON.stringify(result('acs', false)));
    writeFileSync(join(dir, 'notes.txt'), 'not a result');
    const loaded = loadResults(pathToFileURL(`${dir}/`));
    expect(loaded.map((r) => r.bench)).toEqual(['acs', 'scim']);
    const table = renderTable(loaded);
    expect(table).toContain('| acs \\| path | 1,000/s | floor 2,000/s | 0.50× | ≥ 0.8× | not met | [1] |');
    expect(table).toContain('| scim \\| path | 1,000/s | floor 2,000/s | 0.50× | ≥ 0.8× | **met** | [2] |');
    expect(table).toContain('[2] `hack/env.sh npm run bench:scim` — 2026-12-01 03:00 UTC, 2 cores (Test CPU), Node 24.21.0, load average 0.4 at start → 1.2 at end; warm-up 1000');
  });

  it('refuses a results file that lacks the floor or the ratio', () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-results-'));
    const bad = result('acs', true) as { figures: Array<Partial<BenchResult['figures'][number]>> };
    delete bad.figures[0]?.floor;
    writeFileSync(join(dir, 'acs.json'), JSON.stringify(bad));
    expect(() => loadResults(pathToFileURL(`${dir}/`))).toThrow(/floor/);
  });

  it('replaces only the block between the markers', () => {
    const table = renderTable([result('login', null)]);
    const next = withTable(readme, table);
    expect(next).toContain(table);
    expect(next.slice(0, next.indexOf('<!-- results:begin'))).toBe(readme.slice(0, readme.indexOf('<!-- results:begin')));
    expect(next.slice(next.indexOf('<!-- results:end -->'))).toBe(readme.slice(readme.indexOf('<!-- results:end -->')));
    expect(() => withTable('# no block', table)).toThrow(/no results block/);
  });
});
