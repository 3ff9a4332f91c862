// Generates build/icons/ from resources/icon.svg with sharp alone: a PNG per size (Linux, and the
// electron-builder fallback), icon.ico (Windows: PNG-compressed entries) and icon.icns (macOS: PNG
// entries, the ic07–ic14 types). Run `node build/make-icons.mjs` after editing the SVG; the output is
// committed so packaging needs nothing but the config.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'build', 'icons');
export const pngSizes = [16, 24, 32, 48, 64, 128, 256, 512, 1024];
export const icoSizes = [16, 24, 32, 48, 64, 128, 256];
/** ICNS PNG entry types and their pixel sizes. */
export const icnsTypes = { ic11: 32, ic12: 64, ic07: 128, ic13: 256, ic08: 256, ic14: 512, ic09: 512, ic10: 1024 };

async function atomicWrite(file, bytes) {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, file);
}

/** ICO: ICONDIR (6 bytes), one ICONDIRENTRY (16 bytes) per image, then the PNGs. */
export function encodeIco(images) {
  const header = Buffer.alloc(6 + 16 * images.length);
  header.writeUInt16LE(0, 0); // reserved
  header.writeUInt16LE(1, 2); // type: icon
  header.writeUInt16LE(images.length, 4);
  let offset = header.length;
  images.forEach(({ size, png }, i) => {
    const e = 6 + 16 * i;
    header.writeUInt8(size >= 256 ? 0 : size, e); // 0 means 256
    header.writeUInt8(size >= 256 ? 0 : size, e + 1);
    header.writeUInt8(0, e + 2); // palette colours
    header.writeUInt8(0, e + 3); // reserved
    header.writeUInt16LE(1, e + 4); // colour planes
    header.writeUInt16LE(32, e + 6); // bits per pixel
    header.writeUInt32LE(png.length, e + 8);
    header.writeUInt32LE(offset, e + 12);
    offset += png.length;
  });
  return Buffer.concat([header, ...images.map((im) => im.png)]);
}

/** ICNS: 'icns' + total length (big-endian), then per entry its type, length (with its 8-byte head), data. */
export function encodeIcns(entries) {
  const parts = entries.map(({ type, png }) => {
    const head = Buffer.alloc(8);
    head.write(type, 0, 'latin1');
    head.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([head, png]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'latin1');
  head.writeUInt32BE(8 + parts.reduce((n, p) => n + p.length, 0), 4);
  return Buffer.concat([head, ...parts]);
}

async function main() {
  const svg = await readFile(path.join(root, 'resources', 'icon.svg'));
  await mkdir(out, { recursive: true });
  const png = new Map();
  for (const size of pngSizes) {
    const bytes = await sharp(svg, { density: Math.max(72, (72 * size) / 1024) * 4 })
      .resize(size, size)
      .png({ compressionLevel: 9 })
      .toBuffer();
    png.set(size, bytes);
    if (size <= 512) await atomicWrite(path.join(out, `${size}x${size}.png`), bytes);
  }
  await atomicWrite(path.join(out, 'icon.png'), png.get(512));
  await atomicWrite(path.join(out, 'icon.ico'), encodeIco(icoSizes.map((size) => ({ size, png: png.get(size) }))));
  await atomicWrite(
    path.join(out, 'icon.icns'),
    encodeIcns(Object.entries(icnsTypes).map(([type, size]) => ({ type, png: png.get(size) }))),
  );
  process.stderr.write(`make-icons: wrote ${out}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
