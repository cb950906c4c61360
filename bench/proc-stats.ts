// What the benchmarks read about another process from /proc: its CPU time (all threads, what
// process.cpuUsage reports inside it) and its resident memory.
import { readdirSync, readFileSync } from 'node:fs';

/** User + system CPU seconds of a process and all its threads; Linux counts in 100 Hz clock ticks. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** VmHWM (peak resident set) or VmRSS (current), in KiB. */
export function residentKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

/** What a Node process's threads do, by the names Node gives them (/proc/<pid>/task/<tid>/comm). */
export type ThreadRole = 'event loop' | 'worker threads' | 'V8 helpers (GC, compiler)' | 'libuv pool' | 'other';

function roleOf(comm: string): ThreadRole {
  if (comm === 'MainThread' || comm === 'node') return 'event loop';
  if (comm === 'WorkerThread') return 'worker threads';
  if (comm.startsWith('V8') || comm.startsWith('DelayedTask')) return 'V8 helpers (GC, compiler)';
  if (comm.startsWith('libuv')) return 'libuv pool';
  return 'other';
}

/** CPU seconds of each thread role; a thread that exited since the last reading is no longer counted. */
export function cpuSecondsByRole(pid: number): Map<ThreadRole, number> {
  const out = new Map<ThreadRole, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    let comm: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    const fields = stat.replace(/^.*\) /, '').split(' ');
    const role = roleOf(comm);
    out.set(role, (out.get(role) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100);
  }
  return out;
}
