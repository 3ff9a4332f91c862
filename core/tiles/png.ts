// A minimal PNG encoder for overlay tiles: 8-bit RGBA, no filtering, zlib level 1 (deflate on libuv's
// thread pool). About 3× faster than sharp's PNG path for the flat-coloured, nearest-neighbour tiles the
// overlays draw (rows repeat, so level 1 still compresses them well), which is most of a click's tile time.
import { promisify } from 'node:util';
import { crc32, deflate } from 'node:zlib';

const deflateAsync = promisify(deflate);
const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** One chunk: length, type, data, CRC of type + data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)) >>> 0);
  return out;
}

/** PNG bytes of (height, width, 4) RGBA pixels. */
export async function encodePngRgba(rgba: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  const row = width * 4;
  if (rgba.length !== row * height) throw new RangeError(`encodePngRgba: ${rgba.length} bytes for ${width} × ${height} RGBA.`);
  const raw = new Uint8Array(height * (row + 1)); // (height, 1 + width·4): filter byte 0, then the row
  for (let y = 0; y < height; y++) raw.set(rgba.subarray(y * row, (y + 1) * row), y * (row + 1) + 1);
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr.set([8, 6, 0, 0, 0], 8); // bit depth 8, colour type 6 (RGBA), deflate, no filter method, no interlace
  const idat = await deflateAsync(raw, { level: 1 });
  const parts = [SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
