// Starts one of Gatehouse's entry points as its container does — this Node first on PATH, no
// settings of the test run — with GATEHOUSE_LOAD_ONLY=1, so it loads its module graph and exits.
// A reporter module preloaded with --import (carried into the operator's re-exec) says from inside
// the final process what a test asks about, on stderr.
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

/** The environment of a container: this Node first on PATH, no GATEHOUSE_* settings of the test run, plus `extra`. */
export function containerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, HOME: tmpdir(), ...extra };
}

/** Loads `entry` (a path from the repository root) with `reporter` preloaded; expects exit 0 and returns its stderr. */
export function loadEntryPoint(entry: string, reporter: string, env: Record<string, string> = {}): string {
  const run = spawnSync(process.execPath, ['--import', reporter, entry], { cwd: root, env: containerEnv({ GATEHOUSE_LOAD_ONLY: '1', ...env }), encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  return run.stderr;
}
