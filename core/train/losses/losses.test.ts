// The DINO, iBOT and KoLeo losses and the teacher targets against plain float64 references on tiny inputs,
// and float64 finite-difference checks of the losses' gradients through our autodiff and onnxruntime.
import { describe, expect, it } from 'vitest';
import { grad } from '../../graph/autodiff.js';
import { Graph } from '../../graph/graph.js';
import { serialize } from '../../graph/onnx.js';
import { Session } from '../../graph/runtime.js';
import { type HostTensor, type Tensor, hostTensor } from '../../graph/tensor.js';
import { mulberry32 } from '../../common/random.js';
import { dinoLoss } from './dino.js';
import { ibotLoss } from './ibot.js';
import { koleoLoss } from './koleo.js';
import { centeredSoftmax, sinkhornKnopp, updateCenter } from './targets.js';

const rand = (n: number, seed: number, scale = 1): number[] => {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => (2 * r() - 1) * scale);
};
const f64 = (dims: number[], data: number[]): HostTensor => hostTensor('float64', dims, data);
const num = (t: HostTensor): number[] => Array.from(t.data as Float64Array);

function lsm(row: number[], temp: number): number[] {
  const z = row.map((v) => v / temp);
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
}
function softmaxRow(row: number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
const rows = (a: number[], K: number): number[][] => Array.from({ length: a.length / K }, (_, i) => a.slice(i * K, (i + 1) * K));
const ce = (t: number[], s: number[], temp: number): number => -lsm(s, temp).reduce((acc, v, k) => acc + t[k] * v, 0);

async function run(g: Graph, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
  const s = await Session.create(serialize(g));
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

/** Central differences of the scalar output 'loss' w.r.t. input `name`, against the graph's 'grad' output. */
async function fdCheck(g: Graph, feeds: Record<string, HostTensor>, name: string, tol: number): Promise<void> {
  const s = await Session.create(serialize(g));
  const base = await s.run(feeds);
  const analytic = num(base.grad);
  const x = num(feeds[name]);
  const h = 1e-6;
  for (let i = 0; i < x.length; i++) {
    const at = async (d: number): Promise<number> => {
      const y = [...x];
      y[i] += d;
      const r = await s.run({ ...feeds, [name]: f64(feeds[name].dims, y) }, ['loss']);
      return num(r.loss)[0];
    };
    const fd = ((await at(h)) - (await at(-h))) / (2 * h);
    expect(Math.abs(fd - analytic[i]), `d loss / d ${name}[${i}]: fd ${fd} vs ${analytic[i]}`).toBeLessThan(
      tol * Math.max(1, Math.abs(fd)),
    );
  }
  await s.release();
}

describe('DINO loss', () => {
  const B = 2;
  const K = 5;
  const nL = 2;
  const sg = rand(2 * B * K, 1, 3);
  const sl = rand(nL * B * K, 2, 3);
  const teacher = rows(rand(2 * B * K, 3, 2), K).flatMap(softmaxRow);

  function build(): { g: Graph; x: Tensor; loss: Tensor; pairs: number } {
    const g = new Graph('dino');
    const x = g.input('sg', [2 * B, K], 'float64');
    const l = g.input('sl', [nL * B, K], 'float64');
    const t = g.input('t', [2 * B, K], 'float64');
    const { loss, pairs } = dinoLoss({ studentGlobal: x, studentLocal: l, teacher: t, studentTemp: 0.1 });
    g.output(loss, 'loss');
    return { g, x, loss, pairs };
  }

  it('averages CE over the 2 cross-global and 2·nLocal local pairs, same-view pairs excluded', async () => {
    const { g, pairs } = build();
    expect(pairs).toBe(2 + 2 * nL);
    const out = await run(g, { sg: f64([2 * B, K], sg), sl: f64([nL * B, K], sl), t: f64([2 * B, K], teacher) });
    const T = rows(teacher, K);
    const S = rows(sg, K);
    const L = rows(sl, K);
    let total = 0;
    // teacher crop c vs student crop c' (c ≠ c' for globals), mean over the batch
    for (let c = 0; c < 2; c++) {
      let pair = 0;
      for (let b = 0; b < B; b++) pair += ce(T[(1 - c) * B + b], S[c * B + b], 0.1) / B;
      total += pair;
    }
    for (let j = 0; j < nL; j++) {
      for (let c = 0; c < 2; c++) {
        let pair = 0;
        for (let b = 0; b < B; b++) pair += ce(T[c * B + b], L[j * B + b], 0.1) / B;
        total += pair;
      }
    }
    expect(num(out.loss)[0]).toBeCloseTo(total / pairs, 12);
  });

  it('float64 gradient matches finite differences', async () => {
    const { g, x, loss } = build();
    g.output(grad(loss, [x])[0], 'grad');
    await fdCheck(g, { sg: f64([2 * B, K], sg), sl: f64([nL * B, K], sl), t: f64([2 * B, K], teacher) }, 'sg', 1e-6);
  });
});

describe('iBOT loss', () => {
  const U = 6;
  const K = 4;
  const images = 4;
  const s = rand(U * K, 4, 3);
  const t = rows(rand(U * K, 5, 2), K).flatMap(softmaxRow);
  // image 0 has 3 masked patches, image 2 has 2, images 1 and 3 none; the last slot is padding
  const w = [1 / 3, 1 / 3, 1 / 3, 1 / 2, 1 / 2, 0];

  function build(): { g: Graph; x: Tensor; loss: Tensor } {
    const g = new Graph('ibot');
    const x = g.input('s', [U, K], 'float64');
    const loss = ibotLoss({
      student: x,
      teacher: g.input('t', [U, K], 'float64'),
      weights: g.input('w', [U], 'float64'),
      images,
      studentTemp: 0.1,
    });
    g.output(loss, 'loss');
    return { g, x, loss };
  }
  const feeds = (): Record<string, HostTensor> => ({ s: f64([U, K], s), t: f64([U, K], t), w: f64([U], w) });

  it('is the per-image mean over masked patches, summed and divided by ALL global-crop images', async () => {
    const out = await run(build().g, feeds());
    const S = rows(s, K);
    const T = rows(t, K);
    const img0 = (ce(T[0], S[0], 0.1) + ce(T[1], S[1], 0.1) + ce(T[2], S[2], 0.1)) / 3;
    const img2 = (ce(T[3], S[3], 0.1) + ce(T[4], S[4], 0.1)) / 2;
    expect(num(out.loss)[0]).toBeCloseTo((img0 + img2) / images, 12);
  });

  it('float64 gradient matches finite differences', async () => {
    const { g, x, loss } = build();
    g.output(grad(loss, [x])[0], 'grad');
    await fdCheck(g, feeds(), 's', 1e-6);
  });
});

describe('KoLeo loss', () => {
  const B = 5;
  const D = 3;
  const xs = rand(B * D, 6, 1);

  function build(): { g: Graph; x: Tensor; loss: Tensor } {
    const g = new Graph('koleo');
    const x = g.input('x', [B, D], 'float64');
    const loss = koleoLoss(g, x);
    g.output(loss, 'loss');
    return { g, x, loss };
  }

  it('is −mean log distance to the nearest neighbour (cosine argmax) of the normalised features', async () => {
    const out = await run(build().g, { x: f64([B, D], xs) });
    const X = rows(xs, D).map((r) => {
      const n = Math.max(Math.hypot(...r), 1e-8);
      return r.map((v) => v / n);
    });
    let acc = 0;
    for (let i = 0; i < B; i++) {
      let best = -1;
      let bestDot = -Infinity;
      for (let j = 0; j < B; j++) {
        if (j === i) continue;
        const d = X[i].reduce((s, v, k) => s + v * X[j][k], 0);
        if (d > bestDot) [best, bestDot] = [j, d];
      }
      const dist = Math.hypot(...X[i].map((v, k) => v - X[best][k] + 1e-8));
      acc += Math.log(dist + 1e-8);
    }
    expect(num(out.loss)[0]).toBeCloseTo(-acc / B, 12);
  });

  it('float64 gradient (through the chosen pair) matches finite differences', async () => {
    const { g, x, loss } = build();
    g.output(grad(loss, [x])[0], 'grad');
    await fdCheck(g, { x: f64([B, D], xs) }, 'x', 1e-6);
  });
});

describe('teacher targets', () => {
  it('EMA centering: softmax((z − c)/τ) with the previous center; c ← 0.9c + 0.1·mean(z)', async () => {
    const R = 3;
    const K = 4;
    const z = rand(R * K, 7, 1);
    const c = rand(K, 8, 0.3);
    const g = new Graph('center');
    const zi = g.input('z', [R, K], 'float64');
    const ci = g.input('c', [1, K], 'float64');
    const v = g.input('v', [R], 'float64');
    g.output(centeredSoftmax(zi, ci, g.input('tau', [], 'float64')), 'p');
    g.output(updateCenter(zi, ci, 0.9), 'next');
    g.output(updateCenter(zi, ci, 0.9, v), 'nextMasked');
    const out = await run(g, { z: f64([R, K], z), c: f64([1, K], c), tau: f64([], [0.04]), v: f64([R], [1, 0, 1]) });
    const Z = rows(z, K);
    const p = Z.flatMap((r) => softmaxRow(r.map((x, k) => (x - c[k]) / 0.04)));
    num(out.p).forEach((x, i) => expect(x).toBeCloseTo(p[i], 12));
    num(out.next).forEach((x, k) => expect(x).toBeCloseTo(0.9 * c[k] + (0.1 * (Z[0][k] + Z[1][k] + Z[2][k])) / 3, 12));
    num(out.nextMasked).forEach((x, k) => expect(x).toBeCloseTo(0.9 * c[k] + (0.1 * (Z[0][k] + Z[2][k])) / 2, 12));
  });

  /** dinov2's sinkhorn_knopp_teacher in plain float64 on the real rows. */
  function skRef(z: number[][], tau: number, iters: number): number[][] {
    const Bn = z.length;
    const K = z[0].length;
    let Q = Array.from({ length: K }, (_, k) => z.map((r) => Math.exp(r[k] / tau))); // (K, B)
    const tot = Q.flat().reduce((a, b) => a + b, 0);
    Q = Q.map((r) => r.map((v) => v / tot));
    for (let it = 0; it < iters; it++) {
      Q = Q.map((r) => {
        const s = r.reduce((a, b) => a + b, 0);
        return r.map((v) => v / s / K);
      });
      const cols = Array.from({ length: Bn }, (_, b) => Q.reduce((s, r) => s + r[b], 0));
      Q = Q.map((r) => r.map((v, b) => v / cols[b] / Bn));
    }
    return Array.from({ length: Bn }, (_, b) => Q.map((r) => r[b] * Bn)); // (B, K)
  }

  it('Sinkhorn-Knopp (3 iterations) matches the reference; rows sum to 1, prototypes converge to equal mass; padding rows are 0', async () => {
    const R = 6;
    const K = 4;
    const z = rand(R * K, 9, 1);
    const g = new Graph('sk');
    const zi = g.input('z', [R, K], 'float64');
    const tau = g.input('tau', [], 'float64');
    g.output(sinkhornKnopp(zi, tau, 3), 'q');
    g.output(sinkhornKnopp(zi, tau, 3, g.input('v', [R], 'float64')), 'qMasked');
    g.output(sinkhornKnopp(zi, tau, 50), 'q50');
    const valid = [1, 1, 0, 1, 1, 0];
    const out = await run(g, { z: f64([R, K], z), tau: f64([], [0.05]), v: f64([R], valid) });
    const Z = rows(z, K);
    const ref = skRef(Z, 0.05, 3);
    const q = rows(num(out.q), K);
    q.forEach((r, b) => r.forEach((v, k) => expect(v).toBeCloseTo(ref[b][k], 10)));
    for (const r of q) expect(r.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12); // last step normalises rows exactly
    // Many iterations converge to the doubly-stochastic scaling: every prototype gets mass R/K.
    const q50 = rows(num(out.q50), K);
    for (let k = 0; k < K; k++) expect(q50.reduce((s, r) => s + r[k], 0)).toBeCloseTo(R / K, 2); // (3 iterations leave 0.6 off at τ 0.05)
    const refM = skRef(
      Z.filter((_, i) => valid[i]),
      0.05,
      3,
    );
    const qm = rows(num(out.qMasked), K);
    let j = 0;
    qm.forEach((r, i) => {
      if (valid[i]) {
        const rr = refM[j++];
        r.forEach((v, k) => expect(v).toBeCloseTo(rr[k], 10));
      } else r.forEach((v) => expect(v).toBe(0));
    });
  });
});
