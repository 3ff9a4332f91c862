// Reverse-mode autodiff over the graph: `grad` walks the nodes between `wrt` and the outputs in reverse
// creation order (creation order is topological), calls each node's rule from the one table
// (gradients.ts), and sums fan-out gradients. The backward nodes join the same graph, so one ONNX model
// runs forward and backward. Nodes built inside `g.remat(...)` are recomputed for the backward.
import { type Graph, type Node, graphOf } from './graph.js';
import { gradients } from './gradients.js';
import { add, cast, mul } from './ops/elementwise.js';
import { reshape, slice, zeros } from './ops/shape.js';
import { type Tensor, fmtShape, isFloat } from './tensor.js';

/** Marks x as a constant for autodiff: the result equals x, but no gradient flows through it. */
export function stopGradient(x: Tensor): Tensor {
  const g = graphOf(x);
  const node = g.addNode('Identity', [x], {}, [{ shape: x.shape, dtype: x.dtype }]);
  node.stopGrad = true;
  return node.outputs[0];
}

/**
 * Gradients of `outputs` (seeded with `seeds`, or 1 for a single scalar loss) with respect to `wrt`.
 * Returns one tensor per `wrt` entry (zeros where the outputs do not depend on it). Throws on an op
 * without a gradient rule on the path.
 */
export function grad(outputs: Tensor | Tensor[], wrt: readonly Tensor[], seeds?: Tensor[]): Tensor[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  if (outs.length === 0) throw new Error('grad: no outputs');
  const g = graphOf(outs[0]);
  if (g.symbols.size > 0)
    throw new Error(`grad: graph ${g.name} has symbolic dims (${[...g.symbols.keys()].join(', ')}); gradients need static shapes`);
  if (!seeds) {
    if (outs.length !== 1 || outs[0].size !== 1)
      throw new Error(`grad: seeds are required unless the output is one scalar (got ${outs.map(String).join(', ')})`);
  } else if (seeds.length !== outs.length || seeds.some((s, i) => fmtShape(s.shape) !== fmtShape(outs[i].shape))) {
    throw new Error('grad: seeds must match the outputs one to one in shape');
  }
  const firstBackward = g.nodes.length;

  // Nodes on a path from wrt to the outputs.
  const needs = new Set<number>(wrt.map((t) => t.id)); // tensor ids that carry gradient
  const active: Node[] = [];
  for (const n of g.nodes) {
    if (n.stopGrad) continue;
    if (n.inputs.some((x) => x && needs.has(x.id))) {
      let any = false;
      for (const y of n.outputs) {
        if (!isFloat(y.dtype)) continue;
        needs.add(y.id);
        any = true;
      }
      if (any) active.push(n);
    }
  }
  const reaches = new Set<number>(outs.map((t) => t.id)); // tensor ids the outputs depend on
  const path: Node[] = [];
  for (let i = active.length - 1; i >= 0; i--) {
    const n = active[i];
    if (n.outputs.some((y) => reaches.has(y.id))) {
      path.push(n); // reverse topological order
      for (const x of n.inputs) if (x) reaches.add(x.id);
    }
  }

  const acc = new Map<number, Tensor[]>();
  const push = (t: Tensor, d: Tensor): void => {
    if (fmtShape(d.shape) !== fmtShape(t.shape)) throw new Error(`grad: rule produced ${fmtShape(d.shape)} for ${t}`);
    const l = acc.get(t.id);
    if (l) l.push(d);
    else acc.set(t.id, [d]);
  };
  const total = (t: Tensor): Tensor | null => {
    const l = acc.get(t.id);
    if (!l || l.length === 0) return null;
    const s = l.reduce((a, b) => add(a, b)); // fan-out: sum of contributions
    acc.set(t.id, [s]);
    return s;
  };

  const depOf = new Map<number, Tensor>(); // backward node → the upstream gradient of its rule
  const result = g.backward(() => {
    outs.forEach((o, i) =>
      push(o, seeds ? seeds[i] : g.op('Expand', [g.scalar(1, o.dtype), g.ints(o.shape, 'shape')], {}, o.shape, o.dtype)),
    );
    for (const n of path) {
      const gy = n.outputs.map((y) => (isFloat(y.dtype) ? total(y) : null));
      if (gy.every((t) => t === null)) continue;
      const rule = gradients[n.op];
      if (!rule)
        throw new Error(
          `grad: no gradient rule for ${n.op} (node ${n.name}); add one to core/graph/gradients.ts or stopGradient its input`,
        );
      const before = g.nodes.length;
      const gx = g.scope(n.name, () => rule(n, gy));
      const upstream = gy.find((t) => t !== null) as Tensor;
      for (let i = before; i < g.nodes.length; i++) depOf.set(g.nodes[i].id, upstream);
      n.inputs.forEach((x, k) => {
        const d = gx[k];
        if (x && d && needs.has(x.id)) push(x, d);
      });
    }
    return wrt.map((t) => total(t) ?? zeros(t, g));
  });
  rematerialize(g, firstBackward, depOf);
  return result;
}

