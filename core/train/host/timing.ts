// The time estimate before Start: one step of the chosen config measured on this computer in a training
// child (measure.ts), cached for the session per project, config and device. An estimate call never waits
// for it: the first call for a config starts the measurement and answers 'measuring' (the panel asks again
// until it is 'measured'); a newer config replaces a measurement still running (the user changed a setting);
// nothing is measured while a run trains (both would be slower and the figure wrong), and Start stops a
// measurement so the run has the machine.
import type { ChildProcess } from 'node:child_process';
import type { TrainTiming } from '../../common/api.js';
import type { StepTiming } from './measure.js';
import type { ChildRunOptions, FromChild, ToChild } from './protocol.js';
import { forkTrainWorker } from './spawn.js';

export interface StepTimingsOptions {
  /** Whether a run is training now (no measurement then). */
  busy(): boolean;
  log?(line: string): void;
  /** Override the worker file (tests). */
  workerPath?: string;
}

/** A budget in steps or minutes, in time and steps from a measured step. */
export function budgetTiming(t: StepTiming, budget: { steps: number } | { minutes: number }): TrainTiming {
  const startup = t.startupSeconds + t.firstStepSeconds;
  const sps = Math.max(t.secondsPerStep, 1e-3);
  // As core/train/run.ts: a minutes budget counts from the first step on, start-up comes on top.
  const steps = 'steps' in budget ? budget.steps : Math.max(1, Math.floor((budget.minutes * 60 - t.firstStepSeconds) / sps) + 1);
  const totalSeconds = 'steps' in budget ? startup + (steps - 1) * sps : t.startupSeconds + budget.minutes * 60;
  return { state: 'measured', secondsPerStep: t.secondsPerStep, startupSeconds: startup, steps, totalSeconds };
}

export class StepTimings {
  private readonly done = new Map<string, StepTiming>();
  private readonly failed = new Map<string, string>();
  private current: { key: string; child: ChildProcess; ended: Promise<void> } | null = null;

  constructor(private readonly o: StepTimingsOptions) {}

  /** The measured timing of `key`, or the state of its measurement (started here when none is running). */
  lookup(
    key: string,
    projectDir: string,
    options: Pick<ChildRunOptions, 'preset' | 'overrides' | 'distil'>,
  ): { timing: StepTiming } | { state: 'measuring' | 'busy' | 'failed'; message?: string } {
    const t = this.done.get(key);
    if (t) return { timing: t };
    const failed = this.failed.get(key);
    if (failed !== undefined) return { state: 'failed', message: failed };
    if (this.current?.key === key) return { state: 'measuring' };
    if (this.o.busy()) return { state: 'busy', message: 'A run is training now; the time estimate is measured when none is.' };
    this.cancel();
    this.start(key, projectDir, options);
    return { state: 'measuring' };
  }

  private start(key: string, projectDir: string, options: Pick<ChildRunOptions, 'preset' | 'overrides' | 'distil'>): void {
    const log = this.o.log ?? ((): void => undefined);
    const child = forkTrainWorker((line) => log(`[timing] ${line}`), this.o.workerPath);
    let answered = false;
    const ended = new Promise<void>((resolve) => {
      child.on('message', (m: FromChild) => {
        answered = true;
        if (m.type === 'measured') this.done.set(key, m.timing);
        else if (m.type === 'failed') this.failed.set(key, m.error);
      });
      child.on('exit', (code, signal) => {
        // Killed by cancel (a newer config, a Start): nothing is known; asked again, it measures again.
        if (!answered && !signal) this.failed.set(key, `the timing process exited with code ${code}`);
        if (this.current?.child === child) this.current = null;
        resolve();
      });
      child.on('error', (err) => log(`[timing] child error: ${err.message}`));
    });
    this.current = { key, child, ended };
    const msg: ToChild = { type: 'measure', projectDir, options };
    child.send(msg);
  }

  /** Stops a measurement still running (a Start, a newer config, the app closing). */
  cancel(): void {
    const c = this.current;
    this.current = null;
    if (c && c.child.exitCode === null) c.child.kill('SIGKILL');
  }

  /** Resolves when the measurement running now (if any) has ended (tests, close). */
  async idle(): Promise<void> {
    await this.current?.ended;
  }
}
