// Peak resident memory of a process, read the same way for every side of a benchmark.
import { readFileSync } from 'node:fs';

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

/** "812.3 MB" */
export function fmtBytes(n: number | null): string {
  return n === null ? 'n/a' : `${(n / 1e6).toFixed(1)} MB`;
}