/**
 * Rematerialisation: backward nodes (ids ≥ from) that read outputs of remat-tagged forward nodes read
 * recomputed clones instead, so the forward values die early. Clones are flagged `recompute` so our CSE
 * leaves them apart. onnxruntime's own CSE would merge them back and its scheduler could run them early,
 * so each external data input x of the cloned subgraph enters as x + 0·(one element of a backward value
 * of the first consumer): exact, cheap (one Add per input), and it ties the clone to the backward.
 */
function rematerialize(g: Graph, from: number, depOf: Map<number, Tensor>): void {
  const clones = new Map<number, Tensor>();
  const barriers = new Map<number, Tensor>();
  const barrier = (x: Tensor, dep: Tensor): Tensor => {
    const info = g.info(x);
    if (info.kind === 'const' || !isFloat(x.dtype)) return x;
    const hit = barriers.get(x.id);
    if (hit) return hit;
    const b = g.backward(() =>
      g.scope('remat_barrier', () => {
        const axes = dep.shape.map((_, i) => i);
        const one = dep.rank
          ? slice(
              dep,
              axes,
              axes.map(() => 0),
              axes.map(() => 1),
            )
          : dep; // (1, …, 1)
        const zero = mul(reshape(cast(one, x.dtype), []), 0); // () = 0, data-dependent on the backward
        return add(x, zero);
      }),
    );
    barriers.set(x.id, b);
    return b;
  };
  const cloneOf = (t: Tensor, dep: Tensor): Tensor => {
    const p = g.producer(t);
    if (!p || p.remat === null || p.region !== 'forward') return t;
    const hit = clones.get(t.id);
    if (hit) return hit;
    const ins = p.inputs.map((x) => {
      if (!x) return null;
      const q = g.producer(x);
      return q && q.remat !== null && q.region === 'forward' ? cloneOf(x, dep) : barrier(x, dep);
    });
    const node = g.backward(() =>
      g.addNode(
        p.op,
        ins,
        p.attrs,
        p.outputs.map((o) => ({ shape: o.shape, dtype: o.dtype })),
      ),
    );
    node.recompute = true;
    p.outputs.forEach((o, k) => clones.set(o.id, node.outputs[k]));
    return clones.get(t.id) as Tensor;
  };
  const isRematOut = (x: Tensor | null): boolean => {
    const p = x ? g.producer(x) : null;
    return !!p && p.remat !== null && p.region === 'forward';
  };
  const end = g.nodes.length;
  for (let i = from; i < end; i++) {
    const n = g.nodes[i];
    if (!n.inputs.some(isRematOut)) continue;
    // The dependency: the upstream gradient of the rule that built this node.
    const dep = depOf.get(n.id);
    if (!dep) throw new Error(`grad: cannot rematerialise for ${n.name}: no upstream gradient recorded`);
    n.inputs = n.inputs.map((x) => (x && isRematOut(x) ? cloneOf(x, dep) : x));
  }
}
