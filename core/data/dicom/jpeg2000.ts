// JPEG 2000 frames through OpenJPEG compiled to WebAssembly (@cornerstonejs/codec-openjpeg, pinned): no
// native code, the same in Node, the esbuild-built CLI (kept external there, so the package finds its
// .wasm beside its .js) and the packaged app (read from app.asar by Electron's fs). Loaded on the first
// JPEG 2000 frame only; its log lines are silenced (the CLI's stdout carries JSON).
import { createRequire } from 'node:module';

/** The part of the Emscripten module we use (its Embind classes). */
export interface OpenJpegModule {
  J2KDecoder: new () => {
    getEncodedBuffer(length: number): Uint8Array;
    decode(): void;
    getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned: boolean };
    getDecodedBuffer(): Uint8Array;
    delete(): void;
  };
  J2KEncoder: new () => {
    getDecodedBuffer(info: { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned: boolean }): Uint8Array;
    setQuality(lossless: boolean, quality: number): void;
    setCompressionRatio(layer: number, ratio: number): void;
    encode(): void;
    getEncodedBuffer(): Uint8Array;
    delete(): void;
  };
}

let loading: Promise<OpenJpegModule> | null = null;

/** The codec, instantiated once per process (thread) on first use. */
export function loadOpenJpeg(): Promise<OpenJpegModule> {
  loading ??= (async () => {
    const require = createRequire(import.meta.url);
    const factory = require('@cornerstonejs/codec-openjpeg/wasmjs') as (options: object) => Promise<OpenJpegModule>;
    const quiet = (): void => undefined;
    return factory({ print: quiet, printErr: quiet });
  })();
  return loading;
}

/** Image size from a codestream's SIZ marker segment (right after SOC), before decoding; null if absent. */
export function jpeg2000Size(bytes: Uint8Array): { width: number; height: number; components: number; bits: number } | null {
  if (bytes.length < 43 || bytes[0] !== 0xff || bytes[1] !== 0x4f || bytes[2] !== 0xff || bytes[3] !== 0x51) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const xsiz = v.getUint32(8);
  const ysiz = v.getUint32(12);
  const x0 = v.getUint32(16);
  const y0 = v.getUint32(20);
  // Ssiz of the first component: its bit depth − 1 (the high bit says signed).
  return { width: xsiz - x0, height: ysiz - y0, components: v.getUint16(40), bits: (bytes[42] & 0x7f) + 1 };
}

export interface DecodedJpeg2000 {
  data: Uint8Array;
  width: number;
  height: number;
  components: number;
  bitsPerSample: number;
}

/** Decode one codestream to interleaved samples (components applied back to RGB where it says so). */
export async function decodeJpeg2000(bytes: Uint8Array): Promise<DecodedJpeg2000> {
  const codec = await loadOpenJpeg();
  const decoder = new codec.J2KDecoder();
  try {
    decoder.getEncodedBuffer(bytes.length).set(bytes);
    decoder.decode();
    const info = decoder.getFrameInfo();
    return {
      data: decoder.getDecodedBuffer().slice(), // out of the codec's memory, which the next decode reuses
      width: info.width,
      height: info.height,
      components: info.componentCount,
      bitsPerSample: info.bitsPerSample,
    };
  } catch (err) {
    loading = null; // a WebAssembly abort leaves the instance unusable: the next frame gets a fresh one
    throw err;
  } finally {
    decoder.delete();
  }
}
