// The scan kernels, as WebAssembly SIMD generated from this file (no binary artefact in the repo).
// JS typed-array loops reach ~0.3 G int8 MAC/s on this machine; these kernels reach ~2.5 G/s per core.
//
//   dot_i8(q, x, n, out):  out[r] = Σ_j q[j] · x[r·stride + j]  for r < n
//       q: int16[stride] (the quantised query), x: int8[n · stride] rows, out: int32[n].
//       The column loop is fully unrolled for the row stride the module is built for (a multiple of 16):
//       per 16 bytes, one load, two sign-extensions to int16 and two i32x4.dot_i16x8_s.
//   read_sum(p, nbytes):  Σ of p's bytes as int32 lanes, 64 bytes a step (the memory-bandwidth probe).
//
// Memory is imported as a *shared* WasmMemory so worker threads can run the same kernels on
// the same rows (index/pool.ts).

const uleb = (n: number): number[] => {
  const o: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    o.push(b);
  } while (n);
  return o;
};
const sleb = (n: number): number[] => {
  const o: number[] = [];
  while (true) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...o, b];
    o.push(b | 0x80);
  }
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
const name = (s: string): number[] => vec([...new TextEncoder().encode(s)].map((b) => [b]));

const I32 = 0x7f;
const V128 = 0x7b;
const get = (i: number): number[] => [0x20, ...uleb(i)];
const set = (i: number): number[] => [0x21, ...uleb(i)];
const i32 = (v: number): number[] => [0x41, ...sleb(v)];
const simd = (op: number, ...imm: number[]): number[] => [0xfd, ...uleb(op), ...imm];
const load128 = (offset: number): number[] => simd(0x00, 4, ...uleb(offset));
const zero128 = (): number[] => simd(0x0c, ...new Array<number>(16).fill(0));
const OP = {
  add: 0x6a,
  gtU: 0x4b,
  geU: 0x4f,
  shl: 0x74,
  store: 0x36,
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  empty: 0x40,
  extLo: 0x87,
  extHi: 0x88,
  dot: 0xba,
  add32x4: 0xae,
  lane32: 0x1b,
} as const;

/** Horizontal sum of the i32x4 in local `v`, left on the stack. */
const hsum = (v: number): number[] => [
  ...get(v),
  ...simd(OP.lane32, 0),
  ...get(v),
  ...simd(OP.lane32, 1),
  OP.add,
  ...get(v),
  ...simd(OP.lane32, 2),
  OP.add,
  ...get(v),
  ...simd(OP.lane32, 3),
  OP.add,
];

function dotBody(stride: number): number[] {
  // params q=0 x=1 n=2 out=3; locals r=4 (i32), acc=5 accB=6 v=7 (v128)
  const [r, acc, accB, v] = [4, 5, 6, 7];
  const cols: number[] = [...zero128(), ...set(acc), ...zero128(), ...set(accB)];
  for (let b = 0; b < stride / 16; b++) {
    const a = b % 2 ? accB : acc; // two accumulators to shorten the dependency chain
    cols.push(...get(1), ...load128(b * 16), ...set(v));
    cols.push(...get(a), ...get(v), ...simd(OP.extLo), ...get(0), ...load128(b * 32), ...simd(OP.dot), ...simd(OP.add32x4), ...set(a));
    cols.push(...get(a), ...get(v), ...simd(OP.extHi), ...get(0), ...load128(b * 32 + 16), ...simd(OP.dot), ...simd(OP.add32x4), ...set(a));
  }
  cols.push(...get(acc), ...get(accB), ...simd(OP.add32x4), ...set(acc));
  return [
    ...vec([
      [1, I32],
      [3, V128],
    ]),
    ...i32(0),
    ...set(r),
    OP.block,
    OP.empty,
    OP.loop,
    OP.empty,
    ...get(r),
    ...get(2),
    OP.geU,
    OP.brIf,
    1,
    ...cols,
    ...get(3),
    ...get(r),
    ...i32(2),
    OP.shl,
    OP.add,
    ...hsum(acc),
    OP.store,
    2,
    0,
    ...get(1),
    ...i32(stride),
    OP.add,
    ...set(1),
    ...get(r),
    ...i32(1),
    OP.add,
    ...set(r),
    OP.br,
    0,
    OP.end,
    OP.end,
    OP.end,
  ];
}

