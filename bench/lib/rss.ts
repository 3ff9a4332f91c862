// Peak resident memory of a process, read the same way for every side of a benchmark.
import { readFileSync, writeFileSync } from 'node:fs';

/**
 * The peak resident set size (VmHWM) of process `pid` in bytes, from /proc/<pid>/status; null when the
 * process is gone or the platform has no /proc (only Linux reports it).
 */
export function peakRssBytes(pid: number): number | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : null;
}

/**
 * Starts a new peak for this process (Linux: writing 5 to /proc/self/clear_refs resets VmHWM to the
 * current RSS), so a bench can measure the peak of one phase; false where the platform does not allow it.
 */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** "812.3 MB" */
export function fmtBytes(n: number | null): string {
  return n === null ? 'n/a' : `${(n / 1e6).toFixed(1)} MB`;
}
