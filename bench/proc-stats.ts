// What the benchmarks read about another process from /proc: its CPU time (all threads, what
// process.cpuUsage reports inside it) and its resident memory.
import { readFileSync } from 'node:fs';

/** User + system CPU seconds of a process and all its threads; Linux counts in 100 Hz clock ticks. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** VmHWM (peak resident set) or VmRSS (current), in KiB. */
export function residentKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}
