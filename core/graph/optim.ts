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
import { allFinite } from './amp.js';
import { type Graph, graphOf } from './graph.js';
import { add, cast, div, minimum, mul, pow, reciprocal, sqrt, sub, where } from './ops/elementwise.js';
import { reduceSum } from './ops/reduce.js';
import { type HostTensor, type Tensor, hostTensor } from './tensor.js';

export interface ParamGroup {
  /** Names the group's gradient-norm output: `optim/grad_norm/<name>`. */
  name: string;
  params: Tensor[];
  grads: Tensor[];
  /** Multiplies the lr input (one number for the group, or one per parameter). Default 1. */
  lrMult?: number | number[];
  /** Per parameter, an optional graph scalar (float32) that also multiplies its lr at run time (e.g. a last-layer freeze gate). */
  lrScale?: (Tensor | null)[];
  /** Multiplies the weight-decay input (one number for the group, or one per parameter). Default 1. */
  wdMult?: number | number[];
  /** Clip the group's gradients to this global L2 norm (torch.nn.utils.clip_grad_norm_). */
  maxNorm?: number;
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
  /** Zero moments and step 0 for every state input except the parameters themselves. */
  initialState(): Record<string, HostTensor>;
  /** With `lossScale`: a bool scalar, true when every gradient was finite and the update was applied. */
  finite?: Tensor;
}

/** The scalar inputs `adamw` declares (callers feed lr and wd each step; the step count is state). */
export const ADAMW_INPUTS = { step: 'optim/step', lr: 'optim/lr', wd: 'optim/wd' } as const;

/** The output `adamw` names a group's pre-clipping gradient norm. */
export const gradNormOutput = (group: string): string => `optim/grad_norm/${group}`;

const per = (v: number | number[] | undefined, i: number): number => (v === undefined ? 1 : typeof v === 'number' ? v : v[i]);

/**
 * Global-norm clipping: g ← g · min(1, maxNorm / (‖g‖ + 1e-6)) with ‖g‖ over all the group's gradients.
 * Returns the clipped gradients and the pre-clipping norm.
 */
export function clipByGlobalNorm(grads: Tensor[], maxNorm: number): { grads: Tensor[]; norm: Tensor } {
  const sq = grads.map((d) => reduceSum(mul(d, d))); // scalars
  const norm = sqrt(sq.reduce((a, b) => add(a, b)));
  const scale = minimum(div(maxNorm, add(norm, 1e-6)), 1);
  return { grads: grads.map((d) => mul(d, scale)), norm };
}

/** Adds one AdamW step for all groups to `g` (inputs, update nodes and outputs). */
export function adamw(g: Graph, groups: ParamGroup[], o: AdamWOptions = {}): AdamWStep {
  const b1 = o.beta1 ?? 0.9;
  const b2 = o.beta2 ?? 0.999;
  const eps = o.eps ?? 1e-8;
  const step = g.input(ADAMW_INPUTS.step, [], 'float32', 'AdamW steps taken so far');
  const lr = g.input(ADAMW_INPUTS.lr, [], 'float32', 'learning rate');
  const wd = g.input(ADAMW_INPUTS.wd, [], 'float32', 'weight decay');
  const stateMap: Record<string, string> = {};
  const gradNorms: Record<string, Tensor> = {};
  const moments: Tensor[] = [];
  let finite: Tensor | undefined;
  g.scope('optim', () => {
    // Mixed precision (lossScale): the gradients divided by the scale before clipping, and a step with a
    // non-finite gradient keeps every state value (Where on the all-finite flag; optimize's CSE merges the
    // two unscalings of each gradient).
    const inv = o.lossScale ? reciprocal(o.lossScale) : null;
    const unscale = (d: Tensor): Tensor => (inv ? mul(d, cast(inv, d.dtype)) : d); // g / S
    finite = inv ? allFinite(groups.flatMap((grp) => grp.grads.map(unscale))) : undefined;
    const keep = (next: Tensor, prev: Tensor): Tensor => (finite ? where(finite, next, prev) : next);
    const t = keep(add(step, 1), step); // t ← t + 1
    stateMap[g.output(t, 'next/optim/step').name] = step.name;
    const bc1 = sub(1, pow(g.scalar(b1), t)); // 1 − β₁ᵗ
    const bc2 = sub(1, pow(g.scalar(b2), t)); // 1 − β₂ᵗ
    for (const grp of groups) {
      if (grp.params.length !== grp.grads.length)
        throw new Error(`adamw: group ${grp.name} has ${grp.params.length} params and ${grp.grads.length} grads`);
      let grads = grp.grads.map(unscale);
      if (grp.maxNorm !== undefined) {
        const c = g.scope(`clip_${grp.name}`, () => clipByGlobalNorm(grads, grp.maxNorm as number));
        grads = c.grads;
        gradNorms[grp.name] = g.output(c.norm, gradNormOutput(grp.name));
      }
      grp.params.forEach((p, i) => {
        const dt = p.dtype;
        const sc = (x: Tensor): Tensor => cast(x, dt);
        const m = g.input(`adam_m/${p.name}`, p.shape, dt);
        const v = g.input(`adam_v/${p.name}`, p.shape, dt);
        moments.push(m, v);
        const d = grads[i];
        const gate = grp.lrScale?.[i];
        const lrP = gate ? mul(mul(lr, gate), per(grp.lrMult, i)) : mul(lr, per(grp.lrMult, i)); // per-parameter lr
        const wdP = per(grp.wdMult, i);
        const decayed = wdP === 0 ? p : mul(p, sc(sub(1, mul(mul(lrP, wd), wdP)))); // p·(1 − lr·λ)
        const m1 = add(mul(m, b1), mul(d, 1 - b1)); // β₁m + (1 − β₁)g
        const v1 = add(mul(v, b2), mul(mul(d, d), 1 - b2)); // β₂v + (1 − β₂)g²
        const denom = add(div(sqrt(v1), sc(sqrt(bc2))), eps); // √v/√(1 − β₂ᵗ) + ε
        const p1 = sub(decayed, mul(sc(div(lrP, bc1)), div(m1, denom)));
        stateMap[g.output(keep(p1, p), `next/${p.name}`).name] = p.name;
        stateMap[g.output(keep(m1, m), `next/${m.name}`).name] = m.name;
        stateMap[g.output(keep(v1, v), `next/${v.name}`).name] = v.name;
      });
    }
  });
  return {
    step,
    lr,
    wd,
    stateMap,
    gradNorms,
    finite,
    initialState: () => {
      const s: Record<string, HostTensor> = { [step.name]: hostTensor('float32', [], [0]) };
      for (const m of moments) s[m.name] = hostTensor(m.dtype, m.shape);
      return s;
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
