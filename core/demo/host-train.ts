// The app's demo trainer: the run goes to the training job host (core/train/host), a child process, so
// the app's main thread never trains; progress comes from its trainStep events. Collapse alerts and
// previews are off (a few-minute demo run is too short for either to mean much); an alert that pauses the
// run anyway (NaN) stops it and fails the demo with the alert's message. Cancelling stops the run, which
// checkpoints first.
import type { TrainAlert, TrainStepInfo } from '../common/api.js';
import { DinoscopeError } from '../common/errors.js';
import type { TypedEmitter } from '../common/emitter.js';
import type { TrainingHost } from '../train/host/host.js';
import { isRun } from './runs.js';
import type { DemoTrainer } from './train.js';

/** Subscribes to the host's training events (AppService.on). */
type Subscribe = TypedEmitter['on'];

export function hostTrainer(host: TrainingHost, on: Subscribe): DemoTrainer {
  return async (r) => {
    const dir = r.project.dir;
    const record = r.resume
      ? r.project
          .runs()
          .filter(isRun)
          .find((x) => x.name === r.run)
      : undefined;
    const info = host.start(
      dir,
      {
        name: r.run,
        stage: 'pretrain',
        preset: 'quick',
        resume: r.resume,
        checkpointMinutes: 2,
        collapse: false,
        previewEvery: 0,
        ...(r.resume ? {} : { overrides: r.overrides, steps: r.steps, minutes: r.minutes }),
      },
      record,
    );
    let alert: TrainAlert | null = null;
    const offStep = on('trainStep', (s: TrainStepInfo) => {
      if (s.jobId === info.jobId) r.onStep(s.step, s.total);
    });
    const offAlert = on('trainAlert', (a: TrainAlert) => {
      if (a.jobId !== info.jobId || !a.paused) return;
      alert = a;
      void host.stop(dir, r.run).catch(() => undefined);
    });
    const stop = (): void => void host.stop(dir, r.run).catch(() => undefined);
    r.signal.addEventListener('abort', stop);
    try {
      const end = await host.settled(dir, r.run);
      if (alert)
        throw new DinoscopeError(
          'INTERNAL',
          `Demo: training stopped at step ${(alert as TrainAlert).step}: ${(alert as TrainAlert).message}`,
        );
      if (end.status === 'failed') throw new DinoscopeError('INTERNAL', `Demo: training failed: ${end.error ?? 'unknown error'}.`);
      return { run: r.run, status: end.status === 'done' ? 'done' : 'stopped', steps: end.step, totalSteps: end.totalSteps };
    } finally {
      r.signal.removeEventListener('abort', stop);
      offStep();
      offAlert();
    }
  };
}
