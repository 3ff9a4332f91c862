// PyTorch checkpoints (`torch.save`, the ZIP format of PyTorch ≥ 1.6) read as tensors only. The archive
// holds `<root>/data.pkl` (the pickled object) and `<root>/data/<key>` (each storage's raw bytes); tensors
// in the pickle are calls of torch._utils._rebuild_tensor_v2 on a persistent storage id. The pickle is read
// by ./pickle.ts, which runs none of its code, so a checkpoint that would execute something when loaded by
// Python imports as data or not at all. Nested dicts are flattened with '.' (a training checkpoint's
// {"teacher": {"backbone.blocks.0…": t}} gives "teacher.backbone.blocks.0…", which the layouts know);
// anything that is not a tensor (step counters, optimiser settings, argparse namespaces) is skipped.
// The legacy format (PyTorch < 1.6, a bare pickle stream) and TorchScript archives are refused with what to do.
import type { FileHandle } from 'node:fs/promises';
import { DinoscopeError } from '../../common/errors.js';
import { openRegularFileForReading } from '../../io/regular-file.js';
import { ZipArchive, type ZipEntry } from '../../io/zip.js';
import { type PickleGlobal, type PickleValue, unpickle } from './pickle.js';
import { type SafetensorsDtype, dtypeBytes, writeSafetensorsStreamed } from './safetensors.js';

/** torch's storage classes, as pickled, and the element type they hold. */
const STORAGE_DTYPES: Record<string, SafetensorsDtype> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};
/** data.pkl of a checkpoint is ~100 bytes per tensor; a larger one is not a state dict. */
const MAX_PICKLE_BYTES = 64 * 1024 * 1024;

interface StorageRef {
  kind: 'opaque';
  value: { storage: true; key: string; dtype: SafetensorsDtype; numel: number };
}
interface TensorRef {
  kind: 'opaque';
  value: { tensor: true; storage: StorageRef['value']; offset: number; shape: number[]; stride: number[] };
}

/** One tensor of a checkpoint: its bytes are read on demand, row-major and little-endian. */
export interface PthTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  byteLength: number;
}

const isTensor = (v: PickleValue): v is TensorRef =>
  typeof v === 'object' && v !== null && (v as TensorRef).kind === 'opaque' && (v as TensorRef).value.tensor === true;
const ints = (v: PickleValue, what: string, path: string): number[] => {
  const items =
    typeof v === 'object' && v !== null && (v as { kind?: string }).kind === 'tuple'
      ? (v as { items: PickleValue[] }).items
      : Array.isArray(v)
        ? v
        : null;
  if (!items || !items.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0))
    throw new DinoscopeError('CORRUPT', `${path}: a tensor's ${what} is not a list of sizes.`);
  return items as number[];
};

