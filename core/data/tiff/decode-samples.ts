// Decode one channel tile of a multi-channel TIFF to float samples of the full tile size, in the file's
// units (tileHeight × tileWidth). Nothing is allocated beyond the declared tile size: inflate and LZW stop
// there, short tiles are zero-padded.
import { inflate } from 'node:zlib';
import { promisify } from 'node:util';
import { decodeLzw } from './lzw.js';
import type { SampleLayout } from './sample-layout.js';
import { Compression } from './tags.js';

const inflateAsync = promisify(inflate);

/** The tile's raw sample bytes, exactly tileWidth × tileHeight × bytes long. */
async function rawBytes(bytes: Uint8Array, layout: SampleLayout): Promise<Uint8Array> {
  const expected = layout.tileWidth * layout.tileHeight * layout.bytes;
  let raw: Uint8Array;
  if (layout.compression === Compression.None) raw = bytes;
  else if (layout.compression === Compression.LZW) raw = decodeLzw(bytes, expected);
  else {
    const b = await inflateAsync(bytes, { maxOutputLength: expected + 1024 * 1024 });
    raw = new Uint8Array(b.buffer, b.byteOffset, b.length);
  }
  if (raw.length === expected) return raw;
  const full = new Uint8Array(expected); // short tiles (trailing zeros omitted) are zero-padded, long ones cut
  full.set(raw.subarray(0, expected));
  return full;
}

export async function decodeSampleTile(bytes: Uint8Array, layout: SampleLayout): Promise<Float32Array> {
  const raw = await rawBytes(bytes, layout);
  const { tileWidth: w, tileHeight: h } = layout;
  const n = w * h;
  const out = new Float32Array(n);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const le = layout.littleEndian;
  if (layout.sampleType === 'uint8') for (let i = 0; i < n; i++) out[i] = raw[i];
  else if (layout.sampleType === 'uint16') for (let i = 0; i < n; i++) out[i] = view.getUint16(i * 2, le);
  else for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, le);
  if (layout.predictor === 2) {
    // Horizontal differencing, undone in the sample's own width (wrapping as the integer type does).
    const mod = layout.sampleType === 'uint8' ? 256 : 65536;
    for (let y = 0; y < h; y++) for (let x = 1; x < w; x++) out[y * w + x] = (out[y * w + x] + out[y * w + x - 1]) % mod;
  }
  return out;
}