function readSumBody(): number[] {
  // params p=0 nbytes=1; locals end=2 (i32), a..d=3..6 (v128). Reads 64 bytes a step.
  const accs = [3, 4, 5, 6];
  const step: number[] = [];
  accs.forEach((a, k) => step.push(...get(a), ...get(0), ...load128(16 * k), ...simd(OP.add32x4), ...set(a)));
  return [
    ...vec([
      [1, I32],
      [4, V128],
    ]),
    ...get(0),
    ...get(1),
    OP.add,
    ...set(2),
    ...accs.flatMap((a) => [...zero128(), ...set(a)]),
    OP.block,
    OP.empty,
    OP.loop,
    OP.empty,
    ...get(0),
    ...i32(64),
    OP.add,
    ...get(2),
    OP.gtU,
    OP.brIf,
    1,
    ...step,
    ...get(0),
    ...i32(64),
    OP.add,
    ...set(0),
    OP.br,
    0,
    OP.end,
    OP.end,
    ...get(3),
    ...get(4),
    ...simd(OP.add32x4),
    ...get(5),
    ...simd(OP.add32x4),
    ...get(6),
    ...simd(OP.add32x4),
    ...set(3),
    ...hsum(3),
    OP.end,
  ];
}

// The slice of the WebAssembly API used here (core/ compiles without the DOM lib, which declares it).
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}
export type WasmModule = object;
interface WasmApi {
  Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (m: WasmModule, imports: object) => { exports: object };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Maximum wasm32 memory: 65 536 pages of 64 KiB = 4 GiB. */
export const MAX_PAGES = 65536;

/** The kernel module's bytes for rows of `stride` int8 values (a positive multiple of 16). */
export function kernelModuleBytes(stride: number): Uint8Array {
  if (stride <= 0 || stride % 16) throw new Error(`kernel stride ${stride} is not a positive multiple of 16`);
  const fn = (params: number, results: number): number[] => [
    0x60,
    ...vec(new Array(params).fill([I32])),
    ...vec(new Array(results).fill([I32])),
  ];
  const bodies = [dotBody(stride), readSumBody()].map((b) => [...uleb(b.length), ...b]);
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...section(1, vec([fn(4, 0), fn(2, 1)])),
    ...section(2, vec([[...name('env'), ...name('mem'), 0x02, 0x03, ...uleb(1), ...uleb(MAX_PAGES)]])),
    ...section(3, vec([[0], [1]])),
    ...section(
      7,
      vec([
        [...name('dot_i8'), 0, 0],
        [...name('read_sum'), 0, 1],
      ]),
    ),
    ...section(10, vec(bodies)),
  ]);
}

export interface Kernels {
  memory: WasmMemory;
  module: WasmModule;
  dotI8(q: number, x: number, n: number, out: number): void;
  readSum(p: number, nbytes: number): number;
}

const modules = new Map<number, WasmModule>();

/** Compiled kernels for `stride`, bound to `memory` (a new shared memory when omitted). */
export function kernels(stride: number, memory?: WasmMemory): Kernels {
  let module = modules.get(stride);
  if (!module) {
    module = new WA.Module(kernelModuleBytes(stride));
    modules.set(stride, module);
  }
  const mem = memory ?? new WA.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  const inst = new WA.Instance(module, { env: { mem } });
  const ex = inst.exports as { dot_i8: (q: number, x: number, n: number, out: number) => void; read_sum: (p: number, n: number) => number };
  return { memory: mem, module, dotI8: ex.dot_i8, readSum: ex.read_sum };
}

/** Ensure `memory` holds at least `bytes` bytes. */
export function ensureBytes(memory: WasmMemory, bytes: number): void {
  const have = memory.buffer.byteLength;
  if (bytes <= have) return;
  const pages = Math.ceil((bytes - have) / 65536);
  if (have / 65536 + pages > MAX_PAGES)
    throw new Error(`the index needs ${(bytes / 2 ** 30).toFixed(2)} GiB resident, over the 4 GiB a wasm32 memory can hold`);
  memory.grow(pages);
}
