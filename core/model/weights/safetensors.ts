// safetensors (https://github.com/huggingface/safetensors) read and write.
// File layout: u64 little-endian N | N bytes of JSON header | data. The header maps tensor names to
// {dtype, shape, data_offsets: [begin, end]} (offsets relative to the start of the data) plus an optional
// "__metadata__" object of string → string. Tensors are read lazily through a FileHandle, one at a time,
// so a multi-GB checkpoint is never loaded whole. Writes stream tensor by tensor into a temp file that is
// renamed over the target (atomic and fsynced, core/io/atomic.ts).
import type { FileHandle } from 'node:fs/promises';
import { DinoscopeError } from '../../common/errors.js';
import { writeHandleAtomic } from '../../io/atomic.js';
import { openRegularFileForReading } from '../../io/regular-file.js';
import { floatToBf16, floatToHalf, halfToFloat } from '../../common/half.js';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** Bytes per element of each dtype (also the element sizes of PyTorch's storages, pth.ts). */
export const dtypeBytes: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** The reference implementation refuses headers over 100 MB; so do we. */
const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  /** PyTorch order (row-major). */
  shape: number[];
  /** Absolute byte offset in the file. */
  offset: number;
  byteLength: number;
}

/** A float tensor in PyTorch layout: `data.length === product(shape)`, row-major. */
export interface WeightTensor {
  shape: number[];
  data: Float32Array;
}

const isDtype = (d: unknown): d is SafetensorsDtype => typeof d === 'string' && Object.prototype.hasOwnProperty.call(dtypeBytes, d);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** An open safetensors file: the header is parsed and validated against the file size; tensor data is read on demand. */
export class SafetensorsFile {
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    readonly tensors: ReadonlyMap<string, TensorInfo>,
    readonly metadata: Readonly<Record<string, string>>,
  ) {}

  static async open(path: string): Promise<SafetensorsFile> {
    const fh = await openRegularFileForReading(path);
    try {
      const { tensors, metadata } = await parseHeader(path, fh);
      return new SafetensorsFile(path, fh, tensors, metadata);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new DinoscopeError('NOT_FOUND', `${this.path}: no tensor named "${name}".`);
    return t;
  }

  /** The tensor's bytes as stored (little-endian). */
  async readRaw(name: string): Promise<Uint8Array> {
    const t = this.info(name);
    const buf = new Uint8Array(new ArrayBuffer(t.byteLength)); // own buffer: offset 0, aligned for any view
    let got = 0;
    while (got < t.byteLength) {
      const { bytesRead } = await this.fh.read(buf, got, t.byteLength - got, t.offset + got);
      if (bytesRead === 0)
        throw new DinoscopeError(
          'CORRUPT',
          `${this.path}: tensor "${name}" is truncated (file ended after ${got} of ${t.byteLength} bytes).`,
        );
      got += bytesRead;
    }
    return buf;
  }

  /** The tensor converted to float32 (F16, BF16, F64 and integer dtypes widen or narrow to float32). */
  async readFloat32(name: string): Promise<WeightTensor> {
    const t = this.info(name);
    const raw = await this.readRaw(name);
    return { shape: [...t.shape], data: toFloat32(t.dtype, raw) };
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** Reads every tensor as float32 into a Map (insertion order = file header order). */
export async function readSafetensors(path: string): Promise<{ tensors: Map<string, WeightTensor>; metadata: Record<string, string> }> {
  const file = await SafetensorsFile.open(path);
  try {
    const tensors = new Map<string, WeightTensor>();
    for (const name of file.names()) tensors.set(name, await file.readFloat32(name));
    return { tensors, metadata: { ...file.metadata } };
  } finally {
    await file.close();
  }
}

async function parseHeader(path: string, fh: FileHandle): Promise<{ tensors: Map<string, TensorInfo>; metadata: Record<string, string> }> {
  const corrupt = (what: string): never => {
    throw new DinoscopeError('CORRUPT', `${path}: ${what}.`);
  };
  const size = (await fh.stat()).size;
  if (size < 8) corrupt(`is not a safetensors file (${size} bytes, shorter than the 8-byte header length)`);
  const lenBuf = Buffer.alloc(8);
  await fh.read(lenBuf, 0, 8, 0);
  const headerLen = lenBuf.readBigUInt64LE(0);
  if (headerLen > BigInt(size - 8))
    corrupt(`is not a safetensors file or is truncated (header length ${headerLen} exceeds the ${size - 8} bytes after it)`);
  if (headerLen > BigInt(MAX_HEADER_BYTES)) corrupt(`safetensors header of ${headerLen} bytes is larger than the 100 MB limit`);
  const n = Number(headerLen);
  const headerBuf = Buffer.alloc(n);
  await fh.read(headerBuf, 0, n, 8);
  let header: unknown;
  try {
    header = JSON.parse(headerBuf.toString('utf8'));
  } catch (err) {
    return corrupt(`safetensors header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return corrupt('safetensors header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = size - dataStart;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) corrupt('"__metadata__" must be an object');
      for (const [k, v] of Object.entries(entry as Record<string, unknown>))
        if (typeof v !== 'string') corrupt(`"__metadata__.${k}" must be a string`);
      metadata = { ...(entry as Record<string, string>) };
      continue;
    }
    if (typeof entry !== 'object' || entry === null) return corrupt(`tensor "${name}" has no {dtype, shape, data_offsets} entry`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (!isDtype(dtype))
      corrupt(`tensor "${name}" has unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(dtypeBytes).join(', ')})`);
    if (!Array.isArray(shape) || !shape.every(isCount)) corrupt(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount))
      corrupt(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    const [begin, end] = offsets as [number, number];
    const dims = shape as number[];
    const expected = product(dims) * dtypeBytes[dtype as SafetensorsDtype];
    if (end < begin) corrupt(`tensor "${name}" has data_offsets [${begin}, ${end}] that end before they begin`);
    if (end - begin !== expected)
      corrupt(
        `tensor "${name}" ${dtype}[${dims.join(', ')}] needs ${expected} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
      );
    if (end > dataLen)
      corrupt(`tensor "${name}" data_offsets [${begin}, ${end}] run past the end of the data (${dataLen} bytes): the file is truncated`);
    tensors.set(name, { name, dtype: dtype as SafetensorsDtype, shape: dims, offset: dataStart + begin, byteLength: end - begin });
  }
  // Tensors must not overlap (the reference writer packs them back to back).
  const sorted = [...tensors.values()].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (sorted[i].offset < prev.offset + prev.byteLength) corrupt(`tensors "${prev.name}" and "${sorted[i].name}" overlap`);
  }
  return { tensors, metadata };
}

