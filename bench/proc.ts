import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** User + system CPU seconds of a `/proc/<pid>/stat` or `/proc/<pid>/task/<tid>/stat` line. */
function statSeconds(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** CPU seconds a process has used, every thread counted (libuv's pool and V8's helpers too). */
export function processCpuSeconds(pid: number): number {
  return statSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** CPU seconds by thread: `main`, then the others by thread id. */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const by = new Map<string, number>();
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      by.set(task === String(pid) ? 'main' : `thread ${task}`, statSeconds(readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8')));
    } catch {
      // The thread ended.
    }
  }
  return by;
}

/** Peak resident set of a process so far, MiB. */
export function peakRssMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}
