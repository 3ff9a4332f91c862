// A PNG's physical pixel size (the pHYs chunk: pixels per metre, unit byte 1 = metre), set from µm per pixel.
// libvips always writes pHYs, at 1 pixel/mm unless told otherwise, which other tools then read as
// 1 mm per map pixel; we replace whatever pHYs the encoder wrote with the true one, or drop it when the
// source image has no calibration (no pHYs means "unknown", the honest answer).
import { crc32 } from 'node:zlib';
import { DinoscopeError } from '../../common/errors.js';

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

interface Chunk {
  type: string;
  start: number;
  end: number;
}

function chunks(png: Uint8Array): Chunk[] {
  if (png.length < 8 || SIGNATURE.some((b, i) => png[i] !== b)) throw new DinoscopeError('CORRUPT', 'PNG: not a PNG stream.');
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: Chunk[] = [];
  for (let p = 8; p + 12 <= png.length;) {
    const len = dv.getUint32(p);
    const type = String.fromCharCode(png[p + 4], png[p + 5], png[p + 6], png[p + 7]);
    const end = p + 12 + len;
    if (end > png.length) throw new DinoscopeError('CORRUPT', 'PNG: a chunk runs past the end of the stream.');
    out.push({ type, start: p, end });
    p = end;
  }
  return out;
}

/** One pHYs chunk (length, type, 9 data bytes, CRC) for `pxPerMetre` in x and y. */
function physChunk(pxPerMetre: number): Uint8Array {
  const c = new Uint8Array(21);
  const dv = new DataView(c.buffer);
  dv.setUint32(0, 9);
  c.set([0x70, 0x48, 0x59, 0x73], 4); // "pHYs"
  dv.setUint32(8, pxPerMetre);
  dv.setUint32(12, pxPerMetre);
  c[16] = 1; // unit: metre
  dv.setUint32(17, crc32(c.subarray(4, 17)));
  return c;
}

/** Pixels per metre for µm per pixel (rounded: pHYs holds integers). */
export const pxPerMetre = (umPerPixel: number): number => Math.round(1e6 / umPerPixel);

/** The PNG with its pHYs replaced by `umPerPixel` µm per pixel (both axes), or removed when null. */
export function withPngPhys(png: Uint8Array, umPerPixel: number | null): Uint8Array {
  if (umPerPixel !== null && !(umPerPixel > 0 && Number.isFinite(umPerPixel)))
    throw new DinoscopeError('BAD_INPUT', `PNG: µm per pixel must be positive, got ${umPerPixel}.`);
  const parts: Uint8Array[] = [png.subarray(0, 8)];
  for (const c of chunks(png)) {
    if (c.type === 'pHYs') continue;
    parts.push(png.subarray(c.start, c.end));
    if (c.type === 'IHDR' && umPerPixel !== null) parts.push(physChunk(pxPerMetre(umPerPixel))); // pHYs must precede IDAT
  }
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