/** Converts stored little-endian bytes of `dtype` to float32. */
export function toFloat32(dtype: SafetensorsDtype, raw: Uint8Array): Float32Array {
  const buf = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
  switch (dtype) {
    case 'F32':
      return new Float32Array(buf);
    case 'F64':
      return Float32Array.from(new Float64Array(buf));
    case 'F16': {
      const h = new Uint16Array(buf);
      const out = new Float32Array(h.length);
      for (let i = 0; i < h.length; i++) out[i] = halfToFloat(h[i]);
      return out;
    }
    case 'BF16': {
      // bf16 is the high 16 bits of a float32: widen through a Uint32 view.
      const h = new Uint16Array(buf);
      const out = new Float32Array(h.length);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < h.length; i++) bits[i] = h[i] << 16;
      return out;
    }
    case 'I64': {
      const v = new BigInt64Array(buf);
      const out = new Float32Array(v.length);
      for (let i = 0; i < v.length; i++) out[i] = Number(v[i]);
      return out;
    }
    case 'I32':
      return Float32Array.from(new Int32Array(buf));
    case 'I16':
      return Float32Array.from(new Int16Array(buf));
    case 'I8':
      return Float32Array.from(new Int8Array(buf));
    case 'U8':
    case 'BOOL':
      return Float32Array.from(new Uint8Array(buf));
  }
}

/** One tensor to write: float data is stored as `dtype` (default F32; F16/BF16 round to nearest even). */
export type TensorToWrite =
  | { shape: readonly number[]; data: Float32Array; dtype?: 'F32' | 'F16' | 'BF16' }
  | { shape: readonly number[]; data: Float64Array; dtype: 'F64' }
  | { shape: readonly number[]; data: BigInt64Array; dtype: 'I64' };

function encode(t: TensorToWrite): Uint8Array {
  const dtype = t.dtype ?? 'F32';
  if (dtype === 'F16' || dtype === 'BF16') {
    const src = t.data as Float32Array;
    const out = new Uint16Array(src.length);
    const conv = dtype === 'F16' ? floatToHalf : floatToBf16;
    for (let i = 0; i < src.length; i++) out[i] = conv(src[i]);
    return new Uint8Array(out.buffer);
  }
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/**
 * Writes tensors (in the given order, after sorting by descending element size so every tensor stays
 * aligned) and optional string metadata. The header is padded with spaces to a multiple of 8 bytes, as the
 * reference writer does. Atomic: a temp file beside `path` is renamed over it.
 */
export async function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Promise<void> {
  const entries = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)) as [string, TensorToWrite][];
  const sources = entries.map(([name, t]): StreamedTensor => {
    const n = product(t.shape);
    if (t.data.length !== n)
      throw new DinoscopeError(
        'BAD_INPUT',
        `${path}: tensor "${name}" has ${t.data.length} values but shape [${t.shape.join(', ')}] needs ${n}.`,
      );
    return { name, dtype: t.dtype ?? 'F32', shape: t.shape, bytes: () => Promise.resolve(encode(t)) };
  });
  await writeSafetensorsStreamed(path, sources, metadata);
}

/** One tensor to write whose bytes (little-endian, row-major, `dtype`) are produced when its turn comes. */
export interface StreamedTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: readonly number[];
  bytes(): Promise<Uint8Array>;
}

/**
 * writeSafetensors for tensors read one at a time (a conversion from another format never holds more
 * than one tensor in memory). Same layout, same atomic write.
 */
export async function writeSafetensorsStreamed(
  path: string,
  tensors: readonly StreamedTensor[],
  metadata?: Record<string, string>,
): Promise<void> {
  const order = tensors.map((t, i) => ({ t, i, size: dtypeBytes[t.dtype] })).sort((a, b) => b.size - a.size || a.i - b.i);
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const { t, size } of order) {
    if (t.name === '__metadata__') throw new DinoscopeError('BAD_INPUT', `${path}: "__metadata__" is reserved and cannot name a tensor.`);
    const n = product(t.shape);
    header[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + n * size] };
    offset += n * size;
  }
  let json = JSON.stringify(header);
  const pad = (8 - (Buffer.byteLength(json) % 8)) % 8;
  json += ' '.repeat(pad);
  const headerBytes = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerBytes.length));

  await writeHandleAtomic(path, async (fh) => {
    await fh.write(len);
    await fh.write(headerBytes);
    for (const { t, size } of order) {
      const bytes = await t.bytes();
      if (bytes.length !== product(t.shape) * size)
        throw new DinoscopeError(
          'INTERNAL',
          `${path}: tensor "${t.name}" came with ${bytes.length} bytes, not ${product(t.shape) * size}.`,
        );
      let done = 0;
      while (done < bytes.length) done += (await fh.write(bytes, done, bytes.length - done)).bytesWritten;
    }
  }); // writeHandleAtomic fsyncs the file before the rename
}
