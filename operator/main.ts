// The Gatehouse operator's entry point: `node operator/main.ts --namespace=… --sp-public-url=…`.
//
// Node 24's defaults trade memory for throughput: the young generation grows to 128 MiB and the
// old generation to four times its live size before a full collection. The operator's garbage is
// short-lived JSON from watches and API answers, so a 4 MiB semi-space and V8's memory-constrained
// heap growth cost little time and keep 10,000 users well under 250 MiB (bench/enforcement.ts).
// Without --optimize-for-size the operator spends a quarter less CPU per enforced user, but holds
// 303 MiB instead of 223 MiB with 100,000 users cached (bench/README.md): the 250 MiB bound wins.
// V8 reads these flags only at start-up and refuses --optimize-for-size in NODE_OPTIONS, so the
// process replaces itself (same PID, same stdio) with them set — unless a semi-space size is
// already given (NODE_OPTIONS or the command line) or GATEHOUSE_REEXEC=off.
const V8_FLAGS = ['--max-semi-space-size=4', '--optimize-for-size'];
const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => a.startsWith('--max-semi-space-size'));
if (!given && process.env.GATEHOUSE_REEXEC !== 'off' && typeof process.execve === 'function') {
  process.execve(process.execPath, [process.execPath, ...V8_FLAGS, ...process.execArgv, ...process.argv.slice(1)], process.env);
}
await import('./cli.ts');
