// Tensors of the graph builder (symbolic: a static shape and a dtype, no data) and our own host tensor
// type (data plus dims) that callers exchange with the runtime adapter. Nothing here knows onnxruntime.
import { type Dim, fmtDims, isSym } from './sym.js';

export type DType = 'float32' | 'float64' | 'float16' | 'int64' | 'bool';
export type Shape = readonly number[];

/** Typed-array storage per dtype; float16 is raw IEEE half bits, bool is one byte per element (0 or 1). */
export interface DataOf {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  int64: BigInt64Array;
  bool: Uint8Array;
}
export type TensorData = DataOf[DType];

/** Our lightweight host tensor: what callers feed and receive. `data.length === product(dims)`. */
export interface HostTensor<D extends DType = DType> {
  dtype: D;
  dims: number[];
  data: DataOf[D];
}

export const isFloat = (d: DType): boolean => d === 'float32' || d === 'float64' || d === 'float16';

export const sizeOf = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

export const bytesPerElement: Record<DType, number> = { float32: 4, float64: 8, float16: 2, int64: 8, bool: 1 };

/** Allocates zeroed storage of `n` elements for `dtype`. */
export function allocData<D extends DType>(dtype: D, n: number): DataOf[D] {
  const make: { [K in DType]: (n: number) => DataOf[K] } = {
    float32: (k) => new Float32Array(k),
    float64: (k) => new Float64Array(k),
    float16: (k) => new Uint16Array(k),
    int64: (k) => new BigInt64Array(k),
    bool: (k) => new Uint8Array(k),
  };
  return make[dtype](n) as DataOf[D];
}

/** Builds a host tensor, checking that the data length matches the dims. */
export function hostTensor<D extends DType>(dtype: D, dims: readonly number[], data?: DataOf[D] | readonly number[]): HostTensor<D> {
  const n = sizeOf(dims);
  let out: DataOf[D];
  if (data === undefined) out = allocData(dtype, n);
  else if (Array.isArray(data)) {
    out = allocData(dtype, n);
    const src = data as readonly number[];
    if (dtype === 'int64') for (let i = 0; i < src.length; i++) (out as BigInt64Array)[i] = BigInt(src[i]);
    else (out as Float32Array).set(src);
  } else out = data as DataOf[D];
  if (out.length !== n)
    throw new Error(`hostTensor: ${dtype} data of length ${out.length} does not fill dims [${dims.join(', ')}] (${n} elements)`);
  return { dtype, dims: [...dims], data: out };
}

/**
 * A value in a graph under construction. Created only by `Graph`. `shape` is static: the exact shape, or
 * for a value with symbolic dims (sym.ts) its shape at the probe sizes; `dims` has the symbolic dims.
 */
export class Tensor {
  /** true when some dim is symbolic. */
  readonly symbolic: boolean;
  constructor(
    readonly graph: GraphLike,
    readonly id: number,
    readonly shape: Shape,
    readonly dtype: DType,
    /** The ONNX value name (unique in the graph; Graph.output may rename a node output once). */
    public name: string,
    /** The dims, numbers where static (the same array as `shape` for a static value). */
    readonly dims: readonly Dim[] = shape,
  ) {
    this.symbolic = dims.some(isSym);
  }
  get rank(): number {
    return this.shape.length;
  }
  get size(): number {
    return sizeOf(this.shape);
  }
  toString(): string {
    return `${this.name}:${this.dtype}${this.symbolic ? fmtDims(this.dims).replace(/ /g, '') : `[${this.shape.join(',')}]`}`;
  }
}

/** The part of Graph that Tensor needs (breaks the import cycle). */
export interface GraphLike {
  readonly name: string;
}

export const fmtShape = (s: Shape): string => `[${s.join(', ')}]`;
