// Our side of `npm run bench -- block`, as a long-lived child (see child.ts): builds the ViT-S block
// forward+backward (core/graph/examples/block.ts), compiles it to ONNX and runs it with onnxruntime.
//   serve:  prints {"ready"}, then answers each "round" line with {"ms"} (one session.run, outputs on host)
//   parity: reads a directory written by bench/python/block_ref.py parity, runs the same inputs, prints
//           per-tensor errors against PyTorch's float64 and float32 results as one JSON line, and exits.
// Started as `node --import tsx bench/lib/block-worker.ts MODE --threads T [--dir D] [--batch …]`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { blockGraph, blockParamShapes } from '../../core/graph/examples/block.js';
import { serialize } from '../../core/graph/onnx.js';
import { optimize } from '../../core/graph/optimize.js';
import { Session } from '../../core/graph/runtime.js';
import { type HostTensor, hostTensor } from '../../core/graph/tensor.js';
import { mulberry32 as rng } from '../../core/common/random.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    threads: { type: 'string', default: '1' },
    dir: { type: 'string', default: '' },
    batch: { type: 'string', default: '32' },
    tokens: { type: 'string', default: '261' },
    dim: { type: 'string', default: '384' },
    heads: { type: 'string', default: '6' },
    mlp: { type: 'string', default: '1536' },
    remat: { type: 'boolean', default: false },
  },
});
const mode = positionals[0];
const threads = Number(values.threads);
const cfg = {
  batch: Number(values.batch),
  tokens: Number(values.tokens),
  dim: Number(values.dim),
  heads: Number(values.heads),
  mlp: Number(values.mlp),
  eps: 1e-6,
  remat: values.remat,
};

const emit = (o: Record<string, unknown>): void => void process.stdout.write(JSON.stringify(o) + '\n');

async function compile(): Promise<{ session: Session; paramName: Record<string, string> }> {
  const b = blockGraph({ ...cfg, dtype: 'float32' });
  const stats = optimize(b.graph);
  const model = serialize(b.graph);
  const session = await Session.create(model, { intraOpThreads: threads, interOpThreads: 1 });
  process.stderr.write(
    `ours: ${stats.nodesAfter} nodes (${stats.nodesBefore} before optimize), ${(model.length / 1e6).toFixed(1)} MB ONNX, provider ${session.provider}\n`,
  );
  // Our parameter names in the graph (scoped, e.g. block/norm1.weight) by PyTorch name.
  const paramName = Object.fromEntries(Object.entries(b.params).map(([k, t]) => [k, t.name]));
  return { session, paramName };
}

/** Random inputs at PyTorch's default Linear scale (uniform ±1/√fan_in), LayerNorm around 1, LayerScale 0.1. */
function randomFeeds(paramName: Record<string, string>): Record<string, HostTensor> {
  const r = rng(1);
  const fill = (n: number, f: () => number): Float32Array => Float32Array.from({ length: n }, f);
  const act = [cfg.batch, cfg.tokens, cfg.dim];
  const n = act.reduce((a, b) => a * b, 1);
  const feeds: Record<string, HostTensor> = {
    x: hostTensor(
      'float32',
      act,
      fill(n, () => r() * 2 - 1),
    ),
    dy: hostTensor(
      'float32',
      act,
      fill(n, () => r() * 2 - 1),
    ),
  };
  for (const [name, shape] of Object.entries(blockParamShapes(cfg))) {
    const size = shape.reduce((a, b) => a * b, 1);
    const bound = 1 / Math.sqrt(name.startsWith('mlp.fc2') ? cfg.mlp : cfg.dim);
    const f = name.startsWith('norm')
      ? name.endsWith('weight')
        ? () => 1 + 0.2 * (r() - 0.5)
        : () => 0.2 * (r() - 0.5)
      : name.startsWith('ls')
        ? () => 0.1
        : () => (r() * 2 - 1) * bound;
    feeds[paramName[name]] = hostTensor('float32', shape, fill(size, f));
  }
  return feeds;
}

async function serve(): Promise<void> {
  const { session, paramName } = await compile();
  const feeds = randomFeeds(paramName);
  emit({ ready: true, threads, pid: process.pid });
  for await (const line of createInterface({ input: process.stdin })) {
    const cmd = line.trim();
    if (cmd === 'round') {
      const t0 = performance.now();
      await session.run(feeds);
      emit({ ms: performance.now() - t0 });
    } else if (cmd === 'quit') break;
    else if (cmd) emit({ error: `unknown command ${JSON.stringify(cmd)}` });
  }
  await session.release();
}

interface ManifestEntry {
  shape: number[];
  file: string;
  dtype: 'float32' | 'float64';
}
interface Manifest {
  inputs: Record<string, ManifestEntry>;
  ref64: Record<string, ManifestEntry>;
  ref32: Record<string, ManifestEntry>;
}

/** PyTorch's nn.Linear weights are (out, in); ours are (in, out). */
const isLinear = (name: string): boolean => /\.weight$/.test(name) && !name.startsWith('norm');

function readRaw(dir: string, e: ManifestEntry, name: string): { dims: number[]; data: Float64Array } {
  const b = readFileSync(join(dir, e.file));
  const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  const src = e.dtype === 'float32' ? new Float32Array(ab) : new Float64Array(ab);
  if (!isLinear(name)) return { dims: e.shape, data: Float64Array.from(src) };
  const [o, i] = e.shape;
  const t = new Float64Array(src.length); // (out, in) → (in, out)
  for (let r = 0; r < o; r++) for (let c = 0; c < i; c++) t[c * o + r] = src[r * i + c];
  return { dims: [i, o], data: t };
}

/** max |a − b| and that over max |b|. */
function errors(a: ArrayLike<number>, b: ArrayLike<number>): { maxAbs: number; rel: number } {
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { maxAbs, rel: maxAbs / scale };
}

async function parity(dir: string): Promise<void> {
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const { session, paramName } = await compile();
  const feeds: Record<string, HostTensor> = {};
  for (const [name, e] of Object.entries(m.inputs)) {
    const v = readRaw(dir, e, name.replace(/^grad\./, ''));
    feeds[paramName[name] ?? name] = hostTensor('float32', v.dims, Float32Array.from(v.data));
  }
  const out = await session.run(feeds);
  const result: Record<string, { ours64: { maxAbs: number; rel: number }; torch32vs64: { maxAbs: number; rel: number } }> = {};
  for (const [key, e] of Object.entries(m.ref64)) {
    const name = key.replace(/^grad\./, '');
    const ref = readRaw(dir, e, name).data;
    const torch32 = readRaw(dir, m.ref32[key], name).data;
    const ours = out[key === 'y' ? 'y' : `grad/${name}`].data as Float32Array;
    result[key] = { ours64: errors(ours, ref), torch32vs64: errors(torch32, ref) };
  }
  emit({ parity: result });
  await session.release();
}

if (mode === 'serve') await serve();
else if (mode === 'parity' && values.dir) await parity(values.dir);
else {
  process.stderr.write('usage: block-worker.ts serve|parity --threads T [--dir DIR]\n');
  process.exit(2);
}
