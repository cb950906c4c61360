// operator/main.ts replaces itself once with --optimize-for-size (V8 refuses it in NODE_OPTIONS).
// These tests start it as its container does, loading its modules only, and read from inside the
// final process which V8 flags it runs with: exactly one re-exec, and none when the operator is
// told otherwise.
import { describe, expect, it } from 'vitest';
import { loadEntryPoint } from '../support/entry-point.ts';

/** Preloaded (--import, carried into the re-exec): prints the process's V8 flags and young-generation capacity at exit. */
const REPORTER = `data:text/javascript,import v8 from 'node:v8';process.on('exit',()=>process.stderr.write('flags='+JSON.stringify(process.execArgv.filter((a)=>!a.startsWith('--import')&&!a.startsWith('data:')))+' new-space-mib='+v8.getHeapSpaceStatistics().find((s)=>s.space_name==='new_space').space_size/1048576+'\\n'))`;

interface Started {
  flags: string[];
  newSpaceMiB: number;
}

function start(env: Record<string, string> = {}): Started {
  const stderr = loadEntryPoint('operator/main.ts', REPORTER, env);
  const reports = [...stderr.matchAll(/^flags=(\[.*\]) new-space-mib=([\d.]+)$/gm)];
  expect(reports, stderr).toHaveLength(1);
  const [, flags, mib] = reports[0] as RegExpExecArray;
  return { flags: JSON.parse(flags as string) as string[], newSpaceMiB: Number(mib) };
}

describe('the operator process', () => {
  it('re-executes itself once with --optimize-for-size, which keeps the young generation at 2 MiB', () => {
    const { flags, newSpaceMiB } = start();
    expect(flags.filter((f) => f === '--optimize-for-size')).toHaveLength(1);
    expect(newSpaceMiB).toBeLessThanOrEqual(2);
  });

  it('keeps a semi-space size given in NODE_OPTIONS, without --optimize-for-size', () => {
    expect(start({ NODE_OPTIONS: '--max-semi-space-size=8' }).flags).not.toContain('--optimize-for-size');
  });

  it('does not re-execute with GATEHOUSE_REEXEC=off', () => {
    expect(start({ GATEHOUSE_REEXEC: 'off' }).flags).toEqual([]);
  });
});
