// The graph builder: nodes are standard ONNX nodes (op type + attributes), values are `Tensor`s with static
// shapes. Inputs, parameters (fed at run time, so state lives outside the graph), constants (initializers)
// and outputs are named; `scope` prefixes node and value names so the emitted ONNX reads like the model.
import { type Dim, Sym, isSym, probeOf } from './sym.js';
import { type DType, type HostTensor, type Shape, Tensor, fmtShape, hostTensor } from './tensor.js';

/** ONNX attribute values, tagged by their ONNX type (numbers alone cannot tell int from float). */
export type Attr =
  { i: number } | { f: number } | { s: string } | { ints: readonly number[] } | { floats: readonly number[] } | { t: HostTensor };
export type Attrs = Record<string, Attr>;

export type ValueKind = 'input' | 'param' | 'const' | 'node';

export interface Node {
  readonly id: number;
  readonly op: string;
  /** `null` marks an omitted optional ONNX input. */
  inputs: (Tensor | null)[];
  readonly outputs: Tensor[];
  readonly attrs: Attrs;
  readonly name: string;
  /** Autodiff treats this node as constant (stopGradient). Not serialised. */
  stopGrad: boolean;
  /** Nodes built inside `g.remat(...)` share a group id; the backward recomputes them. */
  remat: number | null;
  /** Set on nodes cloned into the backward by rematerialisation (kept apart from CSE). */
  recompute: boolean;
  /** 'backward' for nodes added by `grad`. */
  region: 'forward' | 'backward';
}

export interface ValueInfo {
  kind: ValueKind;
  /** The producing node and output index for kind 'node'. */
  node: Node | null;
  index: number;
  /** The initializer data for kind 'const'. */
  data: HostTensor | null;
  doc: string;
}

/**
 * How ops lower for the execution provider a graph is built for. The graph stays valid ONNX either way;
 * these only steer which of two equivalent node forms is emitted.
 */
export interface GraphLowering {
  /**
   * Emit n-ary sums as chains of Add instead of one ONNX Sum. onnxruntime-node 1.30's WebGPU provider has
   * no Sum kernel, so each Sum runs on the CPU with its inputs copied down and its output copied back:
   * on an NVIDIA H200 the Quick training step's 78 Sum nodes (GELU and LayerNorm backward) cost 0.4 s of
   * CPU and 1.5 s of copies per step (`bench/gpu.bench.ts`). On the CPU one Sum is one pass, so it stays
   * the default there.
   */
  sumAsAdds?: boolean;
  /**
   * Emit LogSoftmax as x − m − log Σ exp(x − m), m the (gradient-stopped) maximum: onnxruntime-node 1.30's
   * WebGPU provider has no LogSoftmax kernel, so the DINO and iBOT losses' three LogSoftmax nodes ran on
   * the CPU, each with its logits copied down and its output copied back.
   */
  logSoftmaxPrimitives?: boolean;
  /**
   * Make the Gather gradient's ScatterND index column (idx…, 1) without an int64 Reshape: WebGPU has no
   * int64 Reshape (its kernels take float, float16, int32 and uint32 data) and, in onnxruntime-node 1.30, no
   * Cast from int64, so that Reshape ran on the CPU. Instead Gather (int64 indices are an input WebGPU
   * takes) picks the column from the numbers 0 … n − 1 in float32, then Cast to int64 (ops/shape.ts
   * indexColumn). Exact for axes up to 2²⁴, which the builder checks.
   */
  indicesViaFloat?: boolean;
  /**
   * Self-attention as one ONNX Attention node (opset 23, standard domain) instead of MatMul → Softmax → MatMul
   * with the head transposes around them: onnxruntime's CPU kernel takes q, k, v as (B, T, D) with the head
   * count as an attribute, so the transposes, the split-off scaling Mul and the (B, h, T, T) score tensor
   * between kernels go. Extraction on the CPU, 5–8 % faster (ViT-S/16, ViT-Tiny/16, 20 × 20-patch tiles) with
   * the same numbers. Forward graphs only: Attention has no gradient rule. The graph is then serialised at
   * opset 23 (onnx.ts), so only sessions on onnxruntime's CPU provider get it; weight exports stay at opset 20.
   */
  attentionOp?: boolean;
  /**
   * Mixed precision (amp.ts): the products built with `autocastLinear` / `autocastMatmul` (the model's
   * Linear layers and attention, the heads) run in float16 on float32 parameters. Set by the trainer for
   * the student step on a GPU that runs float16 kernels; never on the CPU (few float16 kernels, slow).
   */
  mixedPrecision?: boolean;
}

/**
 * The lowering for onnxruntime's WebGPU provider: with it every node of the extraction and training graphs
 * runs on the GPU (core/graph/placement.ts measures it; core/train/placement.test.ts asserts it).
 */
