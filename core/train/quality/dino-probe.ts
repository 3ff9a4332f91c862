// A diagnostic of the DINO CLS objective (why it does or does not learn): given the trainer's state before a
// step and that step's batch, runs the teacher graph with the teacher's and with the student's parameters on
// the unmasked global crops and reports
//   logitSpread    mean over prototypes of the std over the 2B crops of the teacher's pre-centering CLS logits
//   clsSpread      mean over dims of the std over the 2B crops of the teacher's backbone CLS (final-normed),
//                  and clsSpreadRel = clsSpread / RMS of the CLS entries (how much of the CLS is per-sample)
//   centerNorm     ‖c‖ of the DINO centre fed to the step
//   teacherEntropy mean entropy of the teacher targets (nats), studentEntropy of softmax(z_s / τ_s) (globals)
// The head runs here in float64 JS on the graph's CLS output (a second implementation of heads.ts).
import { serialize } from '../../graph/onnx.js';
import { optimize } from '../../graph/optimize.js';
import { type RuntimeOptions, Session } from '../../graph/runtime.js';
import { type HostTensor, hostTensor } from '../../graph/tensor.js';
import { type ViTConfig, patchGrid } from '../../model/config.js';
import { maskUpperBound } from '../../data/train/masking.js';
import { type TrainConfig, centering } from '../config.js';
import { type TrainBatch } from '../../data/train/batch.js';
import { type HeadConfig } from '../heads.js';
import { type HeadName, modelLayouts, packModel } from '../model.js';
import { scalarOf } from '../graph-io.js';
import { meanRowEntropy } from '../signals.js';
import { TEACHER_IO, type TeacherOutputs, buildTeacherGraph } from '../teacher.js';

export interface DinoProbe {
  logitSpread: number;
  clsSpread: number;
  clsSpreadRel: number;
  centerNorm: number;
  teacherEntropy: number;
  /** Entropy of the batch-mean teacher target: ≈ teacherEntropy when every crop gets the same target (collapse). */
  meanTargetEntropy: number;
  studentEntropy: number;
  /** Fraction of samples whose two global crops get the same argmax teacher prototype (chance ≈ 1/K). */
  viewAgreement: number;
  /** Mean over crops of the student's largest DINO logit before τ_s: its best cosine to a prototype (× weight_g). */
  studentTopLogit: number;
  /** iBOT: mean entropy of the teacher's targets at the masked patches, and of their mean (patch-level collapse:
   * both near 0, one prototype for every patch). */
  ibotEntropy: number;
  ibotMeanTargetEntropy: number;
}

export interface ProbeState {
  student: Map<string, HostTensor>;
  teacher: Map<string, HostTensor>;
  centers: { dino: HostTensor; ibot: HostTensor } | null;
}

/** erf by Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7): all the probe needs. */
function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}

const gelu = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));

/** x (R, I) · W (I, O) + b (O) in float64; W in graph layout (in, out). */
function linear(x: Float64Array, R: number, I: number, w: HostTensor, b: HostTensor | null): Float64Array {
  const O = w.dims[1];
  const W = w.data as Float32Array;
  const out = new Float64Array(R * O);
  for (let r = 0; r < R; r++) {
    for (let i = 0; i < I; i++) {
      const v = x[r * I + i];
      if (v === 0) continue;
      for (let o = 0; o < O; o++) out[r * O + o] += v * W[i * O + o];
    }
    if (b) for (let o = 0; o < O; o++) out[r * O + o] += (b.data as Float32Array)[o];
  }
  return out;
}

/** The DINO head's parameter scope (a HeadName, so the compiler checks it). */
const DINO_HEAD: HeadName = 'dino_head';

