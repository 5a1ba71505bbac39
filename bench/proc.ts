import { readFileSync } from 'node:fs';

// /proc/PID/stat counts in clock ticks; USER_HZ is 100 on every Linux architecture Node supports.
const TICKS_PER_SECOND = 100;

/** CPU time a process has used so far, user and system, in seconds (from /proc); NaN once it is gone. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces: utime is the 14th field, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}
