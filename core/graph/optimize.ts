// Graph clean-up before serialisation: common-subexpression elimination (identical op, attributes and
// inputs; identical small constants) and dead-node elimination (nodes the outputs do not need).
// Recomputed (rematerialised) nodes are never merged with their forward originals.
import { type Graph, type Node } from './graph.js';
import { scheduleNodes } from './onnx.js';
import { type Tensor } from './tensor.js';

export interface OptimizeStats {
  nodesBefore: number;
  nodesAfter: number;
  merged: number;
  constantsMerged: number;
}

const SMALL_CONST = 4096; // elements: larger constants are compared by identity only

function constKey(g: Graph, t: Tensor): string | null {
  const d = g.info(t).data;
  if (!d || d.data.length > SMALL_CONST) return null;
  const bytes = new Uint8Array(d.data.buffer, d.data.byteOffset, d.data.byteLength);
  return `${d.dtype}|${d.dims.join(',')}|${Buffer.from(bytes).toString('base64')}`;
}

/** Runs CSE then DCE on `g` in place; returns what changed. */
export function optimize(g: Graph): OptimizeStats {
  const nodesBefore = g.nodes.length;
  const replace = new Map<number, Tensor>(); // tensor id → its canonical tensor
  const canon = (t: Tensor | null): Tensor | null => (t ? (replace.get(t.id) ?? t) : null);

  // Identical constants.
  let constantsMerged = 0;
  const consts = new Map<string, Tensor>();
  for (const [id, v] of g.values) {
    if (v.kind !== 'const') continue;
    const t = g.tensor(id);
    const k = constKey(g, t);
    if (k === null) continue;
    const hit = consts.get(k);
    if (hit) {
      replace.set(id, hit);
      constantsMerged++;
    } else consts.set(k, t);
  }

  // Identical nodes (creation order is topological, so inputs are canonical before their users).
  const outputIds = new Set(g.outputs.map((t) => t.id));
  const seen = new Map<string, Node>();
  let merged = 0;
  for (const n of g.nodes) {
    n.inputs = n.inputs.map(canon);
    if (n.outputs.some((o) => outputIds.has(o.id)) || n.op.startsWith('Random')) continue;
    const key = `${n.op}|${n.recompute ? 'R' : ''}${n.stopGrad ? 'S' : ''}|${JSON.stringify(n.attrs, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}|${n.inputs.map((x) => (x ? x.id : '-')).join(',')}`;
    const hit = seen.get(key);
    if (hit) {
      n.outputs.forEach((o, k) => replace.set(o.id, hit.outputs[k]));
      merged++;
    } else seen.set(key, n);
  }

  // Dead nodes.
  const live = new Set(scheduleNodes(g).map((n) => n.id));
  const kept = g.nodes.filter((n) => live.has(n.id));
  g.nodes.splice(0, g.nodes.length, ...kept);
  return { nodesBefore, nodesAfter: g.nodes.length, merged, constantsMerged };
}
