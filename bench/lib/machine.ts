// What the benchmark ran on, printed at the top of every run so numbers can be compared honestly.
import { cpus, loadavg, totalmem } from 'node:os';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memGB: number;
  load1: number;
  node: string;
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    memGB: Math.round(totalmem() / 2 ** 30),
    load1: Number(loadavg()[0].toFixed(2)),
    node: process.version,
  };
}

export function fmtMachine(m: MachineInfo = machineInfo()): string {
  return `${m.cpu}, ${m.cores} cores, ${m.memGB} GB, load ${m.load1}, node ${m.node}`;
}
