// In-graph optimiser steps. All state — parameters, AdamW moments, the step count, lr, weight decay, EMA
// momentum — are graph inputs, and the updated state are graph outputs, so one training step is one
// onnxruntime run (StepRunner feeds the outputs back as the next inputs).
//
// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", 2019), as torch.optim.AdamW:
//   t ← t + 1
//   p ← p · (1 − lr·λ)                              decoupled weight decay
//   m ← β₁m + (1 − β₁)g,   v ← β₂v + (1 − β₂)g²
//   p ← p − lr/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε)   bias-corrected
// with per-parameter multipliers on lr and λ (layer-wise decay, no decay on norms and biases).
//
// Flat buffers (flat.ts): each group's parameters and gradients are gathered into one 1-D buffer, clipped
// and updated there with per-element multiplier vectors (constants onnxruntime folds), and the new
// parameters are viewed back per tensor. The moments are one flat buffer per group. So a step costs a
// fixed ~20 elementwise kernels per group plus one Concat/Slice per tensor, instead of ~25 kernels per
// tensor (what made WebGPU launch-bound). Checkpoints keep the moments per tensor (`perTensor`), so their
// format does not depend on the layout. optim-per-tensor.ts keeps the per-tensor form as a test oracle.
import { type Graph, graphOf } from './graph.js';
import { type FlatLayout, flatConcat, flatLayout, flatViews, packFlat, segmentValues, unpackFlat } from './flat.js';
import { allFinite } from './amp.js';
import { add, cast, div, minimum, mul, pow, reciprocal, sqrt, sub, where } from './ops/elementwise.js';
import { reduceSum } from './ops/reduce.js';
import { type HostTensor, type Tensor, hostTensor } from './tensor.js';
import { DinoscopeError } from '../common/errors.js';

export interface ParamGroup {
  /** Names the group's gradient-norm output: `optim/grad_norm/<name>`, and its flat moments `optim/adam_m/<name>`. */
  name: string;
  params: Tensor[];
  grads: Tensor[];
  /** Multiplies the lr input (one number for the group, or one per parameter). Default 1. */
  lrMult?: number | number[];
  /**
   * Per parameter, an optional graph scalar (float32) that also multiplies its lr at run time (e.g. a
   * last-layer freeze gate). A group takes at most one distinct gate tensor.
   */
  lrScale?: (Tensor | null)[];
  /** Multiplies the weight-decay input (one number for the group, or one per parameter). Default 1. */
  wdMult?: number | number[];
  /** Clip the group's gradients to this global L2 norm (torch.nn.utils.clip_grad_norm_). */
  maxNorm?: number;
  /**
   * The 1-D graph parameter `params` are views of (flat.ts flatViews, in `layout` order): the update is its
   * next value (`next/<buffer>`). Without it the parameters are separate tensors, gathered into a buffer
   * here and viewed back for their `next/<param>` outputs.
   */
  flat?: { buffer: Tensor; layout: FlatLayout };
}

export interface AdamWOptions {
  beta1?: number; // 0.9
  beta2?: number; // 0.999
  eps?: number; // 1e-8
  /**
   * Mixed precision (amp.ts): the gradients are of loss × this scalar input. They are divided by it before
   * clipping, and a step where any of them is not finite (a float16 product overflowed) changes nothing:
   * parameters, moments and the step count keep their values (`finite` says which it was).
   */
  lossScale?: Tensor;
}

