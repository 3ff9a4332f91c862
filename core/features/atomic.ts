// Atomic file writes: write a sibling temp file, then rename over the target (POSIX rename is atomic),
// so a crash leaves either the old file or the new one, never a torn one.
import { rename, writeFile } from 'node:fs/promises';

let counter = 0;

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${counter++}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** Bytes of a typed array's exact window (no copy). */
export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
