// AdamW as it ran before flat buffers (optim.ts): one chain of elementwise nodes per parameter tensor, the
// moments per tensor (`adam_m/<param>`). Kept as the test oracle of the flat form (same formula, same
// clipping; optim.test.ts and core/train/flat-step.test.ts compare them) and for the kernel-count bench.
import { type Graph } from './graph.js';
import {
  type AdamWOptions,
  type AdamWStep,
  ADAMW_INPUTS,
  type ParamGroup,
  clipByGlobalNorm,
  gradNormOutput,
  momentNames,
  per,
} from './optim.js';
import { add, cast, div, mul, pow, sqrt, sub } from './ops/elementwise.js';
import { type HostTensor, type Tensor, hostTensor } from './tensor.js';

/** One AdamW step for all groups, one chain of elementwise nodes per parameter tensor (the form `adamw` replaced). */
export function adamwPerTensor(g: Graph, groups: ParamGroup[], o: AdamWOptions = {}): AdamWStep {
  const b1 = o.beta1 ?? 0.9;
  const b2 = o.beta2 ?? 0.999;
  const eps = o.eps ?? 1e-8;
  const step = g.input(ADAMW_INPUTS.step, [], 'float32', 'AdamW steps taken so far');
  const lr = g.input(ADAMW_INPUTS.lr, [], 'float32', 'learning rate');
  const wd = g.input(ADAMW_INPUTS.wd, [], 'float32', 'weight decay');
  const stateMap: Record<string, string> = {};
  const gradNorms: Record<string, Tensor> = {};
  const moments: Tensor[] = [];
  g.scope('optim', () => {
    const t = add(step, 1); // t ← t + 1
    stateMap[g.output(t, 'next/optim/step').name] = step.name;
    const bc1 = sub(1, pow(g.scalar(b1), t)); // 1 − β₁ᵗ
    const bc2 = sub(1, pow(g.scalar(b2), t)); // 1 − β₂ᵗ
    for (const grp of groups) {
      if (grp.params.length !== grp.grads.length)
        throw new Error(`adamw: group ${grp.name} has ${grp.params.length} params and ${grp.grads.length} grads`);
      let grads = grp.grads;
      if (grp.maxNorm !== undefined) {
        const c = g.scope(`clip_${grp.name}`, () => clipByGlobalNorm(grads, grp.maxNorm as number));
        grads = c.grads;
        gradNorms[grp.name] = g.output(c.norm, gradNormOutput(grp.name));
      }
      grp.params.forEach((p, i) => {
        const dt = p.dtype;
        const sc = (x: Tensor): Tensor => cast(x, dt);
        const names = momentNames(p.name);
        const m = g.input(names.m, p.shape, dt);
        const v = g.input(names.v, p.shape, dt);
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
        stateMap[g.output(p1, `next/${p.name}`).name] = p.name;
        stateMap[g.output(m1, `next/${m.name}`).name] = m.name;
        stateMap[g.output(v1, `next/${v.name}`).name] = v.name;
      });
    }
  });
  const copy = (state: ReadonlyMap<string, HostTensor>): Map<string, HostTensor> => new Map(state);
  return {
    step,
    lr,
    wd,
    stateMap,
    gradNorms,
    stateNames: [step.name, ...moments.map((m) => m.name)],
    perTensor: copy,
    fromPerTensor: copy,
    initialState: () => {
      const s: Record<string, HostTensor> = { [step.name]: hostTensor('float32', [], [0]) };
      for (const m of moments) s[m.name] = hostTensor(m.dtype, m.shape);
      return s;
    },
  };
}
