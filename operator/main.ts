// The Gatehouse operator's entry point: `node operator/main.ts --namespace=… --sp-public-url=…`.
//
// Node 24 lets the young generation grow to 128 MiB, which is most of the operator's resident
// memory: its garbage is short-lived JSON from watches and API answers, so a small young
// generation costs little time and keeps 10,000 users well under 250 MiB. V8 reads the flag only
// at start-up, so the process replaces itself (same PID, same stdio) with the flag set, unless
// the flag is already given (NODE_OPTIONS or the command line) or GATEHOUSE_REEXEC=off.
const FLAG = '--max-semi-space-size';
const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => a.startsWith(FLAG));
if (!given && process.env.GATEHOUSE_REEXEC !== 'off' && typeof process.execve === 'function') {
  process.execve(process.execPath, [process.execPath, `${FLAG}=4`, ...process.execArgv, ...process.argv.slice(1)], process.env);
}
await import('./cli.ts');
