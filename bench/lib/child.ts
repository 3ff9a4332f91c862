// A long-lived benchmark child speaking JSON lines: the parent writes one command per line to its stdin and
// reads one JSON object per line from its stdout. Keeping the child alive excludes start-up from the timings,
// and running every side in its own process lets the parent read each side's peak RSS the same way.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { peakRssBytes } from './rss.js';

export type Reply = Record<string, unknown>;

export class BenchChild {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly queue: Reply[] = [];
  private readonly waiters: ((r: Reply | Error) => void)[] = [];
  private exited: Error | null = null;
  private stderrTail = '';

  /** Spawns `cmd args`; its stderr is passed through with `label` in front of each line. */
  constructor(
    readonly label: string,
    cmd: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
    createInterface({ input: this.proc.stdout }).on('line', (line) => this.onLine(line));
    createInterface({ input: this.proc.stderr }).on('line', (line) => {
      this.stderrTail = (this.stderrTail + line + '\n').slice(-4000);
      process.stderr.write(`[${label}] ${line}\n`);
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = new Error(`${label} exited (code ${code}, signal ${signal}); stderr:\n${this.stderrTail}`);
      for (const w of this.waiters.splice(0)) w(this.exited);
    });
    this.proc.on('error', (e) => {
      this.exited = e;
      for (const w of this.waiters.splice(0)) w(e);
    });
  }

  get pid(): number {
    if (this.proc.pid === undefined) throw new Error(`${this.label} did not start`);
    return this.proc.pid;
  }

  private onLine(line: string): void {
    let r: Reply;
    try {
      r = JSON.parse(line) as Reply;
    } catch {
      process.stderr.write(`[${this.label}] (non-JSON stdout) ${line}\n`);
      return;
    }
    const w = this.waiters.shift();
    if (w) w(r);
    else this.queue.push(r);
  }

  /** The next reply (already queued, or the next line the child prints). */
  next(): Promise<Reply> {
    const r = this.queue.shift();
    if (r) return Promise.resolve(r);
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => this.waiters.push((x) => (x instanceof Error ? reject(x) : resolve(x))));
  }

  /** Sends one command line and waits for its reply; a reply with `error` becomes a thrown Error. */
  async ask(command: string): Promise<Reply> {
    this.proc.stdin.write(command + '\n');
    const r = await this.next();
    if (typeof r.error === 'string') throw new Error(`${this.label}: ${r.error}`);
    return r;
  }

  /** Peak RSS so far (VmHWM), in bytes. */
  peakRss(): number | null {
    return peakRssBytes(this.pid);
  }

  /** Asks the child to quit and waits for it to exit (killing it after `graceMs`). */
  async close(graceMs = 10_000): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.stdin.end('quit\n');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await done;
    clearTimeout(timer);
  }
}
