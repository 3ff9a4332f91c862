// Atomic, fsynced writes live in core/io/atomic.ts; re-exported here for the feature and analysis writers.
export { writeFileAtomic } from '../io/atomic.js';

/** Bytes of a typed array's exact window (no copy). */
export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
