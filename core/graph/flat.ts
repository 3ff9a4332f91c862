// Flat parameter buffers: many tensors laid end to end in one 1-D buffer, so an update that is the same
// elementwise formula for every tensor (AdamW, clipping, an EMA) runs as a handful of large kernels instead
// of one small chain per tensor. The graph side gathers tensors into a buffer (Reshape to 1-D + one Concat)
// and views a buffer as tensors again (Slice + Reshape); the host side packs and unpacks the same layout,
// for state that checkpoints keep per tensor.
import { type Graph } from './graph.js';
import { concat, expand, reshape, slice } from './ops/shape.js';
import { type DType, type HostTensor, type Tensor, hostTensor, sizeOf } from './tensor.js';

/** One tensor's place in a flat buffer. */
export interface FlatSegment {
  name: string;
  shape: readonly number[];
  offset: number;
  size: number;
}

export interface FlatLayout {
  segments: FlatSegment[];
  /** Elements in the whole buffer. */
  size: number;
}

/** The layout of `tensors` laid end to end in order. */
export function flatLayout(tensors: readonly { name: string; shape: readonly number[] }[]): FlatLayout {
  let offset = 0;
  const segments = tensors.map((t) => {
    const size = sizeOf(t.shape);
    const s = { name: t.name, shape: [...t.shape], offset, size };
    offset += size;
    return s;
  });
  return { segments, size: offset };
}

/** In the graph: `tensors` as one 1-D buffer (each reshaped to 1-D, one Concat). */
export function flatConcat(tensors: readonly Tensor[]): Tensor {
  return concat(
    tensors.map((t) => (t.rank === 1 ? t : reshape(t, [t.size]))),
    0,
  );
}

/** In the graph: the tensors of `layout` as views of the 1-D buffer `flat` (Slice + Reshape each). */
export function flatViews(flat: Tensor, layout: FlatLayout): Tensor[] {
  if (flat.rank !== 1 || flat.shape[0] !== layout.size)
    throw new Error(`flatViews: ${flat} does not hold a layout of ${layout.size} elements`);
  if (layout.segments.length === 1) return [layout.segments[0].shape.length === 1 ? flat : reshape(flat, layout.segments[0].shape)];
  return layout.segments.map((s) => {
    const v = slice(flat, [0], [s.offset], [s.offset + s.size]);
    return s.shape.length === 1 ? v : reshape(v, s.shape);
  });
}

/**
 * In the graph: a per-element vector over `layout` holding `values[i]` on segment i, as constants expanded
 * (one Expand per run of equal values, one Concat) — onnxruntime folds it into one initializer when the
 * session is created, so it costs no kernel per run and the model file stays small. A plain number when
 * every segment has the same value.
 */
export function segmentValues(g: Graph, layout: FlatLayout, values: readonly number[], dtype: DType): Tensor | number {
  if (values.length !== layout.segments.length)
    throw new Error(`segmentValues: ${values.length} values for ${layout.segments.length} segments`);
  if (values.every((v) => v === values[0])) return values[0];
  const runs: { value: number; size: number }[] = [];
  layout.segments.forEach((s, i) => {
    if (s.size === 0) return;
    const last = runs[runs.length - 1];
    if (last && last.value === values[i]) last.size += s.size;
    else runs.push({ value: values[i], size: s.size });
  });
  return concat(
    runs.map((r) => expand(g.scalar(r.value, dtype), [r.size])),
    0,
  );
}

/** On the host: the tensors `get(name)` of `layout` packed into one buffer (dtype of the first); throws naming a missing one. */
export function packFlat(layout: FlatLayout, get: (name: string) => HostTensor | undefined): HostTensor {
  let out: HostTensor | null = null;
  for (const s of layout.segments) {
    const t = get(s.name);
    if (!t) throw new Error(`no value for ${s.name}`);
    if (t.data.length !== s.size)
      throw new Error(`${s.name} has ${t.data.length} elements, expected ${s.size} (shape [${s.shape.join(', ')}])`);
    out ??= hostTensor(t.dtype, [layout.size]);
    (out.data as Float32Array).set(t.data as Float32Array, s.offset);
  }
  return out ?? hostTensor('float32', [0]);
}

/** On the host: the tensors of `layout` copied out of the buffer `flat`. */
export function unpackFlat(layout: FlatLayout, flat: HostTensor): Map<string, HostTensor> {
  if (flat.data.length !== layout.size)
    throw new Error(`unpackFlat: a buffer of ${flat.data.length} elements for a layout of ${layout.size}`);
  const out = new Map<string, HostTensor>();
  for (const s of layout.segments)
    out.set(s.name, { dtype: flat.dtype, dims: [...s.shape], data: flat.data.slice(s.offset, s.offset + s.size) } as HostTensor);
  return out;
}
