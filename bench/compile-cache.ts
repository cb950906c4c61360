// The benchmarks start Gatehouse's processes as its image does: with Node's module compile cache
// filled first by the script the Dockerfile runs, so that no process compiles a module or loads
// the type stripper at start (20-25 MiB of RSS per isolate that loads it).
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const script = join(import.meta.dirname, '..', 'hack', 'fill-compile-cache.sh');

/** Fills the cache NODE_COMPILE_CACHE names (a folder under the temporary directory when unset; then set for the processes this one starts). Returns a line for the settings. */
export function fillCompileCacheLikeTheImage(): string {
  process.env.NODE_COMPILE_CACHE ??= join(tmpdir(), 'gatehouse-node-compile-cache');
  execFileSync('sh', [script], { env: process.env, stdio: 'ignore', timeout: 180_000 });
  return 'module compile cache filled first, as in the image';
}