/** The DINO head of `params` on cls (R, D) → logits (R, K), float64. */
export function headLogits(
  params: Map<string, HostTensor>,
  head: HeadConfig,
  cls: Float32Array,
  R: number,
  D: number,
  prefix = `${DINO_HEAD}/`,
): Float64Array {
  const P = (n: string): HostTensor => {
    const t = params.get(prefix + n);
    if (!t) throw new Error(`headLogits: no ${prefix}${n}`);
    return t;
  };
  let y = linear(Float64Array.from(cls), R, D, P('mlp.0.weight'), P('mlp.0.bias')).map(gelu); // (R, hidden)
  y = linear(y, R, head.hidden, P('mlp.2.weight'), P('mlp.2.bias')).map(gelu); // (R, hidden)
  const z = linear(y, R, head.hidden, P('mlp.4.weight'), P('mlp.4.bias')); // (R, bottleneck)
  const E = head.bottleneck;
  for (let r = 0; r < R; r++) {
    let n = 0;
    for (let e = 0; e < E; e++) n += z[r * E + e] ** 2;
    const s = 1 / Math.max(Math.sqrt(n), 1e-12);
    for (let e = 0; e < E; e++) z[r * E + e] *= s; // unit rows
  }
  const K = head.prototypes;
  let w: HostTensor; // (E, K)
  if (head.lastLayer === 'weight-norm') {
    const v = P('last_layer.weight_v').data as Float32Array; // (E, K)
    const g = P('last_layer.weight_g').data as Float32Array; // (1, K)
    const wd = new Float32Array(E * K);
    for (let k = 0; k < K; k++) {
      let n = 0;
      for (let e = 0; e < E; e++) n += v[e * K + k] ** 2;
      const s = g[k] / Math.sqrt(n);
      for (let e = 0; e < E; e++) wd[e * K + k] = v[e * K + k] * s;
    }
    w = hostTensor('float32', [E, K], wd);
  } else w = P('last_layer.weight');
  return linear(z, R, E, w, null); // (R, K)
}

/** Mean over columns of the std over rows of x (R, C). */
export function columnSpread(x: ArrayLike<number>, R: number, C: number): number {
  let acc = 0;
  for (let c = 0; c < C; c++) {
    let m = 0;
    for (let r = 0; r < R; r++) m += x[r * C + c];
    m /= R;
    let v = 0;
    for (let r = 0; r < R; r++) v += (x[r * C + c] - m) ** 2;
    acc += Math.sqrt(v / R);
  }
  return acc / C;
}

/** Mean entropy (nats) of softmax(z / τ) over the rows of z (R, K); with `center`, of softmax((z − c) / τ). */
export function softmaxEntropy(z: Float64Array, R: number, K: number, temp: number, center?: Float32Array): number {
  let acc = 0;
  const row = new Float64Array(K);
  for (let r = 0; r < R; r++) {
    let mx = -Infinity;
    for (let k = 0; k < K; k++) {
      row[k] = (z[r * K + k] - (center ? center[k] : 0)) / temp;
      mx = Math.max(mx, row[k]);
    }
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(row[k] - mx);
    const lse = mx + Math.log(s);
    let h = 0;
    for (let k = 0; k < K; k++) {
      const lp = row[k] - lse;
      h -= Math.exp(lp) * lp;
    }
    acc += h;
  }
  return acc / R;
}

/** Fraction of the B samples whose crop-1 and crop-2 rows of p (2B, K), crop outer, share their argmax. */
export function viewAgreement(p: Float32Array, B: number, K: number): number {
  const arg = (r: number): number => {
    let best = 0;
    for (let k = 1; k < K; k++) if (p[r * K + k] > p[r * K + best]) best = k;
    return best;
  };
  let same = 0;
  for (let b = 0; b < B; b++) if (arg(b) === arg(B + b)) same++;
  return same / B;
}

/** Mean entropy of the iBOT target rows in use (weight > 0) and the entropy of their mean. */
function ibotEntropies(p: Float32Array, weights: ArrayLike<number>, K: number): { ibotEntropy: number; ibotMeanTargetEntropy: number } {
  const rows: number[] = [];
  for (let u = 0; u < weights.length; u++) if (weights[u] > 0) rows.push(u);
  if (!rows.length) return { ibotEntropy: NaN, ibotMeanTargetEntropy: NaN };
  const used = new Float32Array(rows.length * K);
  rows.forEach((u, i) => used.set(p.subarray(u * K, (u + 1) * K), i * K));
  let h = 0;
  for (let i = 0; i < rows.length; i++)
    for (let k = 0; k < K; k++) {
      const q = used[i * K + k];
      if (q > 0) h -= q * Math.log(q);
    }
  return { ibotEntropy: h / rows.length, ibotMeanTargetEntropy: meanRowEntropy(used, rows.length, K) };
}

/** Mean over the rows of z (R, K) of the row's largest entry. */
export function meanRowMax(z: Float64Array, R: number, K: number): number {
  let acc = 0;
  for (let r = 0; r < R; r++) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, z[r * K + k]);
    acc += m;
  }
  return acc / R;
}

/** Runs the teacher graph (the trainer's own, one size) for probing: one session, fed teacher or student parameters. */
export class DinoProber {
  private constructor(
    private readonly session: Session,
    private readonly vit: ViTConfig,
    private readonly head: HeadConfig,
    private readonly batch: number,
    private readonly globalSize: number,
    private readonly maskSlots: number,
    private readonly centeringKind: 'ema' | 'sinkhorn',
  ) {}

