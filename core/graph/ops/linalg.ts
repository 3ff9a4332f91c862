// Matrix products: batched, broadcasting MatMul; 2-D Gemm; patch embedding as reshape + MatMul.
import { graphOf } from '../graph.js';
import { broadcastShapes } from '../shapes.js';
import { broadcastDims, dimEq, dimFloorDiv } from '../sym.js';
import { type Tensor, fmtShape } from '../tensor.js';
import { add } from './elementwise.js';
import { expand, reshape, transpose } from './shape.js';

/** a (…, m, k) @ b (…, k, n) → (…, m, n); batch axes broadcast. Both operands must have rank ≥ 2. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank < 2 || b.rank < 2) throw new Error(`MatMul: operands need rank ≥ 2 (reshape vectors), got ${a} and ${b}`);
  if (a.dtype !== b.dtype) throw new Error(`MatMul: dtypes differ: ${a} and ${b}`);
  if (a.symbolic || b.symbolic) {
    const [m, k] = a.dims.slice(-2);
    const [k2, n] = b.dims.slice(-2);
    if (!dimEq(k, k2)) throw new Error(`MatMul: inner dimensions differ: ${a} @ ${b}`);
    const batch = broadcastDims('MatMul', a.dims.slice(0, -2), b.dims.slice(0, -2));
    return graphOf(a).op('MatMul', [a, b], {}, [...batch, m, n], a.dtype);
  }
  const [m, k] = a.shape.slice(-2);
  const [k2, n] = b.shape.slice(-2);
  if (k !== k2) throw new Error(`MatMul: inner dimensions differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`);
  const batch = broadcastShapes('MatMul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  return graphOf(a).op('MatMul', [a, b], {}, [...batch, m, n], a.dtype);
}

export interface GemmOptions {
  alpha?: number;
  beta?: number;
  transA?: boolean;
  transB?: boolean;
}

/** alpha · op(A) op(B) + beta · C for 2-D A, B; C broadcasts to (m, n). */
export function gemm(a: Tensor, b: Tensor, c: Tensor | null, o: GemmOptions = {}): Tensor {
  if (a.rank !== 2 || b.rank !== 2) throw new Error(`Gemm: needs 2-D operands, got ${a} and ${b}`);
  const [m, k] = o.transA ? [a.dims[1], a.dims[0]] : a.dims;
  const [k2, n] = o.transB ? [b.dims[1], b.dims[0]] : b.dims;
  if (!dimEq(k, k2)) throw new Error(`Gemm: inner dimensions differ: ${a} (transA ${!!o.transA}) and ${b} (transB ${!!o.transB})`);
  if (c) broadcastDims('Gemm', c.dims, [m, n]);
  const attrs = { alpha: { f: o.alpha ?? 1 }, beta: { f: o.beta ?? 1 }, transA: { i: o.transA ? 1 : 0 }, transB: { i: o.transB ? 1 : 0 } };
  return graphOf(a).op('Gemm', c ? [a, b, c] : [a, b], attrs, [m, n], a.dtype);
}

/**
 * Patch embedding as reshape + MatMul (a stride-p, kernel-p convolution without Conv, so float64 and
 * every provider work): images (B, C, H, W) → patches (B, H/p · W/p, C·p·p) → tokens (B, P, D) with
 * weight (C·p·p, D) whose rows are ordered (c, i, j) like a flattened conv kernel (D, C, p, p).
 */
export function patchify(images: Tensor, p: number): Tensor {
  const [B, C, H, W] = images.shape;
  if (images.rank !== 4 || H % p || W % p) throw new Error(`patchify: ${images} is not (B, C, H, W) with H, W divisible by ${p}`);
  const h = H / p;
  const w = W / p;
  const x = reshape(images, [B, C, h, p, w, p]); // (B, C, h, p, w, p)
  const t = transpose(x, [0, 2, 4, 1, 3, 5]); // (B, h, w, C, p, p)
  return reshape(t, [B, h * w, C * p * p]); // (B, P, C·p·p)
}

/** Patch embedding: patchify then a linear map, plus bias. Output (B, P, D). */
export function patchEmbed(images: Tensor, weight: Tensor, bias: Tensor | null, p: number): Tensor {
  const tokens = matmul(patchify(images, p), weight); // (B, P, D)
  return bias ? graphOf(images).op('Add', [tokens, bias], {}, tokens.dims, tokens.dtype) : tokens;
}

/**
 * A stride-p, kernel-p convolution without padding (ONNX Conv; no gradient rule, so inference only):
 * images (B, C, H, W), weight (D, C, p, p), bias (D) → (B, D, ⌊H/p⌋, ⌊W/p⌋). Works on symbolic H and W.
 */
