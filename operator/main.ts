// The Gatehouse operator's entry point: `node operator/main.ts --namespace=… --sp-public-url=…`.
//
// Node 24's defaults trade memory for throughput: the young generation grows to tens of MiB and
// the old generation to several times its live size before a full collection. The operator's
// garbage is short-lived JSON from watches and API answers; --optimize-for-size keeps the young
// generation at 2 MiB (V8 then ignores --max-semi-space-size) and grows the old generation
// conservatively, which keeps 100,000 cached users under 250 MiB while an enforcement pass writes
// all of them (bench/README.md). A 2–8 MiB semi-space with a similar old-generation growth
// (--heap-growing-percent=30) measured no less CPU per enforced user and more memory; dropping the
// flag altogether saves CPU but holds 303 MiB instead of 223 MiB idle at 100,000 users.
// V8 reads the flag only at start-up and refuses it in NODE_OPTIONS, so the process replaces
// itself (same PID, same stdio) with it set — unless it is set already (the re-executed process),
// a semi-space size is given (NODE_OPTIONS or the command line: a chosen young generation needs
// the flag off) or GATEHOUSE_REEXEC=off.
const V8_FLAGS = ['--optimize-for-size'];
const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => V8_FLAGS.includes(a) || a.startsWith('--max-semi-space-size'));
if (!given && process.env.GATEHOUSE_REEXEC !== 'off' && typeof process.execve === 'function') {
  process.execve(process.execPath, [process.execPath, ...V8_FLAGS, ...process.execArgv, ...process.argv.slice(1)], process.env);
}
await import('./cli.ts');
