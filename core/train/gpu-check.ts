// The GPU check of the graphs in gpu-graphs.ts on one provider (run it where WebGPU opens: on a GPU, or on
// the CPU through SwiftShader, core/graph/swiftshader.ts): for every graph, where onnxruntime placed its
// nodes (core/graph/placement.ts); for every training step graph, two steps on the provider against the
// same two steps on the CPU — the losses, the gradient norms and the gradients themselves (Adam's first
// moments after each step: (1 − β₁)·g after the first) — as relative differences. A mixed-precision graph is
// checked only where the provider runs float16 (core/hardware/probe.ts probeFloat16; the CPU's float16
// kernels are its reference), else skipped with a line.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOSS_SCALE_IO } from '../graph/amp.js';
import { probeFloat16 } from '../hardware/probe.js';
import { serialize } from '../graph/onnx.js';
import { findWorker } from '../io/fork.js';
import { type Placement, measurePlacement, placementFeeds, placementFromTrace } from '../graph/placement.js';
import { type Provider, StepRunner } from '../graph/runtime.js';
import { type HostTensor, type Tensor, hostTensor } from '../graph/tensor.js';
import type { ViTConfig } from '../model/config.js';
import { Rng, initParams, toGraphLayout } from '../model/params.js';
import { type GpuGraph, gpuGraphs } from './gpu-graphs.js';
import { type HeadConfig, headLayout, initHeadParams } from './heads.js';
import { HEADS, flatName, modelLayouts, packModel } from './model.js';
import { STEP_IO } from './step.js';

export interface GraphCheck {
  name: string;
  placement: Placement;
  /** Training step graphs: per step, the largest relative difference provider vs CPU of each kind. */
  steps?: { losses: number; gradNorms: number; gradients: number; values: Record<string, [number, number]> }[];
}

/** |a − b| / |b| (0 when both are 0). */
const rel = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.abs(b));

/** ‖a − b‖ / ‖b‖ over two tensors' values. */
function relNorm(a: HostTensor, b: HostTensor): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < b.data.length; i++) {
    const x = Number(a.data[i]);
    const y = Number(b.data[i]);
    d += (x - y) * (x - y);
    n += y * y;
  }
  return d === 0 ? 0 : Math.sqrt(d / n);
}

/** The parameters as the trainer starts them (seeded init, graph layout). */
export function initialParams(vit: ViTConfig, head: HeadConfig, seed: number): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [k, t] of Object.entries(initParams(vit, seed))) out.set(k, toGraphLayout(k, t));
  HEADS.forEach((h, i) => {
    for (const [k, t] of Object.entries(initHeadParams(head, vit.dim, seed + 1 + i))) out.set(`${h}/${k}`, headLayout(t));
  });
  return out;
}

/**
 * The per-step inputs of a student step graph for step `s`, seeded: images in [−2, 2], the iBOT slots
 * (distinct flat patch indices, masked in `masks`) with equal weights, teacher targets as softmax rows, wd
 * 0.04, the last layer unfrozen, Gram weight 1.5, and lr 1e-5: Adam's first update is ≈ lr·sign(g), so
 * gradient elements near 0 whose sign differs by rounding move a parameter by 2·lr on one provider only;
 * a small lr keeps the second step a check of the providers, not of that sign.
 */
export function stepFeeds(inputs: readonly Tensor[], state: ReadonlySet<string>, s: number): Record<string, HostTensor> {
  const rng = new Rng(100 + s);
  const I = STEP_IO.inputs;
  const feeds: Record<string, HostTensor> = {};
  const byName = new Map(inputs.map((t) => [t.name, t]));
  const masks = byName.get(I.masks);
  const slots = byName.get(I.ibotIndices)?.shape[0] ?? 0;
  const patches = masks ? masks.shape[0] * masks.shape[1] : 0;
  const picked = Array.from({ length: slots }, (_, i) => (i * 7 + s * 3) % patches);
  const scalars: Record<string, number> = { 'optim/lr': 1e-5, 'optim/wd': 0.04, [I.lastLayerGate]: 1, [I.gramWeight]: 1.5 };
  for (const t of inputs) {
    if (state.has(t.name)) continue;
    const h = hostTensor(t.dtype, [...t.shape]);
    if (t.name in scalars) h.data[0] = scalars[t.name];
    else if (t.name === I.masks) for (const p of picked) h.data[p] = 1;
    else if (t.name === I.ibotIndices) picked.forEach((p, i) => (h.data[i] = BigInt(p)));
    else if (t.name === I.ibotWeights) (h.data as Float32Array).fill(1 / Math.max(1, slots));
    else if (t.name === I.teacherDino || t.name === I.teacherIbot) {
      const K = t.shape[1];
      for (let r = 0; r < t.shape[0]; r++) {
        const row = Array.from({ length: K }, () => Math.exp(2 * rng.normal()));
        const z = row.reduce((a, b) => a + b, 0);
        row.forEach((v, k) => (h.data[r * K + k] = v / z));
      }
    } else if (h.dtype === 'float32') for (let i = 0; i < h.data.length; i++) h.data[i] = 4 * rng.uniform() - 2;
    feeds[t.name] = h;
  }
  return feeds;
}

