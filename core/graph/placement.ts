// Where onnxruntime placed a graph's nodes: which execution provider ran each node, read from onnxruntime's
// own profile of one run (RuntimeOptions.profileDir: a JSON trace with one 'Node' event per kernel run,
// whose args name the op and the provider). onnxruntime-node 1.30 has no API for the placement itself; its
// verbose log ("Node placements") goes to the native stderr, out of a program's reach.
//
// The trace lists the nodes of the graph onnxruntime runs, after its own rewrites (constant folding,
// fusions such as MatMul + Add → Gemm, layout changes), so the counts are of the kernels one run launches,
// not of the nodes we built. Where a provider hands nodes to the CPU, onnxruntime adds Memcpy nodes at the
// borders; they are counted apart as copies.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Graph } from './graph.js';
import { type RuntimeOptions, Session } from './runtime.js';
import { type HostTensor, type Tensor, hostTensor } from './tensor.js';

/** One kernel of a run: onnxruntime's node name, its op type and the execution provider that ran it. */
export interface PlacedNode {
  name: string;
  op: string;
  provider: string;
}

export interface Placement {
  /** The provider the session was created on (runtime.ts names: 'webgpu', 'cpu', …). */
  session: string;
  /** Every compute node of one run (copies excluded), in the order they ran. */
  nodes: PlacedNode[];
  /** Host ↔ device copy nodes onnxruntime inserted (MemcpyToHost / MemcpyFromHost). */
  copies: PlacedNode[];
  /** Node count per onnxruntime provider name (e.g. WebGpuExecutionProvider, CPUExecutionProvider). */
  byProvider: Record<string, number>;
}

/** onnxruntime's provider name of each runtime.ts provider. */
export const ORT_PROVIDER: Record<string, string> = {
  cpu: 'CPUExecutionProvider',
  webgpu: 'WebGpuExecutionProvider',
  cuda: 'CUDAExecutionProvider',
  dml: 'DmlExecutionProvider',
  coreml: 'CoreMLExecutionProvider',
};

interface TraceEvent {
  cat?: string;
  name?: string;
  args?: { op_name?: string; provider?: string };
}

/**
 * The placement in an onnxruntime profile trace (the parsed JSON array). Nodes are taken once each (the
 * first run's events; a node name repeats when the session ran more than once).
 */
export function placementFromTrace(trace: unknown, session: string): Placement {
  if (!Array.isArray(trace)) throw new Error('placement: an onnxruntime profile is a JSON array of events');
  const seen = new Set<string>();
  const nodes: PlacedNode[] = [];
  const copies: PlacedNode[] = [];
  for (const e of trace as TraceEvent[]) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || !e.args?.provider) continue;
    const name = e.name.slice(0, -'_kernel_time'.length);
    if (seen.has(name)) continue;
    seen.add(name);
    const n = { name, op: e.args.op_name ?? '?', provider: e.args.provider };
    (n.op.startsWith('Memcpy') ? copies : nodes).push(n);
  }
  const byProvider: Record<string, number> = {};
  for (const n of nodes) byProvider[n.provider] = (byProvider[n.provider] ?? 0) + 1;
  return { session, nodes, copies, byProvider };
}

/** The nodes of `p` that did not run on `provider` (a runtime.ts name such as 'webgpu'). */
export function offProvider(p: Placement, provider: string): PlacedNode[] {
  const ort = ORT_PROVIDER[provider] ?? provider;
  return p.nodes.filter((n) => n.provider !== ort);
}

/** Deterministic feeds for every input and parameter of `g`: small positive floats, zero indices, false masks. */
export function placementFeeds(g: Graph): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = {};
  const fill = (t: Tensor): void => {
    if (t.name === undefined) return;
    const h = hostTensor(t.dtype, [...t.shape]);
    if (h.dtype === 'float32' || h.dtype === 'float64')
      for (let i = 0; i < h.data.length; i++) h.data[i] = 0.01 + ((i * 7919) % 997) / 9970;
    feeds[t.name] = h;
  };
  for (const t of [...g.inputs, ...g.params]) fill(t);
  return feeds;
}

/**
 * Compiles `model` with `opts` (providers etc.), runs it once on `feeds` and returns where onnxruntime
 * placed every node of that run. The profile goes to a temporary folder, removed afterwards.
 */
export async function measurePlacement(
  model: Uint8Array,
  feeds: Record<string, HostTensor>,
  opts: RuntimeOptions = {},
): Promise<Placement> {
  const dir = await mkdtemp(join(tmpdir(), 'dinoscope-placement-'));
  try {
    const s = await Session.create(model, { ...opts, profileDir: dir });
    try {
      await s.run(feeds);
      const file = s.endProfiling();
      return placementFromTrace(JSON.parse(await readFile(file, 'utf8')), s.provider);
    } finally {
      await s.release();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
