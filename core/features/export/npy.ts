// NumPy .npy (format version 1.0): magic "\x93NUMPY", version 1 0, uint16 LE header length, then an ASCII
// dict {'descr', 'fortran_order', 'shape'} padded with spaces and a newline so the data starts at a
// multiple of 64 bytes; then the data in C order, little-endian.
import { bytesOf } from '../bytes.js';
import { toFloat16 } from '../../common/half.js';

export type NpyDtype = 'float16' | 'float32' | 'uint8' | 'int32';
const DESCR: Record<NpyDtype, string> = { float16: '<f2', float32: '<f4', uint8: '|u1', int32: '<i4' };

export function npyHeader(dtype: NpyDtype, shape: readonly number[]): Uint8Array {
  const shp = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shp}, }`;
  const total = 10 + dict.length + 1;
  dict += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + dict.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, dict.length & 0xff, dict.length >> 8]);
  out.set(new TextEncoder().encode(dict), 10);
  return out;
}

/** A whole .npy file of `data` (C order) with `shape`; float32 input may be stored as float16. */
export function npyBytes(data: Float32Array | Uint8Array | Int32Array, shape: readonly number[], dtype?: NpyDtype): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`npy: shape ${shape.join('×')} holds ${count} values, data has ${data.length}`);
  const dt: NpyDtype = dtype ?? (data instanceof Float32Array ? 'float32' : data instanceof Uint8Array ? 'uint8' : 'int32');
  const body = dt === 'float16' ? bytesOf(toFloat16(data as Float32Array)) : bytesOf(data);
  const head = npyHeader(dt, shape);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}