  static async create(o: {
    vit: ViTConfig;
    head: HeadConfig;
    batch: number;
    globalSize: number;
    maskSlots: number;
    centering: 'ema' | 'sinkhorn';
    runtime?: RuntimeOptions;
  }): Promise<DinoProber> {
    const g = buildTeacherGraph({
      vit: o.vit,
      head: o.head,
      batch: o.batch,
      globalSize: o.globalSize,
      maskSlots: o.maskSlots,
      centering: o.centering,
      centerMomentum: 0.9,
      sinkhornIterations: 3,
    });
    optimize(g);
    const s = await Session.create(serialize(g), o.runtime ?? {});
    return new DinoProber(s, o.vit, o.head, o.batch, o.globalSize, o.maskSlots, o.centering);
  }

  /** The prober of a training run: its batch, global crop size, mask slots and centering from its config. */
  static forRun(cfg: TrainConfig, vit: ViTConfig, head: HeadConfig, runtime?: RuntimeOptions): Promise<DinoProber> {
    const { h, w } = patchGrid(vit, cfg.crops.globalSize, cfg.crops.globalSize);
    const maskSlots = maskUpperBound(2 * cfg.batchSize, {
      gridH: h,
      gridW: w,
      maskProbability: cfg.masking.maskProbability,
      ratio: cfg.masking.ratio,
    });
    return DinoProber.create({
      vit,
      head,
      batch: cfg.batchSize,
      globalSize: cfg.crops.globalSize,
      maskSlots,
      centering: centering(cfg, vit),
      runtime,
    });
  }

  private async run(
    params: Map<string, HostTensor>,
    batch: TrainBatch,
    teacherTemp: number,
    centers: ProbeState['centers'],
  ): Promise<TeacherOutputs> {
    const B = this.batch;
    const G = this.globalSize;
    const K = this.head.prototypes;
    const feeds = TEACHER_IO.feeds({
      global: hostTensor('float32', [2 * B, 3, G, G], batch.crops.global),
      ibotIndices: hostTensor(
        'int64',
        [this.maskSlots],
        BigInt64Array.from(batch.masks.indices, (x) => BigInt(x)),
      ),
      ibotWeights: hostTensor('float32', [this.maskSlots], batch.masks.weights),
      temp: hostTensor('float32', [], [teacherTemp]),
      ...(this.centeringKind === 'ema'
        ? { centerDino: centers?.dino ?? hostTensor('float32', [1, K]), centerIbot: centers?.ibot ?? hostTensor('float32', [1, K]) }
        : {}),
    });
    const flat = packModel(modelLayouts(this.vit, this.head), params); // the teacher graph takes flat buffers (model.ts)
    for (const n of this.session.inputNames) if (!(n in feeds)) feeds[n] = flat.get(n) ?? hostTensor('float32', [0]);
    return TEACHER_IO.read(await this.session.run(feeds));
  }

  /** The probe of the step about to run on `batch` from `state` (taken before the step). */
  async probe(state: ProbeState, batch: TrainBatch, teacherTemp: number, studentTemp: number): Promise<DinoProbe> {
    const R = 2 * this.batch;
    const D = this.vit.dim;
    const K = this.head.prototypes;
    const t = await this.run(state.teacher, batch, teacherTemp, state.centers);
    const tCls = t.cls.data as Float32Array; // (2B, D)
    const zT = headLogits(state.teacher, this.head, tCls, R, D); // (2B, K)
    const s = await this.run(state.student, batch, teacherTemp, state.centers);
    const zS = headLogits(state.student, this.head, s.cls.data as Float32Array, R, D); // (2B, K)
    let ms = 0;
    for (const v of tCls) ms += v * v;
    const clsSpread = columnSpread(tCls, R, D);
    const c = state.centers?.dino.data as Float32Array | undefined;
    let cn = 0;
    if (c) for (const v of c) cn += v * v;
    return {
      logitSpread: columnSpread(zT, R, K),
      clsSpread,
      clsSpreadRel: clsSpread / Math.sqrt(ms / tCls.length),
      centerNorm: Math.sqrt(cn),
      teacherEntropy: scalarOf(t.entropy),
      meanTargetEntropy: meanRowEntropy(t.targetsDino.data as Float32Array, R, K),
      studentEntropy: softmaxEntropy(zS, R, K, studentTemp),
      viewAgreement: viewAgreement(t.targetsDino.data as Float32Array, this.batch, K),
      studentTopLogit: meanRowMax(zS, R, K),
      ...ibotEntropies(t.targetsIbot.data as Float32Array, batch.masks.weights, K),
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
