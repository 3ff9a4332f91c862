// Decode one DICOM frame to RGB of the frame size: uncompressed (interleaved or planar, grey, YBR_FULL),
// JPEG (libvips via sharp; RGB-component streams marked so the decoder does not convert them, as for TIFF)
// and JPEG 2000 (the OpenJPEG WebAssembly codec, jpeg2000.ts). A compressed frame's own size is read
// from its header first and must not exceed the frame size the instance declares.
import { sharp } from '../../io/sharp.js';
import { DinoscopeError } from '../../common/errors.js';
import type { RgbImage } from '../reader.js';
import { copyRect, toRgb, whiteImage } from '../rgb.js';
import { completeJpeg, jpegFrameSize } from '../tiff/jpeg.js';
import type { DicomInstance } from './instance.js';
import { decodeJpeg2000, jpeg2000Size } from './jpeg2000.js';

/** YCbCr (full range, ITU-R BT.601 as DICOM's YBR_FULL) to RGB, in place on interleaved samples. */
export function ybrFullToRgb(data: Uint8Array): void {
  const clamp = (x: number): number => (x < 0 ? 0 : x > 255 ? 255 : Math.round(x));
  for (let i = 0; i + 2 < data.length; i += 3) {
    const y = data[i];
    const cb = data[i + 1] - 128;
    const cr = data[i + 2] - 128;
    data[i] = clamp(y + 1.402 * cr);
    data[i + 1] = clamp(y - 0.344136 * cb - 0.714136 * cr);
    data[i + 2] = clamp(y + 1.772 * cb);
  }
}

/** A decoded image placed in a white frame-sized tile (a smaller one is padded, never stretched). */
function fitted(img: RgbImage, w: number, h: number): RgbImage {
  if (img.width === w && img.height === h) return img;
  const tile = whiteImage(w, h);
  copyRect(img, 0, 0, tile, 0, 0, Math.min(img.width, w), Math.min(img.height, h));
  return tile;
}

function tooLarge(what: string, size: { width: number; height: number }, inst: DicomInstance, codec: string): DinoscopeError {
  return new DinoscopeError(
    'CORRUPT',
    `${what}: its ${codec} frame is ${size.width} × ${size.height} pixels, larger than the instance's ${inst.tileWidth} × ${inst.tileHeight} frames.`,
  );
}

function raw(bytes: Uint8Array, inst: DicomInstance): RgbImage {
  const { tileWidth: w, tileHeight: h, samples } = inst;
  const n = w * h;
  let data = bytes.subarray(0, n * samples);
  if (samples === 3 && inst.planar === 1) {
    const out = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      out[3 * i] = data[i];
      out[3 * i + 1] = data[n + i];
      out[3 * i + 2] = data[2 * n + i];
    }
    data = out;
  } else if (inst.photometric === 'YBR_FULL' || inst.photometric === 'MONOCHROME1') data = data.slice();
  if (inst.photometric === 'MONOCHROME1') for (let i = 0; i < data.length; i++) data[i] = 255 - data[i];
  if (inst.photometric === 'YBR_FULL') ybrFullToRgb(data);
  return toRgb(data, w, h, samples);
}

async function jpeg(bytes: Uint8Array, inst: DicomInstance, what: string): Promise<RgbImage> {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8)
    throw new DinoscopeError('CORRUPT', `${what}: not a JPEG frame (no SOI marker).`);
  // An RGB-component stream is marked "no transform" so libjpeg does not take it for YCbCr.
  const stream = inst.photometric === 'RGB' ? completeJpeg(bytes, null, true) : bytes;
  const size = jpegFrameSize(stream);
  if (!size) throw new DinoscopeError('CORRUPT', `${what}: its JPEG frame has no frame header (SOF) before the scan.`);
  if (size.width > inst.tileWidth || size.height > inst.tileHeight) throw tooLarge(what, size, inst, 'JPEG');
  const limitInputPixels = Math.max(1, inst.tileWidth * inst.tileHeight);
  const { data, info } = await sharp(stream, { failOn: 'error', limitInputPixels }).raw().toBuffer({ resolveWithObject: true });
  return toRgb(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, info.channels);
}

async function jpeg2000(bytes: Uint8Array, inst: DicomInstance, what: string): Promise<RgbImage> {
  const size = jpeg2000Size(bytes);
  if (!size) throw new DinoscopeError('CORRUPT', `${what}: not a JPEG 2000 codestream (no SOC and SIZ markers).`);
  if (size.width > inst.tileWidth || size.height > inst.tileHeight) throw tooLarge(what, size, inst, 'JPEG 2000');
  if (size.bits !== 8)
    throw new DinoscopeError('UNSUPPORTED', `${what}: its JPEG 2000 frame has ${size.bits}-bit samples (Dinoscope reads 8-bit ones).`);
  const img = await decodeJpeg2000(bytes);
  if (img.bitsPerSample !== 8 || img.width !== size.width || img.height !== size.height)
    throw new DinoscopeError(
      'CORRUPT',
      `${what} cannot be decoded (the JPEG 2000 decoder returned no ${size.width} × ${size.height} image).`,
    );
  // YBR_ICT and YBR_RCT frames are turned back into RGB by the decoder (the codestream's component
  // transform); only YBR_FULL frames hold YCbCr that the codestream does not say.
  if (inst.photometric === 'YBR_FULL' && img.components === 3) ybrFullToRgb(img.data);
  return toRgb(img.data, img.width, img.height, img.components);
}

/** `what` names the frame in errors (e.g. "/a/level-0.dcm: frame 12"). */
export async function decodeFrame(bytes: Uint8Array, inst: DicomInstance, what: string): Promise<RgbImage> {
  try {
    const img =
      inst.codec === 'raw' ? raw(bytes, inst) : inst.codec === 'jpeg' ? await jpeg(bytes, inst, what) : await jpeg2000(bytes, inst, what);
    return fitted(img, inst.tileWidth, inst.tileHeight);
  } catch (err) {
    if (err instanceof DinoscopeError) throw err;
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new DinoscopeError('CORRUPT', `${what} cannot be decoded (${msg}).`);
  }
}
