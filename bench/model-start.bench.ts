// `npm run bench -- model-start`: what every extraction pays before its first tile, by model size: the
// tile model's graph with its weights as initializers (core/model/inference.ts; the Linear weights turned to
// the graph's (in, out) layout), its ONNX bytes (core/graph/onnx.ts serialize), and the onnxruntime CPU
// session (core/graph/runtime.ts), for ViT-S/16, ViT-B/16 and ViT-L/16 (4 registers, random weights, batch 8
// of 320 px tiles, as core/features/extract/model.ts TileModel builds them). Page faults of fresh memory
// dominate on this VM (first touch of 1 GB ≈ 3 s), so each copy of the weights shows.
// Last line: `model_start_s_large <graph + serialize + session, seconds>`.
import { serialize } from '../core/graph/onnx.js';
import { Session } from '../core/graph/runtime.js';
import { type ViTSize, vitConfig } from '../core/model/config.js';
import { inferenceGraph } from '../core/model/inference.js';
import { initParams, paramCount } from '../core/model/params.js';
import { fmtMachine } from './lib/machine.js';

const SIZES = (process.env.BENCH_SIZES ?? 'small,base,large').split(',') as ViTSize[];
const out = (s: string): void => void process.stdout.write(s + '\n');
out(`model-start: ${fmtMachine()}`);
let last = NaN;
for (const size of SIZES) {
  const cfg = vitConfig(size, { arch: 'dinov2', patchSize: 16, registers: 4 });
  const values = initParams(cfg, 1);
  let t = performance.now();
  const { graph } = inferenceGraph(cfg, {
    batch: 8,
    height: 320,
    width: 320,
    weights: 'initializers',
    values,
    outputs: ['patches'],
    lowering: { attentionOp: true },
  });
  const graphS = (performance.now() - t) / 1000;
  t = performance.now();
  const bytes = serialize(graph);
  const serializeS = (performance.now() - t) / 1000;
  t = performance.now();
  const s = await Session.create(bytes, { intraOpThreads: 2, interOpThreads: 1 });
  const sessionS = (performance.now() - t) / 1000;
  await s.release();
  last = graphS + serializeS + sessionS;
  out(
    `ViT-${size} (${(paramCount(cfg) / 1e6).toFixed(0)} M parameters, ${(bytes.length / 1e6).toFixed(0)} MB): graph ${graphS.toFixed(1)} s, serialize ${serializeS.toFixed(1)} s, session ${sessionS.toFixed(1)} s, total ${last.toFixed(1)} s`,
  );
}
out(`model_start_s_${SIZES.at(-1)} ${last.toFixed(1)}`);