/** Two steps of a step graph on `provider` and on the CPU, and where `provider` placed the nodes. */
async function checkStep(gg: GpuGraph, provider: Provider, steps: number, profileDir: string): Promise<GraphCheck> {
  const st = gg.step!;
  const bytes = serialize(gg.graph);
  const stateInputs = new Set(Object.values(st.opt.stateMap));
  const cpu = await StepRunner.create(bytes, st.opt.stateMap, { providers: ['cpu'], intraOpThreads: 1 });
  const dev = await StepRunner.create(bytes, st.opt.stateMap, { providers: [provider], profileDir });
  try {
    const spec = gg.spec!;
    const params = initialParams(spec.vit, spec.head, 0);
    const init = st.opt.initialState();
    // The trainer's step graph holds the parameters in flat buffers (model.ts); the per-tensor form by name.
    const flat = stateInputs.has(flatName('backbone'));
    const state = flat ? packModel(modelLayouts(spec.vit, spec.head), params) : params;
    // A mixed-precision step starts at a loss scale its random feeds do not overflow (at GradScaler's 2¹⁶ its
    // first steps are skipped), so its gradients are compared too.
    if (LOSS_SCALE_IO.scale in init) init[LOSS_SCALE_IO.scale] = hostTensor('float32', [], [1]);
    for (const r of [cpu, dev]) {
      for (const [k, v] of state) r.set(k, v);
      for (const [k, v] of Object.entries(init)) r.set(k, v);
    }
    const flatMoments = st.opt.stateNames.filter((k) => k.includes('adam_m/'));
    /** Adam's first moments per parameter tensor (the step graph keeps them in flat buffers). */
    const moments = async (r: StepRunner): Promise<Map<string, HostTensor>> => {
      const flat = new Map<string, HostTensor>();
      for (const k of flatMoments) flat.set(k, await r.get(k));
      return st.opt.perTensor(flat);
    };
    const out: NonNullable<GraphCheck['steps']> = [];
    for (let s = 0; s < steps; s++) {
      const feeds = stepFeeds(gg.graph.inputs, stateInputs, s);
      const a = await dev.step(feeds);
      const b = await cpu.step(feeds);
      const values: Record<string, [number, number]> = {};
      let losses = 0;
      let gradNorms = 0;
      for (const k of st.outputs) {
        const [x, y] = [Number(a[k].data[0]), Number(b[k].data[0])];
        values[k] = [x, y];
        if (k.startsWith('loss/')) losses = Math.max(losses, rel(x, y));
        else gradNorms = Math.max(gradNorms, rel(x, y));
      }
      let gradients = 0;
      const [md, mc] = [await moments(dev), await moments(cpu)];
      for (const [k, m] of mc) if (k.startsWith('adam_m/')) gradients = Math.max(gradients, relNorm(md.get(k)!, m));
      out.push({ losses, gradNorms, gradients, values });
    }
    const file = dev.session.endProfiling();
    return { name: gg.name, placement: placementFromTrace(JSON.parse(await readFile(file, 'utf8')), dev.session.provider), steps: out };
  } finally {
    await Promise.all([cpu.session.release(), dev.session.release()]);
  }
}

/**
 * Every graph of gpu-graphs.ts (or those whose name starts with one of `only`) on `provider`: placement
 * for all, two steps against the CPU for the training step graphs. `log` gets one line per graph.
 */
export async function gpuCheck(
  provider: Provider,
  opts: { only?: string[]; steps?: number; log?: (line: string) => void } = {},
): Promise<GraphCheck[]> {
  const dir = await mkdtemp(join(tmpdir(), 'dinoscope-gpu-check-'));
  const results: GraphCheck[] = [];
  let float16: boolean | null = null;
  try {
    for (const gg of gpuGraphs()) {
      if (opts.only && !opts.only.some((o) => gg.name.startsWith(o))) continue;
      if (gg.float16 && !(float16 ??= await probeFloat16(provider))) {
        opts.log?.(`${gg.name}: skipped: ${provider} runs no float16 here`);
        continue;
      }
      const t0 = performance.now();
      const r = gg.step
        ? await checkStep(gg, provider, opts.steps ?? 2, dir)
        : { name: gg.name, placement: await measurePlacement(serialize(gg.graph), placementFeeds(gg.graph), { providers: [provider] }) };
      results.push(r);
      opts.log?.(
        `${gg.name}: ${r.placement.nodes.length} nodes on ${JSON.stringify(r.placement.byProvider)}, ${r.placement.copies.length} copies (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}

/**
 * gpuCheck in a child process started with `env`, so a provider's environment (core/graph/swiftshader.ts)
 * is in place before onnxruntime loads: the bundled gpu-check.worker.js beside the CLI (dist/cli), else
 * gpu-check-child.ts with tsx from the source tree. `log` gets the child's progress lines; a failing child
 * rejects with the end of its stderr.
 */
export async function gpuCheckInChild(
  provider: Provider,
  env: NodeJS.ProcessEnv,
  opts: { only?: string[]; log?: (line: string) => void } = {},
): Promise<GraphCheck[]> {
  const entry = findWorker('gpu-check.worker.js', 'train/gpu-check-child.ts');
  const root = fileURLToPath(new URL('../..', import.meta.url)); // tsx resolves from the repository root
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...(entry.ts ? ['--import', 'tsx'] : []), entry.path, provider, ...(opts.only ?? [])], {
      cwd: entry.ts ? root : undefined,
      env: { ...env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let pending = '';
    const tail: string[] = [];
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      const lines = (pending + d.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) {
        opts.log?.(l);
        tail.push(l);
        if (tail.length > 40) tail.shift();
      }
    });
    child.on('error', fail);
    child.on('close', (code) => {
      if (code === 0) done(JSON.parse(out) as GraphCheck[]);
      else fail(new Error(`the GPU check child exited with ${code}: ${[...tail, pending].join('\n').slice(-3000)}`));
    });
  });
}
