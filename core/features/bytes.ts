// Byte views for writing typed arrays to disk without copying.
/** Bytes of a typed array's exact window (no copy). */
export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