export const webgpuLowering: Readonly<GraphLowering> = { sumAsAdds: true, logSoftmaxPrimitives: true, indicesViaFloat: true };

/** The lowering for a session that may run on any of `providers` (in preference order): WebGPU's where it is listed. */
export function loweringFor(providers: readonly string[]): GraphLowering {
  return providers.includes('webgpu') ? { ...webgpuLowering } : {};
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Tensor[] = [];
  readonly params: Tensor[] = [];
  readonly outputs: Tensor[] = [];
  readonly values = new Map<number, ValueInfo>();
  private readonly tensors: Tensor[] = [];
  private readonly names = new Set<string>();
  private readonly scopes: string[] = [];
  private region: 'forward' | 'backward' = 'forward';
  private rematGroup: number | null = null;
  private rematCount = 0;
  private readonly scalarCache = new Map<string, Tensor>();
  private readonly renamed = new Set<number>();
  /** Symbolic dims declared by inputs: where each symbol's value is read at run time. */
  readonly symbols = new Map<string, { sym: Sym; input: Tensor; axis: number }>();

  constructor(
    readonly name = 'dinoscope',
    readonly lowering: GraphLowering = {},
  ) {}

  // ---- naming --------------------------------------------------------------------------------------------

  /** Runs `fn` with `prefix` added to the names of everything it creates: `g.scope('block0/attn', () => …)`. */
  scope<T>(prefix: string, fn: () => T): T {
    this.scopes.push(prefix);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  private unique(base: string): string {
    const full = [...this.scopes, base].join('/');
    if (!this.names.has(full)) {
      this.names.add(full);
      return full;
    }
    for (let k = 1; ; k++) {
      const cand = `${full}_${k}`;
      if (!this.names.has(cand)) {
        this.names.add(cand);
        return cand;
      }
    }
  }

  private newTensor(dims: readonly Dim[], dtype: DType, name: string, info: ValueInfo): Tensor {
    const shape = dims.map(probeOf);
    for (const d of shape)
      if (!Number.isInteger(d) || d < 0) throw new Error(`graph: value ${name} has an invalid shape ${fmtShape(shape)}`);
    const t = dims.some(isSym)
      ? new Tensor(this, this.tensors.length, shape, dtype, name, [...dims])
      : new Tensor(this, this.tensors.length, shape, dtype, name);
    this.tensors.push(t);
    this.values.set(t.id, info);
    return t;
  }

  /** The value record of a tensor (who produces it, or its kind). */
  info(t: Tensor): ValueInfo {
    const v = this.values.get(t.id);
    if (!v || this.tensors[t.id] !== t) throw new Error(`graph: ${t} belongs to another graph`);
    return v;
  }

  /** The node producing `t`, or null for inputs, parameters and constants. */
  producer(t: Tensor): Node | null {
    return this.info(t).node;
  }

  // ---- leaves --------------------------------------------------------------------------------------------

  /**
   * A named graph input (data fed at every run). Names are global: scopes do not apply to inputs.
   * A dim given as a string is symbolic (ONNX dim_param): `g.input('images', ['batch', 3, 'height', 'width'])`.
   * The first input to name a symbol defines it; `probe` gives its value at build time (default 97), which
   * only static shape checks see (Tensor.shape).
   */
  input(
    name: string,
    shape: readonly (number | string)[],
    dtype: DType = 'float32',
    doc = '',
    probe: Readonly<Record<string, number>> = {},
  ): Tensor {
    if (this.names.has(name)) throw new Error(`graph: the name ${name} is already used`);
    const fresh: { sym: Sym; axis: number }[] = [];
    const dims: Dim[] = shape.map((d, axis) => {
      if (typeof d === 'number') return d;
      const known = this.symbols.get(d);
      if (known) return known.sym;
      const sym = Sym.symbol(d, probe[d] ?? 97);
      fresh.push({ sym, axis });
      return sym;
    });
    this.names.add(name);
    const t = this.newTensor(dims, dtype, name, { kind: 'input', node: null, index: 0, data: null, doc });
    for (const f of fresh) this.symbols.set(f.sym.key, { sym: f.sym, input: t, axis: f.axis });
    this.inputs.push(t);
    return t;
  }

  /** A trainable parameter: a graph input whose value the caller keeps (scoped name). */
  param(name: string, shape: Shape, dtype: DType = 'float32', doc = ''): Tensor {
    const full = this.unique(name);
    const t = this.newTensor(shape, dtype, full, { kind: 'param', node: null, index: 0, data: null, doc });
    this.params.push(t);
    return t;
  }

  /** A constant (ONNX initializer). */
  constant(value: HostTensor, name = 'const'): Tensor {
    return this.newTensor(value.dims, value.dtype, this.unique(name), { kind: 'const', node: null, index: 0, data: value, doc: '' });
  }

  /** A rank-0 constant, cached per (value, dtype). */
  scalar(value: number, dtype: DType = 'float32'): Tensor {
    const key = `${dtype}:${Object.is(value, -0) ? '-0' : String(value)}`;
    const hit = this.scalarCache.get(key);
    if (hit) return hit;
    const t = this.constant(hostTensor(dtype, [], [value]), `c_${dtype}_${String(value).replace(/[^0-9a-zA-Z.-]/g, '_')}`);
    this.scalarCache.set(key, t);
    return t;
  }

  /** A 1-D int64 constant (shapes, axes, pads, slice bounds). */
  ints(values: readonly number[], name = 'ints'): Tensor {
    const key = `ints:${values.join(',')}`;
    const hit = this.scalarCache.get(key);
    if (hit) return hit;
    const t = this.constant(hostTensor('int64', [values.length], values), name);
    this.scalarCache.set(key, t);
    return t;
  }

  /** Marks `t` as a graph output under `name` (an Identity node renames it when needed). */
  output(t: Tensor, name?: string, doc = ''): Tensor {
    let out = t;
    if (name !== undefined && name !== t.name) {
      if (this.names.has(name)) throw new Error(`graph: the output name ${name} is already used`);
      if (this.info(t).kind === 'node' && !this.outputs.includes(t) && !this.renamed.has(t.id)) {
        // Rename the node output itself (no Identity copy).
        this.names.add(name);
        t.name = name;
        this.renamed.add(t.id);
      } else {
        const node = this.addNode('Identity', [t], {}, [{ shape: t.dims, dtype: t.dtype }], name);
        out = node.outputs[0];
      }
    }
    if (doc) this.info(out).doc = doc;
    if (!this.outputs.includes(out)) this.outputs.push(out);
    return out;
  }

  // ---- nodes ---------------------------------------------------------------------------------------------

  /**
   * Adds one ONNX node. Op builders (ops/*.ts) compute the output shapes and call this; `outName` names the
   * first output exactly (only used for graph outputs).
   */
  addNode(op: string, inputs: (Tensor | null)[], attrs: Attrs, outs: { shape: readonly Dim[]; dtype: DType }[], outName?: string): Node {
    for (const x of inputs) if (x) this.info(x);
    const name = this.unique(op);
    const id = this.nodes.length;
    const node: Node = {
      id,
      op,
      inputs,
      outputs: [],
      attrs,
      name,
      stopGrad: false,
      remat: this.rematGroup,
      recompute: false,
      region: this.region,
    };
    outs.forEach((o, k) => {
      let vname: string;
      if (k === 0 && outName !== undefined) {
        this.names.add(outName);
        vname = outName;
      } else vname = this.unique(`${op}${outs.length > 1 ? `_${k}` : ''}_out`);
      node.outputs.push(this.newTensor(o.shape, o.dtype, vname, { kind: 'node', node, index: k, data: null, doc: '' }));
    });
    this.nodes.push(node);
    return node;
  }

  /** Adds a single-output node and returns its output. */
  op(op: string, inputs: (Tensor | null)[], attrs: Attrs, shape: readonly Dim[], dtype: DType): Tensor {
    return this.addNode(op, inputs, attrs, [{ shape, dtype }]).outputs[0];
  }

  // ---- regions -------------------------------------------------------------------------------------------

  /**
   * Marks everything `fn` builds for rematerialisation: `grad` recomputes these nodes in the backward
   * instead of keeping their outputs alive (e.g. the attention softmax). Trades time for memory.
   */
  remat<T>(fn: () => T): T {
    const prev = this.rematGroup;
    this.rematGroup = ++this.rematCount;
    try {
      return fn();
    } finally {
      this.rematGroup = prev;
    }
  }

  /** Used by autodiff: nodes built inside are tagged as backward nodes and named under `grad/`. */
  backward<T>(fn: () => T): T {
    const prevRegion = this.region;
    const prevRemat = this.rematGroup;
    this.region = 'backward';
    this.rematGroup = null;
    try {
      return this.scope('grad', fn);
    } finally {
      this.region = prevRegion;
      this.rematGroup = prevRemat;
    }
  }

  /** Current region, for rules that need to know. */
  get inBackward(): boolean {
    return this.region === 'backward';
  }

  /** All tensors ever created, by id. */
  tensor(id: number): Tensor {
    return this.tensors[id];
  }
}

/** The graph a tensor belongs to. */
export function graphOf(t: Tensor): Graph {
  const g = t.graph;
  if (!(g instanceof Graph)) throw new Error(`graph: ${t} has no graph`);
  return g;
}
