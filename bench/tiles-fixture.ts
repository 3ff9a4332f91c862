// The tiles benchmark's slide: a JPEG-tiled pyramidal BigTIFF of any size (100,000 × 100,000 by default),
// written directly, because libvips-through-sharp refuses JPEG compression above 65,535 px a side.
// Content: the core/data fixture pattern (period 2048 px), so each level has few distinct tiles (64 at
// full resolution, then 16, 4, 1…): those are encoded once with sharp (baseline YCbCr 4:2:0, q80) and
// written at every tile position, each at its own offset, so the file has a real slide's size and I/O.
// Levels halve (rounding up) until one tile holds the level; tiles are 256 × 256; Photometric YCbCr.
import sharp from 'sharp';
import { PATTERN_PERIOD, patternRgb } from '../core/data/fixtures/pattern.js';
import { writeHandleAtomic } from '../core/io/atomic.js';

const TILE = 256;

interface Level {
  width: number;
  height: number;
  across: number;
  down: number;
  offsets: bigint[];
  counts: bigint[];
}

/** Distinct tiles of level k: the pattern period shrunk by 2^k, tiled to whole 256-px tiles. */
let base: Uint8Array | null = null;

async function uniqueTiles(k: number, quality: number): Promise<{ period: number; tiles: Buffer[] }> {
  base ??= patternRgb(0, 0, PATTERN_PERIOD, PATTERN_PERIOD); // (2048, 2048, 3)
  const side = Math.max(1, Math.round(PATTERN_PERIOD / 2 ** k)); // the period at this level, in pixels
  const periodTiles = Math.max(1, Math.ceil(side / TILE)); // distinct tiles per row/column
  const canvas = periodTiles * TILE;
  const small = await sharp(base, { raw: { width: PATTERN_PERIOD, height: PATTERN_PERIOD, channels: 3 } })
    .resize(side, side, { kernel: 'lanczos3' })
    .raw()
    .toBuffer(); // (side, side, 3)
  // Repeat the shrunk period over the canvas (periods smaller than a tile repeat within it).
  let rgb = small;
  if (canvas !== side) {
    rgb = Buffer.alloc(canvas * canvas * 3); // (canvas, canvas, 3)
    for (let y = 0; y < canvas; y++)
      for (let x = 0; x < canvas; x++)
        small.copy(rgb, 3 * (y * canvas + x), 3 * ((y % side) * side + (x % side)), 3 * ((y % side) * side + (x % side)) + 3);
  }
  const tiles: Buffer[] = [];
  for (let ty = 0; ty < periodTiles; ty++)
    for (let tx = 0; tx < periodTiles; tx++) {
      const img = sharp(rgb, { raw: { width: canvas, height: canvas, channels: 3 } }).extract({
        left: tx * TILE,
        top: ty * TILE,
        width: TILE,
        height: TILE,
      });
      tiles.push(await img.jpeg({ quality, mozjpeg: false, chromaSubsampling: '4:2:0' }).toBuffer());
    }
  return { period: periodTiles, tiles };
}