export interface AdamWStep {
  /** Inputs the caller feeds each step (scalars, float32): steps already taken, learning rate, weight decay. */
  step: Tensor;
  lr: Tensor;
  wd: Tensor;
  /** Output name → the input name it replaces at the next step (parameters, moments, step count). */
  stateMap: Record<string, string>;
  /** Pre-clipping global gradient norm of each group, as graph outputs `optim/grad_norm/<group>`. */
  gradNorms: Record<string, Tensor>;
  /** The optimiser's own state inputs (moments, step count; not the parameters), in a fixed order. */
  stateNames: string[];
  /** Zero moments and step 0 for every state input except the parameters themselves. */
  initialState(): Record<string, HostTensor>;
  /** The optimiser state per tensor (`adam_m/<param>`, `adam_v/<param>`, `optim/step`: what checkpoints keep) from the graph's state values. */
  perTensor(state: ReadonlyMap<string, HostTensor>): Map<string, HostTensor>;
  /** The graph's state values from the per-tensor form; CORRUPT naming the first missing or misshapen value. */
  fromPerTensor(perTensor: ReadonlyMap<string, HostTensor>): Map<string, HostTensor>;
  /** With `lossScale`: a bool scalar, true when every gradient was finite and the update was applied. */
  finite?: Tensor;
}

/** The scalar inputs `adamw` declares (callers feed lr and wd each step; the step count is state). */
export const ADAMW_INPUTS = { step: 'optim/step', lr: 'optim/lr', wd: 'optim/wd' } as const;

/** The output `adamw` names a group's pre-clipping gradient norm. */
export const gradNormOutput = (group: string): string => `optim/grad_norm/${group}`;

/** The per-tensor names of a parameter's moments (checkpoints, optim-per-tensor.ts). */
export const momentNames = (param: string): { m: string; v: string } => ({ m: `adam_m/${param}`, v: `adam_v/${param}` });

/** The flat moment buffers of a group. */
export const flatMomentNames = (group: string): { m: string; v: string } => ({ m: `optim/adam_m/${group}`, v: `optim/adam_v/${group}` });

export const per = (v: number | number[] | undefined, i: number): number => (v === undefined ? 1 : typeof v === 'number' ? v : v[i]);

/**
 * Global-norm clipping: g ← g · min(1, maxNorm / (‖g‖ + 1e-6)) with ‖g‖ over all the given gradients.
 * Returns the clipped gradients and the pre-clipping norm.
 */
export function clipByGlobalNorm(grads: Tensor[], maxNorm: number): { grads: Tensor[]; norm: Tensor } {
  const sq = grads.map((d) => reduceSum(mul(d, d))); // scalars
  const norm = sqrt(sq.reduce((a, b) => add(a, b)));
  const scale = minimum(div(maxNorm, add(norm, 1e-6)), 1);
  return { grads: grads.map((d) => mul(d, scale)), norm };
}

type Coef = Tensor | number;
/** a·b where either may be a plain number (numbers multiply here, not in the graph). */
const times = (a: Coef, b: Coef): Coef =>
  typeof a === 'number' && typeof b === 'number' ? a * b : typeof a === 'number' ? (a === 1 ? b : mul(b, a)) : b === 1 ? a : mul(a, b);

