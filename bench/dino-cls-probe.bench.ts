// `npm run bench -- dino-cls-probe`: the DINO CLS objective step by step at the Quick preset's real sizes
// (ViT-Tiny/16, B 32, 2 × 112 + 6 × 48 px, K 4096) on the held-out slides the quality bench trains on (or
// its tuning counterpart with DINOSCOPE_QUALITY_SET=demo), planned over the steps an 8-minute run buys.
// Why the loss does or does not leave ln K: per probed step (core/train/quality/dino-probe.ts, run on the
// state before the step and the step's batch)
//   dino, ibot     the step's losses
//   tH             mean entropy of the teacher's DINO targets (the graph's)
//   info           H(batch-mean target) − tH: what the targets say about each crop (0: the same for all)
//   sH             mean entropy of the student's softmax(z_s / τ_s) on the unmasked global crops
//   tAgree         fraction of tiles whose two global crops get the same argmax teacher prototype
//   spread         std over crops of the teacher's pre-centring CLS logits (mean over prototypes)
//   cls            CLS spread relative to its size; ‖c‖ the centre's norm
//   cosMax         mean over crops of the student's largest logit before τ_s (its best cosine to a prototype)
//   iH, iInfo      iBOT: mean entropy of the teacher's targets at the masked patches, H(their mean) − iH
//   ΔW             relative change of the student's last layer (weight_v) over the step (0 while frozen)
//   gDino          pre-clipping gradient norm of the DINO head
//   lr, llr, τ_t, m  the schedule values
// Environment: DINOSCOPE_PROBE_STEPS (steps run, 30), DINOSCOPE_PROBE_PLANNED (the run's planned total, 260:
// what 8 quiet minutes buy), DINOSCOPE_PROBE_EVERY (probe every N steps, 1), DINOSCOPE_PROBE_SEED (0),
// DINOSCOPE_QUALITY_OVERRIDES (config overrides, JSON), DINOSCOPE_QUALITY_SET=demo, BENCH_THREADS (2).
// Last line: `dino_cls_probe steps S dino X tH Y info Z` (means over the last half of the steps run).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TrainBatch } from '../core/data/train/batch.js';
import { type HostTensor } from '../core/graph/tensor.js';
import { centering, scratchViT, trainConfig } from '../core/train/config.js';
import { fileBatches } from '../core/train/data.js';
import { DinoProber } from '../core/train/quality/dino-probe.js';
import { type HeldOutSpec, writeHeldOutSlides } from '../core/train/quality/held-out.js';
import { plannedScheduleAt } from '../core/train/schedule-plan.js';
import { type StepReport, Trainer } from '../core/train/trainer.js';
import { writeDemoSlides } from './lib/demo-slides.js';

const env = (k: string, d: number): number => Number(process.env[k] ?? d);
const STEPS = env('DINOSCOPE_PROBE_STEPS', 30);
const PLANNED = env('DINOSCOPE_PROBE_PLANNED', 260);
const EVERY = Math.max(1, env('DINOSCOPE_PROBE_EVERY', 1));
const SEED = env('DINOSCOPE_PROBE_SEED', 0);
const THREADS = env('BENCH_THREADS', 2);
const OVERRIDES = JSON.parse(process.env.DINOSCOPE_QUALITY_OVERRIDES ?? '{}') as Record<string, unknown>;
const TUNING = process.env.DINOSCOPE_QUALITY_SET === 'demo';
const SPEC: HeldOutSpec = { side: 512, frame: 16, regionSize: 128, seed: 1 }; // as bench/quality.bench.ts

const log = (s: string): void => void process.stderr.write(s + '\n');

/** ‖a − b‖ / ‖b‖ over two tensors of one shape. */
function relChange(a: HostTensor | undefined, b: HostTensor | undefined): number {
  if (!a || !b) return NaN;
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  let d = 0;
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    d += (x[i] - y[i]) ** 2;
    n += y[i] ** 2;
  }
  return Math.sqrt(d / n);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dinoscope-dino-cls-probe-'));
  try {
    const paths = TUNING ? await writeDemoSlides(join(dir, 'slides'), 0, 6) : await writeHeldOutSlides(join(dir, 'slides'), SPEC, 0, 6);
    const cfg = trainConfig('quick', { ...OVERRIDES, seed: SEED, steps: PLANNED, health: { every: 0 }, runtime: { threads: THREADS } });
    const vit = scratchViT(cfg);
    log(
      `dino-cls-probe: ${TUNING ? 'demo (tuning)' : 'held-out'} slides, ${STEPS} of ${PLANNED} planned steps, seed ${SEED}, K ${cfg.head.prototypes}, B ${cfg.batchSize}, centering ${centering(cfg, vit)}, overrides ${JSON.stringify(OVERRIDES)}`,
    );
    const pf = await fileBatches(cfg, vit.patchSize, paths);
    let batch: TrainBatch | null = null;
    const tr = await Trainer.create(cfg, { next: async () => (batch = await pf.next()), close: () => pf.close() });
    const prober = await DinoProber.forRun(cfg, vit, tr.head, { intraOpThreads: THREADS });
    const rows: { r: StepReport; info: number }[] = [];
    const LL = tr.head.lastLayer === 'weight-norm' ? 'dino_head/last_layer.weight_v' : 'dino_head/last_layer.weight';
    try {
      for (let s = 0; s < STEPS; s++) {
        const probeNow = s % EVERY === 0 || s === STEPS - 1;
        const before = probeNow ? await tr.state() : null;
        const r = await tr.step();
        const info = r.signals.meanTargetEntropy - r.signals.teacherEntropy;
        rows.push({ r, info });
        if (!before) continue;
        const v = plannedScheduleAt(cfg, s);
        const p = await prober.probe(before, batch!, v.teacherTemp, cfg.loss.studentTemp);
        const st = before.student;
        const after = await tr.state();
        const dW = relChange(after.student.get(LL), st.get(LL));
        log(
          `step ${String(r.step).padStart(3)}  dino ${r.losses.dino.toFixed(3)}  ibot ${r.losses.ibot.toFixed(3)}  koleo ${r.losses.koleo.toFixed(3)}  tH ${r.signals.teacherEntropy.toFixed(3)}  info ${info.toFixed(3)}  sH ${p.studentEntropy.toFixed(3)}  tAgree ${p.viewAgreement.toFixed(2)}  spread ${p.logitSpread.toExponential(2)}  cls ${p.clsSpreadRel.toFixed(3)}  ‖c‖ ${p.centerNorm.toFixed(2)}  cosMax ${p.studentTopLogit.toFixed(3)}  iH ${p.ibotEntropy.toFixed(3)}  iInfo ${(p.ibotMeanTargetEntropy - p.ibotEntropy).toFixed(3)}  ΔW ${dW.toExponential(2)}  gDino ${r.gradNorms.dino_head?.toFixed(3)}  lr ${v.lr.toExponential(2)}  llr ${v.lastLayerLr.toExponential(2)}  τt ${v.teacherTemp.toFixed(3)}  m ${v.momentum.toFixed(4)}`,
        );
      }
    } finally {
      await prober.release();
      await tr.close();
    }
    const tail = rows.slice(Math.floor(rows.length / 2));
    const mean = (f: (x: { r: StepReport; info: number }) => number): number => tail.reduce((a, x) => a + f(x), 0) / tail.length;
    process.stdout.write(
      `dino_cls_probe steps ${STEPS} dino ${mean((x) => x.r.losses.dino).toFixed(3)} tH ${mean((x) => x.r.signals.teacherEntropy).toFixed(3)} info ${mean((x) => x.info).toFixed(4)}\n`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