/** Writes the BigTIFF to `path` (through a temp file and a rename). `onLevel` reports progress. */
export async function writeBigPyramid(
  path: string,
  side: number,
  options: { quality?: number; onLevel?: (k: number, of: number) => void } = {},
): Promise<void> {
  const dims: [number, number][] = [[side, side]];
  while (dims[dims.length - 1][0] > TILE || dims[dims.length - 1][1] > TILE) {
    const [w, h] = dims[dims.length - 1];
    dims.push([Math.ceil(w / 2), Math.ceil(h / 2)]);
  }
  await writeHandleAtomic(path, async (fh) => {
    let pos = 16n; // after the header
    let buf = Buffer.alloc(16 * 2 ** 20);
    let used = 0;
    const flush = async (): Promise<void> => {
      if (used > 0) await fh.write(buf, 0, used, Number(pos) - used);
      used = 0;
    };
    const put = async (bytes: Buffer): Promise<bigint> => {
      if (used + bytes.length > buf.length) await flush();
      if (bytes.length > buf.length) buf = Buffer.alloc(bytes.length);
      const at = pos;
      bytes.copy(buf, used);
      used += bytes.length;
      pos += BigInt(bytes.length);
      return at;
    };
    const levels: Level[] = [];
    for (const [k, [width, height]] of dims.entries()) {
      options.onLevel?.(k, dims.length);
      const { period, tiles } = await uniqueTiles(k, options.quality ?? 80);
      const across = Math.ceil(width / TILE);
      const down = Math.ceil(height / TILE);
      const level: Level = { width, height, across, down, offsets: [], counts: [] };
      for (let ty = 0; ty < down; ty++)
        for (let tx = 0; tx < across; tx++) {
          const t = tiles[(ty % period) * period + (tx % period)];
          level.offsets.push(await put(t));
          level.counts.push(BigInt(t.length));
        }
      levels.push(level);
    }
    // IFDs after the tile data, each followed by its offset and byte-count arrays.
    const ifdOffsets: bigint[] = [];
    for (const [k, level] of levels.entries()) {
      if (pos % 2n) await put(Buffer.alloc(1)); // word alignment
      const n = level.offsets.length;
      const arrays = Buffer.alloc(16 * n);
      level.offsets.forEach((o, i) => arrays.writeBigUInt64LE(o, 8 * i));
      level.counts.forEach((c, i) => arrays.writeBigUInt64LE(c, 8 * (n + i)));
      const arraysAt = await put(arrays);
      // [tag, type, count, value]: SHORT 3, LONG 4, LONG8 16; inline values fit in 8 bytes.
      const entries: [number, number, bigint, (b: Buffer, at: number) => void][] = [
        [254, 4, 1n, (b, at) => b.writeUInt32LE(k === 0 ? 0 : 1, at)],
        [256, 4, 1n, (b, at) => b.writeUInt32LE(level.width, at)],
        [257, 4, 1n, (b, at) => b.writeUInt32LE(level.height, at)],
        [258, 3, 3n, (b, at) => [8, 8, 8].forEach((v, i) => b.writeUInt16LE(v, at + 2 * i))],
        [259, 3, 1n, (b, at) => b.writeUInt16LE(7, at)], // JPEG
        [262, 3, 1n, (b, at) => b.writeUInt16LE(6, at)], // YCbCr
        [277, 3, 1n, (b, at) => b.writeUInt16LE(3, at)],
        [284, 3, 1n, (b, at) => b.writeUInt16LE(1, at)],
        [322, 3, 1n, (b, at) => b.writeUInt16LE(TILE, at)],
        [323, 3, 1n, (b, at) => b.writeUInt16LE(TILE, at)],
        // One LONG8 fits in the entry itself (TIFF stores values ≤ 8 bytes inline).
        [324, 16, BigInt(n), (b, at) => b.writeBigUInt64LE(n === 1 ? level.offsets[0] : arraysAt, at)],
        [325, 16, BigInt(n), (b, at) => b.writeBigUInt64LE(n === 1 ? level.counts[0] : arraysAt + BigInt(8 * n), at)],
        [530, 3, 2n, (b, at) => [2, 2].forEach((v, i) => b.writeUInt16LE(v, at + 2 * i))],
      ];
      const ifd = Buffer.alloc(8 + 20 * entries.length + 8);
      ifd.writeBigUInt64LE(BigInt(entries.length), 0);
      entries.forEach(([tag, type, count, write], i) => {
        const at = 8 + 20 * i;
        ifd.writeUInt16LE(tag, at);
        ifd.writeUInt16LE(type, at + 2);
        ifd.writeBigUInt64LE(count, at + 4);
        write(ifd, at + 12);
      });
      ifdOffsets.push(await put(ifd)); // next-IFD offsets are patched below
    }
    await flush();
    const ifdSize = 8 + 20 * 13;
    for (let i = 0; i < ifdOffsets.length; i++) {
      const next = Buffer.alloc(8);
      next.writeBigUInt64LE(i + 1 < ifdOffsets.length ? ifdOffsets[i + 1] : 0n);
      await fh.write(next, 0, 8, Number(ifdOffsets[i]) + ifdSize);
    }
    const header = Buffer.alloc(16);
    header.write('II', 0, 'latin1');
    header.writeUInt16LE(43, 2); // BigTIFF
    header.writeUInt16LE(8, 4); // offset size
    header.writeBigUInt64LE(ifdOffsets[0], 8);
    await fh.write(header, 0, 16, 0);
  });
}