/** Adds one AdamW step for all groups to `g` (inputs, update nodes and outputs), each group on flat buffers. */
export function adamw(g: Graph, groups: ParamGroup[], o: AdamWOptions = {}): AdamWStep {
  const b1 = o.beta1 ?? 0.9;
  const b2 = o.beta2 ?? 0.999;
  const eps = o.eps ?? 1e-8;
  const step = g.input(ADAMW_INPUTS.step, [], 'float32', 'AdamW steps taken so far');
  const lr = g.input(ADAMW_INPUTS.lr, [], 'float32', 'learning rate');
  const wd = g.input(ADAMW_INPUTS.wd, [], 'float32', 'weight decay');
  const stateMap: Record<string, string> = {};
  const gradNorms: Record<string, Tensor> = {};
  const flats: { group: string; layout: FlatLayout; m: Tensor; v: Tensor }[] = [];
  let finite: Tensor | undefined;
  g.scope('optim', () => {
    for (const grp of groups)
      if (grp.params.length !== grp.grads.length)
        throw new Error(`adamw: group ${grp.name} has ${grp.params.length} params and ${grp.grads.length} grads`);
    // Each group's gradients gathered into one flat buffer. Mixed precision (lossScale): divided by the loss
    // scale before clipping, and a step with a non-finite gradient keeps every state value (Where on the
    // all-finite flag, one reduction per group's buffer).
    const inv = o.lossScale ? reciprocal(o.lossScale) : null;
    const flatGrads = new Map<ParamGroup, Tensor>();
    for (const grp of groups)
      if (grp.params.length)
        flatGrads.set(
          grp,
          g.scope(grp.name, () => {
            const d = flatConcat(grp.grads);
            return inv ? mul(d, cast(inv, d.dtype)) : d; // g / S
          }),
        );
    finite = inv ? allFinite([...flatGrads.values()]) : undefined;
    const keep = (next: Tensor, prev: Tensor): Tensor => (finite ? where(finite, next, prev) : next);
    const t = keep(add(step, 1), step); // t ← t + 1
    stateMap[g.output(t, 'next/optim/step').name] = step.name;
    const bc1 = sub(1, pow(g.scalar(b1), t)); // 1 − β₁ᵗ
    const bc2 = sub(1, pow(g.scalar(b2), t)); // 1 − β₂ᵗ
    for (const grp of groups) {
      if (grp.params.length === 0) continue;
      const dt = grp.params[0].dtype;
      if (grp.params.some((p) => p.dtype !== dt)) throw new Error(`adamw: group ${grp.name} mixes parameter dtypes`);
      const sc = (x: Tensor): Tensor => cast(x, dt);
      const layout = grp.flat?.layout ?? flatLayout(grp.params.map((p) => ({ name: p.name, shape: p.shape })));
      if (grp.flat && (grp.flat.layout.segments.length !== grp.params.length || grp.flat.buffer.dtype !== dt))
        throw new Error(`adamw: group ${grp.name}'s ${grp.params.length} parameters are not the views of its flat buffer`);
      g.scope(grp.name, () => {
        const p = grp.flat?.buffer ?? flatConcat(grp.params); // (n,)
        let d = flatGrads.get(grp) as Tensor; // (n,)
        if (grp.maxNorm !== undefined) {
          const norm = sqrt(reduceSum(mul(d, d)));
          gradNorms[grp.name] = g.output(norm, gradNormOutput(grp.name));
          d = mul(d, minimum(div(grp.maxNorm, add(norm, 1e-6)), 1)); // g · min(1, maxNorm/(‖g‖ + 1e-6))
        }
        const names = flatMomentNames(grp.name);
        const m = g.input(names.m, [layout.size], dt);
        const v = g.input(names.v, [layout.size], dt);
        flats.push({ group: grp.name, layout, m, v });
        // Per-element lr multiplier a (static multipliers × the run-time gate where one applies) and λ multiplier.
        const n = grp.params.length;
        let a: Coef = segmentValues(
          g,
          layout,
          Array.from({ length: n }, (_, i) => per(grp.lrMult, i)),
          dt,
        );
        const gates = [...new Set((grp.lrScale ?? []).filter((x): x is Tensor => !!x))];
        if (gates.length > 1) throw new Error(`adamw: group ${grp.name} has ${gates.length} different lr gates (one at most)`);
        if (gates.length === 1) {
          // factor = 1 + mask·(gate − 1): the gate on the gated parameters, 1 elsewhere
          const mask = segmentValues(
            g,
            layout,
            Array.from({ length: n }, (_, i) => (grp.lrScale?.[i] ? 1 : 0)),
            dt,
          );
          const gm1 = sc(sub(gates[0], 1));
          a = times(a, typeof mask === 'number' ? add(gm1, 1) : add(mul(mask, gm1), 1));
        }
        const w = segmentValues(
          g,
          layout,
          Array.from({ length: n }, (_, i) => per(grp.wdMult, i)),
          dt,
        );
        const aw = times(a, w);
        const decayed = aw === 0 ? p : mul(p, sub(1, times(sc(mul(lr, wd)), aw))); // p·(1 − lr·λ·a·w)
        const m1 = add(mul(m, b1), mul(d, 1 - b1)); // β₁m + (1 − β₁)g
        const v1 = add(mul(v, b2), mul(mul(d, d), 1 - b2)); // β₂v + (1 − β₂)g²
        const denom = add(div(sqrt(v1), sc(sqrt(bc2))), eps); // √v/√(1 − β₂ᵗ) + ε
        const p1 = sub(decayed, mul(times(sc(div(lr, bc1)), a) as Tensor, div(m1, denom)));
        const kept = keep(p1, p);
        if (grp.flat) stateMap[g.output(kept, `next/${p.name}`).name] = p.name;
        else
          flatViews(kept, layout).forEach((view, i) => {
            const name = grp.params[i].name;
            stateMap[g.output(view, `next/${name}`).name] = name;
          });
        stateMap[g.output(keep(m1, m), `next/${m.name}`).name] = m.name;
        stateMap[g.output(keep(v1, v), `next/${v.name}`).name] = v.name;
      });
    }
  });
  const stateNames = [step.name, ...flats.flatMap((f) => [f.m.name, f.v.name])];
  return {
    step,
    lr,
    wd,
    stateMap,
    gradNorms,
    stateNames,
    finite,
    initialState: () => {
      const s: Record<string, HostTensor> = { [step.name]: hostTensor('float32', [], [0]) };
      for (const f of flats) for (const x of [f.m, f.v]) s[x.name] = hostTensor(x.dtype, x.shape);
      return s;
    },
    perTensor: (state) => {
      const out = new Map<string, HostTensor>();
      const st = state.get(step.name);
      if (st) out.set(step.name, st);
      for (const f of flats) {
        for (const k of ['m', 'v'] as const) {
          const flat = state.get(f[k].name);
          if (!flat) continue;
          for (const [name, t] of unpackFlat(f.layout, flat)) out.set(momentNames(name)[k], t); // layout names: the parameters'
        }
      }
      return out;
    },
    fromPerTensor: (perTensor) => {
      const out = new Map<string, HostTensor>();
      const st = perTensor.get(step.name);
      if (!st) throw new DinoscopeError('CORRUPT', `Optimizer state has no ${step.name}.`);
      out.set(step.name, st);
      for (const f of flats) {
        for (const k of ['m', 'v'] as const) {
          try {
            out.set(
              f[k].name,
              packFlat(f.layout, (name) => perTensor.get(momentNames(name)[k])),
            );
          } catch (e) {
            throw new DinoscopeError('CORRUPT', `Optimizer state (${k === 'm' ? 'first' : 'second'} moments): ${(e as Error).message}.`);
          }
        }
      }
      return out;
    },
  };
}

/**
 * EMA of the student into the teacher (DINO's momentum teacher): teacher ← μ·teacher + (1 − μ)·student,
 * with μ a scalar graph input named `name`. Outputs `next/<teacher name>`; returns output → input names.
 */
export function ema(teacher: Tensor[], student: Tensor[], name = 'ema/momentum'): { momentum: Tensor; stateMap: Record<string, string> } {
  if (teacher.length !== student.length || teacher.length === 0)
    throw new Error(`ema: ${teacher.length} teacher and ${student.length} student tensors`);
  const g = graphOf(teacher[0]);
  const mu = g.input(name, [], 'float32', 'EMA momentum');
  const stateMap: Record<string, string> = {};
  g.scope('ema', () => {
    teacher.forEach((t, i) => {
      const s = student[i];
      if (t.shape.join() !== s.shape.join()) throw new Error(`ema: ${t} and ${s} differ in shape`);
      const m = cast(mu, t.dtype);
      const next = add(mul(t, m), mul(s, sub(1, m))); // μ·teacher + (1 − μ)·student
      stateMap[g.output(next, `next/${t.name}`).name] = t.name;
    });
  });
  return { momentum: mu, stateMap };
}
