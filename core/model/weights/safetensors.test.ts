import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DinoscopeError } from '../../common/errors.js';
import { PYTHON, hasTorch as torchInstalled } from '../fixtures/has-torch.js';
import { floatToBf16, floatToHalf, halfToFloat, bf16ToFloat } from '../../common/half.js';
import { readSafetensors, SafetensorsFile, writeSafetensors } from './safetensors.js';

const SCRIPT = join(import.meta.dirname, '../../../scripts/fixtures/safetensors_fixture.py');
const hasTorch = torchInstalled();

interface Expected {
  [name: string]: { shape: number[]; values: number[] };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-safetensors-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectCorrupt(path: string, pattern: RegExp): Promise<void> {
  const err = await SafetensorsFile.open(path).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DinoscopeError);
  expect((err as DinoscopeError).code).toBe('CORRUPT');
  expect((err as DinoscopeError).message).toContain(path);
  expect((err as DinoscopeError).message).toMatch(pattern);
}

/** A hand-built file: header JSON + data bytes. */
async function handMade(name: string, header: unknown, data: Uint8Array, lengthOverride?: bigint): Promise<string> {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lengthOverride ?? BigInt(json.length));
  const path = join(dir, name);
  await writeFile(path, Buffer.concat([len, json, data]));
  return path;
}

describe.skipIf(!hasTorch)("safetensors written in PyTorch's layout (scripts/fixtures/safetensors_fixture.py)", () => {
  let file: string;
  let expected: Expected;
  const ours = join(tmpdir(), `dinoscope-st-ours-${process.pid}.safetensors`);
  const values = new Float32Array([0, -0, 1, -1.5, 3.1415927, 1e-8, 6.1e-5, 65519, 65520, 1e20, -2.5e-39, 0.1, 1 / 3, 7.000488, 33.06]);
  let readBack: Record<string, Record<string, unknown>>;
  beforeAll(async () => {
    // Our file first, so one PyTorch start both writes its fixture and reads ours back.
    await writeSafetensors(
      ours,
      new Map([
        ['w', { shape: [3, 5], data: values }],
        ['w16', { shape: [15], data: values, dtype: 'F16' as const }],
        ['wb16', { shape: [15], data: values, dtype: 'BF16' as const }],
        ['ids', { shape: [2, 2], data: new BigInt64Array([-5n, 0n, 7n, 2n ** 40n]), dtype: 'I64' as const }],
      ]),
      { format: 'pt', note: 'dinoscope' },
    );
    file = join(dir, 'torch.safetensors');
    const json = join(dir, 'torch.json');
    const oursJson = join(dir, 'ours.json');
    execFileSync(PYTHON, [SCRIPT, file, json, ours, oursJson]);
    expected = JSON.parse(await readFile(json, 'utf8')) as Expected;
    readBack = JSON.parse(await readFile(oursJson, 'utf8')) as Record<string, Record<string, unknown>>;
  });
  afterAll(async () => {
    await rm(ours, { force: true });
  });

  it('reads every dtype (F32, F16, BF16, F64, I64, scalars, empty) to float32 exactly', async () => {
    const { tensors, metadata } = await readSafetensors(file);
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const [name, want] of Object.entries(expected)) {
      const got = tensors.get(name)!;
      expect(got.shape, name).toEqual(want.shape);
      // Every stored value is representable in float32 except F64: compare after float32 rounding.
      expect(Array.from(got.data), name).toEqual(want.values.map((v) => Math.fround(v)));
    }
  });

  it('reads lazily: header first, one tensor at a time', async () => {
    const f = await SafetensorsFile.open(file);
    try {
      expect(f.info('half')).toMatchObject({ dtype: 'F16', shape: [3, 5], byteLength: 30 });
      const t = await f.readFloat32('blocks.0.attn.qkv.weight');
      expect(t.shape).toEqual([6, 4]);
      await expect(f.readFloat32('nope')).rejects.toThrow(/no tensor named "nope"/);
    } finally {
      await f.close();
    }
  });

  it('writes files that PyTorch reads back identically, F16/BF16 rounded as torch rounds', async () => {
    const path = ours;
    type Read = { dtype: string; shape: number[]; values: number[]; half: number[]; bf16: number[] };
    const num = (v: number | string): number => (typeof v === 'number' ? v : Number(v.replace('inf', 'Infinity')));
    const raw = readBack;
    const back: Record<string, Read> = {};
    for (const [k, v] of Object.entries(raw)) {
      if (k === '__metadata__') continue;
      const list = (key: string): number[] => ((v[key] as (number | string)[] | undefined) ?? []).map(num);
      back[k] = { dtype: v.dtype as string, shape: v.shape as number[], values: list('values'), half: list('half'), bf16: list('bf16') };
    }
    expect(raw.__metadata__).toEqual({ format: 'pt', note: 'dinoscope' });
    expect(back.w.values).toEqual(Array.from(values));
    expect(back.w.shape).toEqual([3, 5]);
    expect(back.w16.values).toEqual(back.w.half);
    expect(back.wb16.values).toEqual(back.w.bf16);
    expect(back.ids.values).toEqual([-5, 0, 7, 2 ** 40]);
    // And our reader agrees with what we wrote.
    const mine = await readSafetensors(path);
    expect(Array.from(mine.tensors.get('w16')!.data)).toEqual(back.w.half);
    expect(Array.from(mine.tensors.get('wb16')!.data)).toEqual(back.w.bf16);
  });
});

