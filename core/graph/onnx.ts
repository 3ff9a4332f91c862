// ONNX ModelProto serialisation written by hand (field numbers from onnx/onnx.proto). Emits only the nodes
// that the outputs need, in a topological order (a depth-first walk from the outputs, so recomputed
// nodes sit right before the backward that consumes them), initializers as little-endian raw_data.
import { type Attr, type Graph, type Node } from './graph.js';
import { ProtoWriter } from './protobuf.js';
import { type DType, type HostTensor, type Tensor } from './tensor.js';

/** The ONNX opset we emit (standard domain only; no com.microsoft ops). */
export const OPSET = 20;
export const IR_VERSION = 9;
/** The opset of a graph with an Attention node (GraphLowering.attentionOp), and the IR version that goes with it. */
export const ATTENTION_OPSET = 23;
const ATTENTION_IR_VERSION = 11;

const elemType: Record<DType, number> = { float32: 1, bool: 9, int64: 7, float16: 10, float64: 11 };
const attrType = { f: 1, i: 2, s: 3, t: 4, floats: 6, ints: 7 } as const;

export interface SerializeOptions {
  docString?: string;
  /** Overrides for the model's opset (default OPSET, or ATTENTION_OPSET for a graph with an Attention node). */
  opset?: number;
}

/**
 * Nodes needed by the graph outputs, in creation order (which is topological and keeps each gradient
 * rule's nodes together, so activations die early), except rematerialised clones: those are pulled in
 * depth-first just before their first consumer.
 */
export function scheduleNodes(g: Graph): Node[] {
  // Live nodes: reachable backwards from the outputs.
  const live = new Set<number>();
  const stack: Node[] = [];
  for (const out of g.outputs) {
    const p = g.producer(out);
    if (p && !live.has(p.id)) {
      live.add(p.id);
      stack.push(p);
    }
  }
  while (stack.length) {
    const n = stack.pop() as Node;
    for (const x of n.inputs) {
      const p = x ? g.producer(x) : null;
      if (p && !live.has(p.id)) {
        live.add(p.id);
        stack.push(p);
      }
    }
  }
  const order: Node[] = [];
  const done = new Set<number>();
  const emit = (root: Node): void => {
    // Iterative post-order DFS over not-yet-emitted producers.
    const st: { node: Node; next: number }[] = [{ node: root, next: 0 }];
    const onStack = new Set<number>([root.id]);
    while (st.length) {
      const top = st[st.length - 1];
      if (top.next < top.node.inputs.length) {
        const x = top.node.inputs[top.next++];
        const p = x ? g.producer(x) : null;
        if (!p || done.has(p.id)) continue;
        if (onStack.has(p.id)) throw new Error(`onnx: cycle through node ${p.name}`);
        onStack.add(p.id);
        st.push({ node: p, next: 0 });
      } else {
        done.add(top.node.id);
        order.push(top.node);
        st.pop();
      }
    }
  };
  for (const n of g.nodes) if (live.has(n.id) && !n.recompute && !done.has(n.id)) emit(n);
  return order;
}

function rawBytes(t: HostTensor): Uint8Array {
  const d = t.data;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength); // little-endian hosts (x86, arm64)
}

function writeTensor(w: ProtoWriter, t: HostTensor, name: string): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, elemType[t.dtype]);
  if (name) w.string(8, name);
  w.bytes(9, rawBytes(t));
}

function writeAttr(w: ProtoWriter, name: string, a: Attr): void {
  w.string(1, name);
  if ('f' in a) w.float(2, a.f).int(20, attrType.f);
  else if ('i' in a) w.int(3, a.i).int(20, attrType.i);
  else if ('s' in a) w.string(4, a.s).int(20, attrType.s);
  else if ('t' in a) w.message(5, (m) => writeTensor(m, a.t, '')).int(20, attrType.t);
  else if ('floats' in a) {
    for (const v of a.floats) w.float(7, v);
    w.int(20, attrType.floats);
  } else {
    for (const v of a.ints) w.int(8, v);
    w.int(20, attrType.ints);
  }
}

function writeValueInfo(w: ProtoWriter, t: Tensor, doc: string): void {
  w.string(1, t.name);
  w.message(2, (type) =>
    type.message(1, (tt) => {
      tt.int(1, elemType[t.dtype]);
      tt.message(2, (shape) => {
        // A symbolic dim is written as dim_param, its canonical expression ("batch", "(height/16)*(width/16)").
        for (const d of t.dims) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d.key)));
      });
    }),
  );
  if (doc) w.string(3, doc);
}

/** Serialises the graph's outputs and everything they need into ONNX ModelProto bytes. */
export function serialize(g: Graph, opts: SerializeOptions = {}): Uint8Array {
  if (g.outputs.length === 0) throw new Error('onnx: the graph has no outputs');
  const nodes = scheduleNodes(g);
  const used = new Set<number>();
  for (const n of nodes) for (const x of n.inputs) if (x) used.add(x.id);
  for (const o of g.outputs) used.add(o.id);
  const opset = opts.opset ?? (nodes.some((n) => n.op === 'Attention') ? ATTENTION_OPSET : OPSET);
  const m = new ProtoWriter();
  m.int(1, opset >= ATTENTION_OPSET ? ATTENTION_IR_VERSION : IR_VERSION);
  m.string(2, 'dinoscope');
  m.string(3, '0.1.0');
  if (opts.docString) m.string(6, opts.docString);
  m.message(7, (gw) => {
    for (const n of nodes) {
      gw.message(1, (nw) => {
        for (const x of n.inputs) nw.string(1, x ? x.name : '');
        for (const y of n.outputs) nw.string(2, y.name);
        nw.string(3, n.name);
        nw.string(4, n.op);
        for (const [k, a] of Object.entries(n.attrs)) nw.message(5, (aw) => writeAttr(aw, k, a));
      });
    }
    gw.string(2, g.name);
    for (const [id, v] of g.values) {
      if (v.kind !== 'const' || !used.has(id) || !v.data) continue;
      const t = g.tensor(id);
      gw.message(5, (tw) => writeTensor(tw, v.data as HostTensor, t.name));
    }
    // Inputs: every declared input and parameter, used or not, so feeds stay stable across edits.
    for (const t of [...g.inputs, ...g.params]) gw.message(11, (vw) => writeValueInfo(vw, t, g.info(t).doc));
    for (const t of g.outputs) gw.message(12, (vw) => writeValueInfo(vw, t, g.info(t).doc));
  });
  m.message(8, (ow) => ow.string(1, '').int(2, opset));
  return m.finish();
}
