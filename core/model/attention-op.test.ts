// GraphLowering.attentionOp: self-attention as one ONNX Attention node (opset 23) gives what the MatMul →
// Softmax → MatMul graph gives, for DINOv2 (learned position embedding) and DINOv3 (RoPE on q and k, keys
// without bias), on onnxruntime's CPU provider; the CLS attention output keeps the explicit graph.
import { describe, expect, it } from 'vitest';
import { serialize } from '../graph/onnx.js';
import { Session } from '../graph/runtime.js';
import { hostTensor } from '../graph/tensor.js';
import { TileModel } from '../features/extract/model.js';
import { type ViTOverrides, vitConfig } from './config.js';
import { type InferenceOutput, inferenceGraph } from './inference.js';
import { initParams } from './params.js';

const side = 96;
const B = 2;

/** A depth-2 model whose blocks matter (LayerScale 1, so attention is not scaled away by 1e-5). */
function model(o: ViTOverrides): ReturnType<typeof vitConfig> {
  const c = vitConfig('tiny', { patchSize: 16, registers: 4, depth: 2, dim: 64, heads: 4, ...o });
  return { ...c, layerScale: { ...c.layerScale, init: 1 } };
}

async function run(
  c: ReturnType<typeof vitConfig>,
  attentionOp: boolean,
  outputs: InferenceOutput[],
): Promise<{ out: Record<string, Float32Array>; attentionNodes: number; onnx: Uint8Array }> {
  const values = initParams(c, 5);
  const { graph } = inferenceGraph(c, {
    batch: B,
    height: side,
    width: side,
    weights: 'initializers',
    values,
    outputs,
    lowering: { attentionOp },
  });
  const onnx = serialize(graph);
  const s = await Session.create(onnx, { intraOpThreads: 1 });
  const images = hostTensor(
    'float32',
    [B, 3, side, side],
    Float32Array.from({ length: B * 3 * side * side }, (_, i) => Math.sin(i * 0.013)),
  );
  const res = await s.run({ images });
  await s.release();
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(res)) out[k] = v.data as Float32Array;
  return { out, attentionNodes: graph.nodes.filter((n) => n.op === 'Attention').length, onnx };
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
  }
  return m / scale;
}

describe('attention as one ONNX Attention node', () => {
  for (const arch of ['dinov2', 'dinov3'] as const)
    it(`${arch}: the same CLS, register and patch tokens as the explicit graph, one node a block`, async () => {
      const c = model({ arch });
      const outputs: InferenceOutput[] = ['cls', 'registers', 'patches'];
      const explicit = await run(c, false, outputs);
      const fused = await run(c, true, outputs);
      expect(explicit.attentionNodes).toBe(0);
      expect(fused.attentionNodes).toBe(c.depth);
      for (const k of outputs) {
        expect(fused.out[k].length).toBe(explicit.out[k].length);
        expect(maxRelDiff(fused.out[k], explicit.out[k]), k).toBeLessThan(1e-5);
      }
      // The blocks change the tokens (LayerScale 1): equality is not the patch embedding alone.
      const embedOnly = await run({ ...c, depth: 0 }, false, ['patches']);
      expect(maxRelDiff(embedOnly.out.patches, explicit.out.patches)).toBeGreaterThan(0.01);
    });

  it('keeps the explicit graph where the CLS attention is an output', async () => {
    const r = await run(model({ arch: 'dinov2' }), true, ['patches', 'attention']);
    // The last block's attention is read out, so only the first block takes the Attention node.
    expect(r.attentionNodes).toBeLessThan(2);
    expect(r.out.attention.length).toBeGreaterThan(0);
  });

  it('a CPU tile model uses it; its features equal the explicit graph', async () => {
    const c = model({ arch: 'dinov2' });
    const values = initParams(c, 5);
    const images = Float32Array.from({ length: B * 3 * side * side }, (_, i) => Math.sin(i * 0.013));
    const m = await TileModel.create(c, values, { batch: B, side, outputs: ['patches'], threads: 1 });
    const got = (await m.run(images)).patches;
    await m.release();
    const explicit = await run(c, false, ['patches']);
    expect(maxRelDiff(got, explicit.out.patches)).toBeLessThan(1e-5);
  });
});
