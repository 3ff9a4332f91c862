// JPEG-in-TIFF streams: merge the shared JPEGTables into each tile's abbreviated stream, and when the
// TIFF says the JPEG holds RGB (Photometric 2) rather than YCbCr (6), mark it with an Adobe APP14
// segment, transform = 0, so libjpeg-turbo skips its YCbCr→RGB conversion (and drop any JFIF APP0,
// which would imply YCbCr and take precedence). YCbCr streams are left alone: the decoder converts them.

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const APP0 = 0xe0;

/** Adobe APP14: "Adobe", version 100, flags0 0, flags1 0, transform 0 (no colour transform). */
const ADOBE_RGB = Uint8Array.from([0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00]);

/** Segments between SOI and SOS of a stream (without SOI), minus APP0 when dropApp0. */
function headerSegments(stream: Uint8Array, dropApp0: boolean): { parts: Uint8Array[]; rest: number } {
  const parts: Uint8Array[] = [];
  let p = 2;
  while (p + 4 <= stream.length && stream[p] === 0xff) {
    const marker = stream[p + 1];
    if (marker === SOS || marker === EOI) break;
    const len = (stream[p + 2] << 8) | stream[p + 3];
    if (!(marker === APP0 && dropApp0)) parts.push(stream.subarray(p, p + 2 + len));
    p += 2 + len;
  }
  return { parts, rest: p };
}

/** One complete JPEG stream for a tile: SOI, [Adobe], tables, the tile's own segments and scan. */
export function completeJpeg(tile: Uint8Array, tables: Uint8Array | null, rgb: boolean): Uint8Array {
  if (tile.length < 4 || tile[0] !== 0xff || tile[1] !== SOI) throw new Error('tile does not start with a JPEG SOI marker');
  const chunks: Uint8Array[] = [Uint8Array.from([0xff, SOI])];
  if (rgb) chunks.push(ADOBE_RGB);
  if (tables && tables.length > 4) {
    // JPEGTables is SOI, DQT/DHT segments, EOI: keep the segments.
    let end = tables.length;
    if (tables[end - 2] === 0xff && tables[end - 1] === EOI) end -= 2;
    chunks.push(tables.subarray(2, end));
  }
  const { parts, rest } = headerSegments(tile, rgb);
  chunks.push(...parts, tile.subarray(rest));
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Start-of-frame markers (baseline, extended, progressive, lossless; Huffman and arithmetic). */
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** Width and height from a JPEG stream's frame header (SOFn), read before any decoding; null when the
 * stream has no frame header before its scan. */
export function jpegFrameSize(stream: Uint8Array): { width: number; height: number } | null {
  let p = 2;
  while (p + 4 <= stream.length) {
    if (stream[p] !== 0xff) return null;
    const marker = stream[p + 1];
    if (marker === 0xff) {
      p++; // fill byte
      continue;
    }
    if (marker === SOS || marker === EOI) return null;
    const len = (stream[p + 2] << 8) | stream[p + 3];
    if (SOF.has(marker)) {
      if (p + 9 > stream.length) return null;
      return { height: (stream[p + 5] << 8) | stream[p + 6], width: (stream[p + 7] << 8) | stream[p + 8] };
    }
    p += 2 + len;
  }
  return null;
}
