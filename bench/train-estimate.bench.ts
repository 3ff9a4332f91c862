// `npm run bench -- train-estimate`: how well the Train panel's time estimate (one step of the config timed
// in a training child after a warm-up step: core/train/host/measure.ts, budgetTiming) predicts a real run of
// that config on this computer: the Quick preset (or BENCH_TINY=1: the smoke-test model) on three generated
// 512 px texture mosaics, measured, then trained for BENCH_STEPS steps (8) through runPretrain as the app
// runs it. Prints the measured start-up and s/step, the real ones (start-up = call to end of step 1; s/step =
// median of steps 2…; both through AppService, each in its own training child, as in the app), and as the last line `ratio <predicted / real total seconds>` (1 is exact).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeMosaics } from '../core/analysis/fixture.js';
import { importedProject } from '../core/app/fixture-service.js';
import type { TrainStartOptions, TrainTiming } from '../core/common/api.js';
import { TINY_OVERRIDES } from '../core/train/config.js';

const steps = Number(process.env.BENCH_STEPS ?? 8);
const threads = Number(process.env.BENCH_THREADS ?? 2);
const overrides = { ...(process.env.BENCH_TINY ? TINY_OVERRIDES : {}), runtime: { threads } };
const log = (s: string): void => void process.stderr.write(s + '\n');
const out = (s: string): void => void process.stdout.write(s + '\n');

const dir = await mkdtemp(join(tmpdir(), 'dinoscope-bench-estimate-'));
process.env.DINOSCOPE_HOME = join(dir, 'home');
const paths = await writeMosaics(join(dir, 'slides'), 3, { side: 512, stride: 32, dim: 8 });
const { service } = await importedProject(dir, paths);
try {
  // As the app does it: the estimate measures in a training child; the run is another child.
  const o: TrainStartOptions = { preset: 'quick', steps, overrides, name: 'bench' };
  let timing: TrainTiming | undefined;
  const m0 = performance.now();
  for (;;) {
    timing = (await service.trainEstimate(o)).timing;
    if (timing?.state !== 'measuring') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  if (timing?.state !== 'measured') throw new Error(`not measured: ${JSON.stringify(timing)}`);
  out(
    `measured in ${((performance.now() - m0) / 1000).toFixed(0)} s: start-up to the end of step 1 ${timing.startupSeconds!.toFixed(1)} s, ${timing.secondsPerStep!.toFixed(2)} s/step → ${steps} steps predicted ${timing.totalSeconds!.toFixed(1)} s`,
  );

  const at: number[] = [];
  const off = service.on('trainStep', (s) => s.run === 'bench' && void (at[s.step - 1] = performance.now()));
  const t0 = performance.now();
  await service.startTraining(o);
  await service.training.settled(service.requireProject().dir, 'bench');
  off();
  const real = (at[steps - 1] - t0) / 1000;
  const per = at
    .slice(1)
    .map((v, i) => (v - at[i]) / 1000)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  log(`real step times: ${per.map((s) => s.toFixed(2)).join(' ')} s`);
  out(
    `real: start-up to the end of step 1 ${((at[0] - t0) / 1000).toFixed(1)} s, median ${per[per.length >> 1].toFixed(2)} s/step, ${steps} steps ${real.toFixed(1)} s`,
  );
  out(`ratio ${(timing.totalSeconds! / real).toFixed(3)}`);
} finally {
  await service.close();
  await rm(dir, { recursive: true, force: true });
}
