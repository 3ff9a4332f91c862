// `npm run bench -- demo-quality`: what the demo shows a newcomer after its default budget — does the cluster
// map follow the generated tissue types? Runs the demo pipeline exactly as `dinoscope demo` does (slides,
// project, Quick pretraining, the run's teacher as a model, extraction at 2 µm/px with the automatic mask)
// and scores the feature set against the generator's ground truth (core/demo/quality.ts): the app's k-means
// cluster map (k = 5 textures) ARI, cross-slide p@10 and the mask's coverage of the tissue. The demo slides
// are the TUNING side (core/train/quality/README.md): settings may be chosen on these figures.
// Environment: DINOSCOPE_DEMO_MINUTES (default the demo's own, 3) or DINOSCOPE_DEMO_STEPS (a fixed step
// count instead: experiments independent of the machine's load), DINOSCOPE_DEMO_OVERRIDES (JSON config
// overrides of the run, experiments), DINOSCOPE_DEMO_SLIDES (a folder the generated slides are kept in
// between runs; default a temporary one), DINOSCOPE_DEMO_SEED (run seed, default the preset's),
// DINOSCOPE_DEMO_KEEP (a folder to keep the demo project in, for looking at it in the app).
// Last line: `demo ari X p10 Y coverage Z steps S`.
import { cp, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultFormats } from '../core/app/formats.js';
import { FULL_SPEC, writeDemoImages } from '../core/demo/generate.js';
import { prepareDemoFolder, SLIDES } from '../core/demo/folder.js';
import { DEFAULT_MINUTES } from '../core/demo/options.js';
import { runDemo } from '../core/demo/pipeline.js';
import { demoQuality } from '../core/demo/quality.js';
import { trainInProcess } from '../core/demo/train.js';
import { TEXTURE_NAMES } from '../core/demo/textures.js';
import { Project } from '../core/project/project.js';
import { fmtMachine } from './lib/machine.js';

const log = (s: string): void => void process.stderr.write(s + '\n');
const load = (): string =>
  loadavg()
    .map((v) => v.toFixed(1))
    .join(' ');
const steps = process.env.DINOSCOPE_DEMO_STEPS ? Number(process.env.DINOSCOPE_DEMO_STEPS) : undefined;
const minutes = steps === undefined ? Number(process.env.DINOSCOPE_DEMO_MINUTES ?? DEFAULT_MINUTES) : undefined;
const extra = JSON.parse(process.env.DINOSCOPE_DEMO_OVERRIDES ?? '{}') as Record<string, unknown>;
const seed = process.env.DINOSCOPE_DEMO_SEED ? { seed: Number(process.env.DINOSCOPE_DEMO_SEED) } : {};

const exists = (p: string): Promise<boolean> =>
  stat(p).then(
    () => true,
    () => false,
  );

log(
  `demo-quality: ${fmtMachine()}; load ${load()}; ${steps !== undefined ? `${steps} steps` : `${minutes} min`}; overrides ${JSON.stringify({ ...extra, ...seed })}`,
);
const work = await mkdtemp(join(tmpdir(), 'dinoscope-demo-quality-'));
try {
  const cache = process.env.DINOSCOPE_DEMO_SLIDES ?? join(work, 'cache');
  if (!(await exists(join(cache, 'demo-slide-4.tif')))) {
    log('demo-quality: generating the slides');
    await writeDemoImages(cache, FULL_SPEC);
  }
  // A new demo folder (its marker written) holding the kept slides, so the demo skips generating them.
  const dir = process.env.DINOSCOPE_DEMO_KEEP ?? join(work, 'demo');
  await prepareDemoFolder(dir, FULL_SPEC);
  await mkdir(join(dir, SLIDES), { recursive: true });
  await cp(cache, join(dir, SLIDES), { recursive: true });
  const t0 = performance.now();
  const summary = await runDemo(
    {
      dir,
      spec: FULL_SPEC,
      ...(steps !== undefined ? { steps } : { minutes }),
      ...(Object.keys(extra).length || seed.seed !== undefined ? { overrides: { ...extra, ...seed } } : {}),
      scratchBecause: 'the benchmark measures training from scratch',
    },
    {
      signal: new AbortController().signal,
      progress: () => undefined,
      formats: defaultFormats,
      train: trainInProcess,
      log: (l) => {
        const m = /^step (\d+)\//.exec(l);
        if (!m || Number(m[1]) % 10 === 0) log(`  ${l}`);
      },
    },
  );
  const seconds = (performance.now() - t0) / 1000;
  const q = await demoQuality(await Project.open(dir), summary.featureSet, FULL_SPEC);
  log(`demo-quality: ${summary.steps} steps, ${seconds.toFixed(0)} s end to end, load ${load()}`);
  log(
    `demo-quality: ARI ${q.ari.toFixed(3)} (maps' default smoothing; ${q.ariUnsmoothed.toFixed(3)} without), PCA map colour accuracy ${q.pcaAccuracy.toFixed(3)} (${q.pcaAccuracyUnsmoothed.toFixed(3)} without), p@10 ${q.p10.toFixed(3)} over ${q.patches} labelled patches; mask coverage ${q.coverage.toFixed(3)} (${TEXTURE_NAMES.map((t, i) => `${t} ${q.coverageByTexture[i].toFixed(2)}`).join(', ')})`,
  );
  process.stdout.write(`demo ari ${q.ari.toFixed(3)} p10 ${q.p10.toFixed(3)} coverage ${q.coverage.toFixed(3)} steps ${summary.steps}\n`);
} finally {
  await rm(work, { recursive: true, force: true });
}
