// `npm run bench -- dicom`: the DICOM whole-slide reader (core/data/readers/dicom.ts). (1) Opening a
// TILED_SPARSE instance with many frames, whose per-frame functional groups (one item per frame, tile
// positions) are the largest header a slide has: FRAMES frames of 16 × 16 px (uncompressed, so the file
// stays small), open time. (2) Decoding 256-px tiles: 64 tiles read once each (cache
// missed) from an uncompressed, a JPEG and a JPEG 2000 (10:1) instance, tiles/s per codec.
// The last line is `dicom open_s_per_100k_frames S j2k_tiles_per_s T`. Environment: DINOSCOPE_BENCH_FRAMES
// (default 200000).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FixtureCodec, writeDicomInstance } from '../core/data/fixtures/dicom.js';
import { patternRgb } from '../core/data/fixtures/pattern.js';
import { openImage } from '../core/data/readers/registry.js';
import { fmtMachine } from './lib/machine.js';

const FRAMES = Number(process.env.DINOSCOPE_BENCH_FRAMES ?? 200_000);
const log = (line: string): void => void process.stderr.write(line + '\n');
const dir = mkdtempSync(join(tmpdir(), 'dinoscope-dicom-bench-'));

try {
  log(`dicom: ${fmtMachine()}`);
  // (1) A sparse instance: a square grid of 16-px tiles, every 8th tile absent.
  const tile = 16;
  const side = Math.ceil(Math.sqrt((FRAMES * 8) / 7)) * tile;
  const sparse = join(dir, 'sparse.dcm');
  await writeDicomInstance(sparse, {
    seriesUid: '2.25.1',
    image: { data: patternRgb(0, 0, side, side), width: side, height: side },
    tile,
    mppUm: 0.25,
    sparseSkip: (tx, ty) => (tx + ty * 7) % 8 === 0, // the same rule counts the frames below
  });
  const t0 = performance.now();
  const r = await openImage(sparse);
  const openS = (performance.now() - t0) / 1000;
  const across = side / tile;
  let frames = 0;
  for (let ty = 0; ty < across; ty++) for (let tx = 0; tx < across; tx++) if ((tx + ty * 7) % 8 !== 0) frames++;
  await r.close();
  log(
    `sparse ${side} × ${side}, ${frames} frames of ${tile}², ${(statSync(sparse).size / 2 ** 20).toFixed(0)} MB: open ${openS.toFixed(2)} s`,
  );

  // (2) 64 tiles of 256 px per codec, each decoded once.
  const rates: Record<string, number> = {};
  for (const codec of ['raw', 'jpeg', 'jpeg2000'] as FixtureCodec[]) {
    const path = join(dir, `${codec}.dcm`);
    await writeDicomInstance(path, {
      seriesUid: `2.25.${codec.length}`,
      image: { data: patternRgb(0, 0, 2048, 2048), width: 2048, height: 2048 },
      tile: 256,
      codec,
    });
    const reader = await openImage(path);
    const t = performance.now();
    for (let ty = 0; ty < 8; ty++) for (let tx = 0; tx < 8; tx++) await reader.readRegion(0, tx * 256, ty * 256, 256, 256);
    rates[codec] = 64 / ((performance.now() - t) / 1000);
    await reader.close();
    log(`${codec.padEnd(9)} ${rates[codec].toFixed(0)} tiles/s (256², one thread, sequential)`);
  }
  process.stdout.write(
    `dicom open_s_per_100k_frames ${((openS * 100_000) / frames).toFixed(2)} j2k_tiles_per_s ${rates.jpeg2000.toFixed(0)}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
