// The image fills Node's module compile cache at build time (hack/fill-compile-cache.sh) so that no
// process of it loads the type stripper, a WebAssembly compiler of 20-25 MiB per isolate. These
// tests run the script into a fresh directory and start each entry point as its container does,
// reporting from inside the process whether the stripper was loaded.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerEnv, loadEntryPoint } from '../support/entry-point.ts';

const root = join(import.meta.dirname, '..', '..');
const ENTRIES = ['operator/main.ts', 'sp-server/main.ts', 'portal/main.ts', 'portal/setup-links/mint-link.ts'];
/** Preloaded into the process (--import; carried into the operator's re-exec): says at exit whether the stripper was loaded. */
const REPORTER = `data:text/javascript,process.on('exit',()=>process.stderr.write('type-stripper-loaded='+process.moduleLoadList.some((m)=>m.includes('amaro'))+'\\n'))`;

/** Starts `entry` with GATEHOUSE_LOAD_ONLY=1 and returns what the reporter said at exit (the operator's image after its re-exec: execve runs no exit handlers). */
function strippedLoadedIn(entry: string, cache: string): string[] {
  const stderr = loadEntryPoint(entry, REPORTER, { NODE_COMPILE_CACHE: cache });
  return [...stderr.matchAll(/^type-stripper-loaded=(true|false)$/gm)].map((m) => m[1] as string);
}

/** Loads a validation thread's modules (its entry and the validator) in a worker thread of a process using `cache`; says whether that thread loaded the stripper. */
function workerLoadsStripper(cache: string): boolean {
  const modules = ['thread-entry.ts', 'validation-worker.ts'].map((m) => `import(${JSON.stringify(pathToFileURL(join(root, 'sp-server', 'saml', m)).href)})`);
  const body = `Promise.all([import('node:worker_threads'), ${modules.join(', ')}]).then(([{ parentPort }]) => parentPort.postMessage(process.moduleLoadList.some((m) => m.includes('amaro'))));`;
  const script = `import { Worker } from 'node:worker_threads'; const w = new Worker(${JSON.stringify(body)}, { eval: true }); w.once('message', (loaded) => { process.stdout.write(String(loaded)); w.terminate(); });`;
  const out = execFileSync(process.execPath, ['--input-type=module', '--eval', script], { cwd: root, env: containerEnv({ NODE_COMPILE_CACHE: cache }), encoding: 'utf8', timeout: 60_000 });
  return out === 'true';
}

describe('the compile cache the image is built with', () => {
  let filled: string;
  let empty: string;
  beforeAll(() => {
    filled = mkdtempSync(join(tmpdir(), 'gatehouse-compile-cache-'));
    empty = mkdtempSync(join(tmpdir(), 'gatehouse-compile-cache-empty-'));
    execFileSync('sh', [join(root, 'hack', 'fill-compile-cache.sh')], { cwd: tmpdir(), env: containerEnv({ NODE_COMPILE_CACHE: filled }), stdio: 'pipe', timeout: 180_000 });
  }, 200_000);
  afterAll(() => {
    for (const dir of [filled, empty]) rmSync(dir, { recursive: true, force: true });
  });

  it.each(ENTRIES)('lets %s start without the type stripper', (entry) => {
    expect(strippedLoadedIn(entry, filled)).toEqual(['false']);
  });

  it('lets the sp-server validation workers load their module without the type stripper', () => {
    expect(workerLoadsStripper(filled)).toBe(false);
  });

  it('is what makes the difference: the same starts without it load the stripper', () => {
    for (const entry of ENTRIES) expect(strippedLoadedIn(entry, join(empty, entry.replaceAll('/', '-')))).toEqual(['true']);
    expect(workerLoadsStripper(join(empty, 'worker'))).toBe(true);
  });
});