export function convPatches(images: Tensor, weight: Tensor, bias: Tensor | null, p: number): Tensor {
  const [B, C, H, W] = images.dims;
  const [D, C2, kh, kw] = weight.dims;
  if (images.rank !== 4 || weight.rank !== 4 || !dimEq(C, C2) || kh !== p || kw !== p)
    throw new Error(`Conv: ${images} and weight ${weight} are not (B, C, H, W) and (D, C, ${p}, ${p})`);
  const attrs = { kernel_shape: { ints: [p, p] }, strides: { ints: [p, p] } };
  return graphOf(images).op(
    'Conv',
    bias ? [images, weight, bias] : [images, weight],
    attrs,
    [B, D, dimFloorDiv(H, p), dimFloorDiv(W, p)],
    images.dtype,
  );
}

/** Rows per chunk that `linear` aims for: the chunk's output panel stays in the L2 cache inside MLAS. */
export const LINEAR_CHUNK_ROWS = 512;

/**
 * How many equal row chunks `linear` splits `rows` into: the divisor whose chunk is nearest to
 * LINEAR_CHUNK_ROWS (within a factor of 2), or 1 (no chunking) for few rows or no fitting divisor.
 */
export function linearChunks(rows: number): number {
  if (rows < 2 * LINEAR_CHUNK_ROWS) return 1;
  let best = 1;
  let bestErr = Math.log(2);
  for (let c = 2; c <= rows / 128; c++) {
    if (rows % c) continue;
    const err = Math.abs(Math.log(rows / c / LINEAR_CHUNK_ROWS));
    if (err <= bestErr) [best, bestErr] = [c, err];
  }
  return best;
}

/**
 * Whether `w` is fed at run time: a graph parameter or input, or a view of one (Reshape / Slice: a tensor
 * of a flat parameter buffer, core/graph/flat.ts). Not a constant, nor computed from one, which
 * onnxruntime would fold.
 */
function isFed(w: Tensor): boolean {
  const g = graphOf(w);
  for (let t = w; ;) {
    const info = g.info(t);
    if (info.kind === 'param' || info.kind === 'input') return true;
    const op = info.node?.op;
    if ((op !== 'Reshape' && op !== 'Slice') || !info.node?.inputs[0]) return false;
    t = info.node.inputs[0];
  }
}

/**
 * A linear layer x (…, K) @ w (K, N) + b (N) → (…, N).
 *
 * With a fed weight (parameter or input, or a view of one) and many rows M, the rows are split into c equal chunks and
 * the product runs as one batched MatMul against the weight expanded to (c, K, N) (a copy of c·K·N),
 * plus the bias: x (M, K) → (c, M/c, K) @ (c, K, N) → (c, M/c, N). MLAS streams the whole output panel
 * (M × 128 columns) once per 128-deep slice of K, which for M = 8352 falls out of the L2 cache; chunks of
 * ~512 rows stay in it. Measured on the ViT-S block's four Linears (M = 8352, 1 thread): forward + dX +
 * dW ~0.65× the time of the plain Gemm form. The backward comes from the MatMul rule (batched dX; dW as
 * c per-chunk products summed by the Expand rule, which turns them into one 2-D product). The expanded
 * weight (c·K·N, growing with the row count) is rematerialised: it dies after the forward MatMul and is
 * expanded again for dX, so a deep stack does not keep one per layer until its backward.
 *
 * Otherwise (constant weights, which onnxruntime would fold into a c-times larger initializer; few rows;
 * no fitting divisor) it is Reshape → Gemm → Reshape, the bias fused into the Gemm.
 */
export function linear(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  if (w.rank !== 2 || x.shape[x.rank - 1] !== w.shape[0]) throw new Error(`linear: ${x} does not match weight ${w} (K, N)`);
  if (x.symbolic) {
    // Symbolic rows (an inference export): one broadcasting MatMul, no row reshapes or chunks.
    const y = matmul(x, w); // (…, N)
    return b ? add(y, b) : y;
  }
  const [K, N] = w.shape;
  const lead = x.shape.slice(0, -1);
  const M = lead.reduce((p, d) => p * d, 1);
  const c = isFed(w) ? linearChunks(M) : 1;
  if (c === 1) {
    const x2 = reshape(x, [-1, K]); // (M, K)
    const y2 = gemm(x2, w, b); // (M, N)
    return reshape(y2, [...lead, N]); // (…, N)
  }
  const x3 = reshape(x, [c, M / c, K]); // (c, M/c, K): row chunks
  const w3 = graphOf(w).remat(() => expand(w, [c, K, N])); // (c, K, N): the weight once per chunk, re-expanded for the backward's dX rather than kept
  const y3 = matmul(x3, w3); // (c, M/c, N)
  return reshape(b ? add(y3, b) : y3, [...lead, N]); // (…, N)
}
