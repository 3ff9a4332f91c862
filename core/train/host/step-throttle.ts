// Which of a run's steps reach the clients live: at most one per interval (the host's ≤ 10/s), the newest
// pending step always delivered after the interval, and never a step that carries the dense-feature health
// or a non-finite signal. Health is evaluated every few hundred steps and is the health chart's only data; a
// fast run (hundreds of steps a second) otherwise lost nearly all of it between events, leaving the live
// chart a gap until the history was reloaded.
import type { TrainStepInfo } from '../../common/api.js';

export class StepThrottle {
  private pending: TrainStepInfo | null = null;
  private last = -Infinity;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly emit: (s: TrainStepInfo) => void,
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  push(info: TrainStepInfo): void {
    this.pending = info;
    const wait = this.intervalMs - (this.now() - this.last);
    if (wait <= 0 || info.health !== undefined || info.signals.nan) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), wait);
  }

  /** Emits the pending step now, if any (the run ended, paused or stopped). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const info = this.pending;
    this.pending = null;
    if (!info) return;
    this.last = this.now();
    this.emit(info);
  }
}