describe('safetensors round trip and validation', () => {
  it('round-trips float32 tensors and metadata; the header is 8-byte aligned', async () => {
    const path = join(dir, 'rt.safetensors');
    const a = { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) };
    const b = { shape: [1], data: new Float32Array([-7.25]) };
    await writeSafetensors(path, { a, b }, { k: 'v' });
    const bytes = await readFile(path);
    expect(Number(bytes.readBigUInt64LE(0)) % 8).toBe(0);
    const back = await readSafetensors(path);
    expect(back.metadata).toEqual({ k: 'v' });
    expect(back.tensors.get('a')).toEqual(a);
    expect(back.tensors.get('b')).toEqual(b);
  });

  it('half conversions agree with IEEE on edge values', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(Number.isNaN(halfToFloat(0x7e00))).toBe(true);
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(65520)).toBe(0x7c00); // ties to even rounds up to Inf
    expect(floatToHalf(2 ** -25)).toBe(0); // tie to even → 0
    expect(floatToHalf(-(2 ** -24))).toBe(0x8001);
    expect(bf16ToFloat(floatToBf16(1.00390625))).toBe(1); // tie → even
    expect(bf16ToFloat(floatToBf16(-3.5))).toBe(-3.5);
  });

  it('refuses a write whose data does not fill the shape', async () => {
    await expect(writeSafetensors(join(dir, 'bad.safetensors'), { x: { shape: [2, 2], data: new Float32Array(3) } })).rejects.toThrow(
      /"x" has 3 values but shape \[2, 2\] needs 4/,
    );
    expect(existsSync(join(dir, 'bad.safetensors'))).toBe(false);
  });

  it('names the file and the problem for damaged files', async () => {
    const data = new Uint8Array(16);
    const ok = { t: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } };
    await expectCorrupt(
      await handMade('short.safetensors', ok, new Uint8Array(0), 5n).then(async (p) => (await truncate(p, 5), p)),
      /shorter than the 8-byte header length/,
    );
    await expectCorrupt(await handMade('hugelen.safetensors', ok, data, 1n << 40n), /header length \d+ exceeds/);
    await expectCorrupt(await handMade('json.safetensors', ok, data, 3n), /not valid JSON/);
    await expectCorrupt(await handMade('array.safetensors', [1, 2], data), /not a JSON object/);
    await expectCorrupt(
      await handMade('dtype.safetensors', { t: { dtype: 'C64', shape: [2], data_offsets: [0, 16] } }, data),
      /"t" has unsupported dtype "C64"/,
    );
    await expectCorrupt(
      await handMade('shape.safetensors', { t: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 16] } }, data),
      /"t" has an invalid shape/,
    );
    await expectCorrupt(
      await handMade('len.safetensors', { t: { dtype: 'F32', shape: [3, 2], data_offsets: [0, 16] } }, data),
      /F32\[3, 2\] needs 24 bytes but data_offsets \[0, 16\] hold 16/,
    );
    await expectCorrupt(
      await handMade('trunc.safetensors', ok, data.subarray(0, 12)),
      /run past the end of the data \(12 bytes\): the file is truncated/,
    );
    await expectCorrupt(
      await handMade(
        'overlap.safetensors',
        { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
        data,
      ),
      /"a" and "b" overlap/,
    );
    await expectCorrupt(await handMade('meta.safetensors', { __metadata__: { a: 1 }, ...ok }, data), /"__metadata__.a" must be a string/);
    await expect(SafetensorsFile.open(join(dir, 'missing.safetensors'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