export class PthFile {
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private readonly zip: ZipArchive,
    private readonly root: string,
    private readonly refs: ReadonlyMap<string, TensorRef['value']>,
  ) {}

  /** Opens a checkpoint and lists its tensors; nothing of the tensor data is read yet. */
  static async open(path: string): Promise<PthFile> {
    const fh = await openRegularFileForReading(path);
    try {
      const head = Buffer.alloc(2);
      await fh.read(head, 0, 2, 0);
      if (head[0] === 0x80 && head[1] <= 5)
        throw new DinoscopeError(
          'UNSUPPORTED',
          `${path}: saved in PyTorch's legacy format (before 1.6). Re-save it in Python with torch.save(torch.load(path), new_path) or convert it to .safetensors, then import that.`,
        );
      const zip = await ZipArchive.open(path, fh).catch((err: unknown) => {
        if (err instanceof DinoscopeError && err.code === 'CORRUPT' && /not a ZIP/.test(err.message))
          throw new DinoscopeError(
            'UNSUPPORTED',
            `${path}: not a PyTorch checkpoint (torch.save writes a ZIP archive; this file is none).`,
          );
        throw err;
      });
      const pkl = [...zip.entries.values()].find((e) => /^[^/]+\/data\.pkl$/.test(e.name));
      if (!pkl) {
        const script = [...zip.entries.keys()].some((n) => /\/constants\.pkl$|\/code\//.test(n));
        throw new DinoscopeError(
          'UNSUPPORTED',
          script
            ? `${path}: a TorchScript archive, not a checkpoint of weights; save the model's state_dict() with torch.save instead.`
            : `${path}: a ZIP without data.pkl, so not a PyTorch checkpoint.`,
        );
      }
      const root = pkl.name.slice(0, -'data.pkl'.length);
      const order = zip.entries.get(`${root}byteorder`);
      if (order && new TextDecoder().decode(await zip.read(order, 16)).trim() !== 'little')
        throw new DinoscopeError('UNSUPPORTED', `${path}: saved on a big-endian machine; re-save it on a little-endian one.`);
      const refs = readTensors(path, await zip.read(pkl, MAX_PICKLE_BYTES), zip, root);
      if (refs.size === 0)
        throw new DinoscopeError('BAD_INPUT', `${path}: the checkpoint holds no tensors (save the model's state_dict()).`);
      return new PthFile(path, fh, zip, root, refs);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  tensors(): PthTensor[] {
    return [...this.refs].map(([name, r]) => ({
      name,
      dtype: r.storage.dtype,
      shape: [...r.shape],
      byteLength: r.shape.reduce((a, b) => a * b, 1) * dtypeBytes[r.storage.dtype],
    }));
  }

  /** The tensor's elements, row-major, as little-endian bytes of its dtype (a strided view is gathered). */
  async read(name: string): Promise<Uint8Array> {
    const r = this.refs.get(name);
    if (!r) throw new DinoscopeError('NOT_FOUND', `${this.path}: no tensor named "${name}".`);
    const el = dtypeBytes[r.storage.dtype];
    const numel = r.shape.reduce((a, b) => a * b, 1);
    const entry = this.storageEntry(r.storage.key);
    if (numel === 0) return new Uint8Array(0);
    // The elements the view touches: [offset, offset + 1 + Σ (size−1)·stride).
    const span = 1 + r.shape.reduce((a, s, i) => a + (s - 1) * r.stride[i], 0);
    if ((r.offset + span) * el > entry.size)
      throw new DinoscopeError('CORRUPT', `${this.path}: tensor "${name}" reaches past the end of its storage.`);
    const contiguous = r.shape.every((_, i) => r.shape[i] === 1 || r.stride[i] === r.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    if (contiguous) return this.zip.readRange(entry, r.offset * el, numel * el);
    const src = await this.zip.readRange(entry, r.offset * el, span * el);
    const out = new Uint8Array(numel * el);
    const idx = new Array<number>(r.shape.length).fill(0);
    for (let i = 0; i < numel; i++) {
      let at = 0;
      for (let d = 0; d < idx.length; d++) at += idx[d] * r.stride[d];
      out.set(src.subarray(at * el, at * el + el), i * el);
      for (let d = idx.length - 1; d >= 0 && ++idx[d] === r.shape[d]; d--) idx[d] = 0;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  private storageEntry(key: string): ZipEntry {
    const e = this.zip.entries.get(`${this.root}data/${key}`);
    if (!e) throw new DinoscopeError('CORRUPT', `${this.path}: storage ${key} is missing from the archive.`);
    return e;
  }
}

/** The tensors of the pickled object, by flattened name, checked against the archive's storages. */
function readTensors(path: string, pkl: Uint8Array, zip: ZipArchive, root: string): Map<string, TensorRef['value']> {
  const corrupt = (what: string): never => {
    throw new DinoscopeError('CORRUPT', `${path}: ${what}.`);
  };
  const persistentLoad = (pid: PickleValue): PickleValue => {
    const t =
      typeof pid === 'object' && pid !== null && (pid as { kind?: string }).kind === 'tuple'
        ? (pid as { items: PickleValue[] }).items
        : null;
    if (!t || t[0] !== 'storage' || t.length < 5) return corrupt('a persistent id that is not a tensor storage');
    const [, type, key, , numel] = t as [string, PickleGlobal, string, string, number];
    const dtype = typeof type === 'object' && type?.kind === 'global' && type.module === 'torch' ? STORAGE_DTYPES[type.name] : undefined;
    if (!dtype)
      throw new DinoscopeError(
        'UNSUPPORTED',
        `${path}: a tensor of storage type ${type?.kind === 'global' ? `${type.module}.${type.name}` : String(type)}, which cannot be imported (float, integer and bool tensors can).`,
      );
    if (typeof key !== 'string' || !zip.entries.has(`${root}data/${key}`))
      return corrupt(`storage ${String(key)} is missing from the archive`);
    if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) return corrupt(`storage ${key} has no element count`);
    return { kind: 'opaque', value: { storage: true, key, dtype, numel } } satisfies StorageRef;
  };
  const construct = (fn: PickleGlobal, args: PickleValue[]): PickleValue | undefined => {
    const name = `${fn.module}.${fn.name}`;
    if (name === 'torch._utils._rebuild_tensor_v2' || name === 'torch._utils._rebuild_tensor') {
      const storage = args[0] as StorageRef;
      if (typeof storage !== 'object' || storage === null || (storage as StorageRef).value?.storage !== true)
        return corrupt('a tensor without its storage');
      const offset = args[1];
      if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)
        return corrupt('a tensor with an invalid storage offset');
      const shape = ints(args[2], 'shape', path);
      const stride = ints(args[3], 'stride', path);
      if (stride.length !== shape.length) return corrupt('a tensor whose stride and shape differ in length');
      return { kind: 'opaque', value: { tensor: true, storage: storage.value, offset, shape, stride } } satisfies TensorRef;
    }
    // nn.Parameter(tensor, requires_grad, hooks): the tensor.
    if (name === 'torch._utils._rebuild_parameter' || name === 'torch._utils._rebuild_parameter_with_state') return args[0];
    return undefined;
  };
  const value = unpickle(pkl, { persistentLoad, construct }, `${path} (data.pkl)`);
  const out = new Map<string, TensorRef['value']>();
  const visit = (v: PickleValue, prefix: string, depth: number): void => {
    if (depth > 16) return;
    if (isTensor(v)) {
      out.set(prefix, v.value);
      return;
    }
    if (v instanceof Map) {
      for (const [k, x] of v)
        if (typeof k === 'string' || typeof k === 'number') visit(x, prefix ? `${prefix}.${k}` : String(k), depth + 1);
    }
  };
  visit(value, '', 0);
  return out;
}

/**
 * Rewrites a checkpoint's tensors as a .safetensors file (dtypes and names kept, one tensor in memory at a
 * time), the form every model folder stores. `progress(done, total)` counts tensors.
 */
export async function pthToSafetensors(from: string, to: string, progress?: (done: number, total: number) => void): Promise<void> {
  const pth = await PthFile.open(from);
  try {
    const tensors = pth.tensors();
    let done = 0;
    await writeSafetensorsStreamed(
      to,
      tensors.map((t) => ({
        name: t.name,
        dtype: t.dtype,
        shape: t.shape,
        bytes: async () => {
          const b = await pth.read(t.name);
          progress?.(++done, tensors.length);
          return b;
        },
      })),
      { format: 'pt', dinoscope_converted_from: 'pth' },
    );
  } finally {
    await pth.close();
  }
}
