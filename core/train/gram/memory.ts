// Peak-memory estimate for one high-resolution adaptation step at a (global, local, gram) size triple, so
// the app can say "this needs ~N GB" before a run starts. A first-order model, float32 throughout:
// - parameters (student; EMA and Gram teachers as frozen copies), gradients, AdamW moments (2 per param);
// - student activations kept for the backward, per block and image with T tokens, width D, hidden F, h heads:
//   T·(11·D + 2·F) floats (norms, qkv, attention output, projection, residuals, FFN in/out) plus
//   2·h·T² for the attention scores and softmax — unless attention is rematerialised, when only one
//   block's h·T² lives at a time (recomputed in its backward);
// - the largest single-block transient of the backward (gradient buffers of one block's activations);
// - the teachers' forwards (no backward): one block's activations at a time, the Gram teacher at the gram size;
// - a fixed onnxruntime session cost (~30 MB measured on the tiny ViT at 128 px).
// The measured check in memory.test.ts states how far this is from onnxruntime's real peak RSS.
import { type ViTConfig, ffnHidden } from '../../model/config.js';
import { paramCount } from '../../model/params.js';
import { type SizeTriple } from './sizes.js';

export interface MemoryOptions {
  /** Images per global crop batch (the student sees 2 global crops of each). */
  batch: number;
  /** Local crops per image (8 in the reference; 0 to leave them out). */
  localCrops: number;
  /** Rematerialise attention in the backward (the model's `remat: true`). */
  remat: boolean;
  /** Count the optimiser (grads + AdamW moments) and the EMA/Gram teacher copies. Default true. */
  training?: boolean;
  /** Bytes per element. Default 4 (float32). */
  bytesPerElement?: number;
  /** Fixed cost of an onnxruntime session (kernels, plan, graph copy). Default 32 MiB (measured: ~30 MB). */
  runtimeOverheadBytes?: number;
}

export interface MemoryEstimate {
  /** Parameters of the student plus frozen teacher copies. */
  paramsBytes: number;
  /** Gradients + AdamW m and v. */
  optimizerBytes: number;
  /** Student activations saved for the backward, all blocks. */
  activationBytes: number;
  /** Largest transient on top (one block's backward buffers or a teacher block forward). */
  transientBytes: number;
  /** The session's fixed cost. */
  runtimeBytes: number;
  totalBytes: number;
}

/** Tokens per image: CLS + registers + patches. */
function tokens(c: ViTConfig, side: number): number {
  const g = Math.floor(side / c.patchSize);
  return 1 + c.registers + g * g;
}

/** Floats one block saves per image for the backward (without the attention matrices). */
function blockLinearFloats(c: ViTConfig, t: number): number {
  return t * (11 * c.dim + 2 * ffnHidden(c) * (c.ffn === 'swiglu' ? 1.5 : 1));
}

/** Floats of one block's attention matrices per image (scores and softmax). */
function blockAttentionFloats(c: ViTConfig, t: number): number {
  return 2 * c.heads * t * t;
}

/** The estimate for one student forward+backward (2 global + local crops) and the teachers' forwards. */
export function estimatePeakMemory(c: ViTConfig, sizes: SizeTriple, opts: MemoryOptions): MemoryEstimate {
  const bpe = opts.bytesPerElement ?? 4;
  const training = opts.training ?? true;
  const p = paramCount(c);
  const crops = [
    { images: 2 * opts.batch, t: tokens(c, sizes.global) },
    { images: opts.localCrops * opts.batch, t: tokens(c, sizes.local) },
  ].filter((x) => x.images > 0);
  let saved = 0;
  let blockPeak = 0;
  for (const { images, t } of crops) {
    const lin = images * blockLinearFloats(c, t);
    const att = images * blockAttentionFloats(c, t);
    saved += c.depth * (lin + (opts.remat ? 0 : att));
    blockPeak = Math.max(blockPeak, lin + att); // one block's backward: gradients of its activations, attention recomputed or read
  }
  const tg = tokens(c, sizes.gram);
  const teacherBlock = training ? (opts.batch * 2 * (blockLinearFloats(c, tg) + blockAttentionFloats(c, tg))) / 2 : 0; // forward only: half of the saved set lives at once
  const paramsBytes = p * bpe * (training ? 3 : 1);
  const optimizerBytes = training ? p * bpe * 3 : p * bpe;
  const activationBytes = saved * bpe;
  const transientBytes = Math.max(blockPeak, teacherBlock) * bpe;
  const runtimeBytes = opts.runtimeOverheadBytes ?? 32 * 2 ** 20;
  const totalBytes = paramsBytes + optimizerBytes + activationBytes + transientBytes + runtimeBytes;
  return { paramsBytes, optimizerBytes, activationBytes, transientBytes, runtimeBytes, totalBytes };
}

/** "this needs ~N GB" (one decimal under 10 GB, MB under 1 GB). */
export function formatMemory(bytes: number): string {
  const gb = bytes / 1024 ** 3;
  if (gb < 1) return `this needs ~${Math.max(1, Math.round(bytes / 1024 ** 2))} MB`;
  return `this needs ~${gb < 10 ? gb.toFixed(1) : Math.round(gb)} GB`;
}
