// The runtime adapter: the ONLY file that imports onnxruntime-node (eslint enforces it). Everything else
// exchanges our HostTensor. Sessions are created from serialised ONNX bytes.
//
// Execution providers: the caller lists its preference (cuda, webgpu, dml, coreml, cpu); we try each in
// turn, report which one actually runs, and warn when we fall back (onnxruntime does not fall back from
// webgpu on its own).
//
// Memory options: measured on this machine (2 vCPUs shared with other jobs, ORT 1.30 CPU, Node 20) with
// the ViT-S block forward+backward (examples/block.ts, B=32 N=261 D=384 MLP 1536, float32, 2 threads),
// peak RSS (VmHWM) of the whole process after 3 runs:
//   enableMemPattern on,  cpu arena on:   1162 MB
//   enableMemPattern off, cpu arena on:    690 MB   ← default (PyTorch 1.13 on the same block: 868 MB)
//   enableMemPattern off, cpu arena off:   750 MB   and slower (allocation churn)
// The memory-pattern planner pre-allocates one block for the whole run's pattern, which for a training
// graph keeps every activation's slot alive; without it, the arena reuses freed buffers.
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { Graph } from './graph.js';
import { serialize } from './onnx.js';
import { identity } from './ops/elementwise.js';
import { type DType, type HostTensor, type TensorData } from './tensor.js';

// onnxruntime-node is required on first use, not at import: a process that never runs a model (`dinoscope
// --help`, bad input, `info`, `import`) does not pay the native library's load. Synchronous, so toOrt and
// the sessions keep their signatures.
let loaded: typeof ort | undefined;
function onnxruntime(): typeof ort {
  loaded ??= createRequire(import.meta.url)('onnxruntime-node') as typeof ort;
  return loaded;
}

export type Provider = 'cuda' | 'webgpu' | 'dml' | 'coreml' | 'cpu';

export interface RuntimeOptions {
  /** Preference order; 'cpu' is always appended as the last resort. Default ['cpu']. */
  providers?: Provider[];
  intraOpThreads?: number;
  interOpThreads?: number;
  /** ORT's memory-pattern planner. Default false (see the note at the top of this file). */
  memPattern?: boolean;
  /** ORT's CPU memory arena. Default true. */
  cpuArena?: boolean;
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * Let idle intra-/inter-op pool threads spin-wait for work. Default false: on this shared 2-vCPU machine
   * (load 9–15) the ViT block fwd+bwd at 2 threads ran 4.48 s without spinning vs 4.78 s with (median of 6
   * in-process alternating rounds, 4/6 won; CPU time 2.40 s vs 2.66 s, 6/6), and a desktop app shares its
   * cores with the UI. Spinning only pays on an otherwise idle machine.
   */
  spinning?: boolean;
  /** Outputs to keep on the device (gpu-buffer) when the provider supports it (state fed back as inputs). */
  deviceOutputs?: string[];
  /**
   * StepRunner: keep its state outputs on the device (gpu-buffer) between runs. Default true, for WebGPU
   * only. onnxruntime-node 1.30 returns a gpu-buffer output as a tensor whose `getData()` throws a bare C
   * string from native code ("not implemented"), which aborts the process ("terminate called after throwing
   * an instance of 'char const*'"); so state is never downloaded with getData: `StepRunner.get` copies it
   * through a one-Identity readback session instead (see `download`). CUDA is refused: the binding labels
   * only WebGPU buffers as gpu-buffer outputs and wraps every gpu-buffer input as a WebGPU buffer.
   * false sends the state through the host at every step.
   */
  deviceState?: boolean;
  /** Where fallback warnings go (default: stderr). */
  warn?: (message: string) => void;
  /**
   * A folder for onnxruntime's profile of each session (a JSON trace with one event per node run, naming the
   * execution provider that ran it: what core/graph/placement.ts reads). `Session.endProfiling()` writes it
   * and returns its path. Off by default (profiling times every node).
   */
  profileDir?: string;
}

let profiled = 0;

/** Execution providers this onnxruntime-node build knows: `bundled` ones ship with it, the others need their
 * runtime libraries (e.g. CUDA) installed. Knowing one does not prove a device: probe with Session.create. */
export function availableProviders(): { name: string; bundled: boolean }[] {
  return onnxruntime()
    .listSupportedBackends()
    .map((b) => ({ name: b.name, bundled: b.bundled }));
}

export const MEMORY_DEFAULTS = { memPattern: false, cpuArena: true } as const;

const toOrtType: Record<DType, ort.Tensor.Type> = {
  float32: 'float32',
  float64: 'float64',
  float16: 'float16',
  int64: 'int64',
  bool: 'bool',
};
const fromOrtType: Partial<Record<string, DType>> = {
  float32: 'float32',
  float64: 'float64',
  float16: 'float16',
  int64: 'int64',
  bool: 'bool',
};

/** Wraps our host tensor as an ORT tensor without copying. */
export function toOrt(t: HostTensor): ort.Tensor {
  return new (onnxruntime().Tensor)(toOrtType[t.dtype], t.data as ort.Tensor.DataType, t.dims);
}

/** Views an ORT CPU tensor as our host tensor without copying. */
export function fromOrt(t: ort.Tensor): HostTensor {
  const dtype = fromOrtType[t.type];
  if (!dtype) throw new Error(`runtime: output of type ${t.type} is not supported`);
  let data = t.data as TensorData;
  if (dtype === 'float16' && !(data instanceof Uint16Array)) {
    const d = data as unknown as { buffer: ArrayBuffer; byteOffset: number; length: number };
    data = new Uint16Array(d.buffer, d.byteOffset, d.length);
  }
  return { dtype, dims: [...t.dims], data } as HostTensor;
}

// Providers whose outputs onnxruntime-node can hand back as gpu-buffer tensors and take back as inputs:
// WebGPU only (the binding recognises a device output by its allocator name, WebGPU's, and creates every
// gpu-buffer input on WebGPU's memory info).
const deviceProviders: ReadonlySet<Provider> = new Set(['webgpu']);

/**
 * Host ↔ device traffic of sessions running on a device provider, counted at the session boundary: bytes
 * of host tensors fed in (uploads), bytes of host tensors returned (downloads), and readbacks (device
 * tensors copied to the host by `download`). Bytes a provider moves inside one run (nodes placed on the
 * CPU) are not seen. For benches and tests: `resetTransfers()` then `transfers()`.
 */
export interface Transfers {
  uploadBytes: number;
  downloadBytes: number;
  readbacks: number;
}
const traffic: Transfers = { uploadBytes: 0, downloadBytes: 0, readbacks: 0 };
export const transfers = (): Transfers => ({ ...traffic });
export function resetTransfers(): void {
  traffic.uploadBytes = 0;
  traffic.downloadBytes = 0;
  traffic.readbacks = 0;
}
const byteSize = (t: ort.Tensor): number =>
  t.size * (t.type === 'float64' || t.type === 'int64' ? 8 : t.type === 'float16' ? 2 : t.type === 'bool' ? 1 : 4);

/** A state value as a runner holds it (on the host or on the device), to feed another run without a copy. */
export class StateValue {
  private constructor(
    /** @internal the onnxruntime tensor; on the device it belongs to the runner that produced it */
    readonly tensor: ort.Tensor,
  ) {}

  static of(t: ort.Tensor): StateValue {
    return new StateValue(t);
  }

  get onDevice(): boolean {
    return this.tensor.location !== 'cpu';
  }

  get dims(): readonly number[] {
    return this.tensor.dims;
  }
}

/** A feed: host data, or a state value taken from a runner (`StepRunner.value`). */
export type Feed = HostTensor | StateValue;
const feedToOrt = (f: Feed): ort.Tensor => (f instanceof StateValue ? f.tensor : toOrt(f));

/** One compiled model: the provider it runs on, its input/output names, and `run`. */
export class Session {
  private constructor(
    private readonly inner: ort.InferenceSession,
    /** The provider that actually runs the model. */
    readonly provider: Provider,
    /** The profile's folder and file-name start when profiling (RuntimeOptions.profileDir). */
    private readonly profile: { dir: string; prefix: string } | null = null,
    /** Whether outputs named in `deviceOutputs` stay on the device (gpu-buffer). */
    readonly deviceOutputs = false,
  ) {}

  static async create(model: Uint8Array, opts: RuntimeOptions = {}): Promise<Session> {
    const warn = opts.warn ?? ((m: string) => process.stderr.write(`dinoscope: ${m}\n`));
    const prefs = [...(opts.providers ?? ['cpu'])];
    if (!prefs.includes('cpu')) prefs.push('cpu');
    const errors: string[] = [];
    for (const provider of prefs) {
      const so: ort.InferenceSession.SessionOptions = {
        executionProviders: [provider],
        graphOptimizationLevel: opts.optimization ?? 'all',
        enableMemPattern: opts.memPattern ?? MEMORY_DEFAULTS.memPattern,
        enableCpuMemArena: opts.cpuArena ?? MEMORY_DEFAULTS.cpuArena,
        logSeverityLevel: 3,
      };
      if (opts.intraOpThreads !== undefined) so.intraOpNumThreads = opts.intraOpThreads;
      if (opts.interOpThreads !== undefined) so.interOpNumThreads = opts.interOpThreads;
      const spin = opts.spinning ? '1' : '0';
      so.extra = { session: { intra_op: { allow_spinning: spin }, inter_op: { allow_spinning: spin } } };
      const onDevice = !!opts.deviceOutputs?.length && deviceProviders.has(provider);
      if (onDevice) so.preferredOutputLocation = Object.fromEntries(opts.deviceOutputs!.map((n) => [n, 'gpu-buffer' as const]));
      // onnxruntime appends a timestamp to the prefix; a per-session prefix tells the sessions' files apart.
      const profile = opts.profileDir !== undefined ? { dir: opts.profileDir, prefix: `session${++profiled}-${process.pid}` } : null;
      if (profile) {
        so.enableProfiling = true;
        so.profileFilePrefix = join(profile.dir, profile.prefix);
      }
      try {
        const inner = await onnxruntime().InferenceSession.create(model, so);
        if (errors.length) warn(`execution provider fallback: ${errors.join('; ')}; running on ${provider}`);
        return new Session(inner, provider, profile, onDevice);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        if (provider === 'cpu') throw new Error(`runtime: could not create a session: ${msg}`);
        errors.push(`${provider} unavailable (${msg.split('\n')[0]})`);
      }
    }
    throw new Error('runtime: unreachable');
  }

  get inputNames(): readonly string[] {
    return this.inner.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.inner.outputNames;
  }

  /** Runs the model on host tensors (or runners' state values); returns host views of the requested (default: all) outputs. */
  async run(feeds: Record<string, Feed>, fetches?: string[]): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = feedToOrt(v);
    const res = await this.runRaw(ortFeeds, fetches);
    const out: Record<string, HostTensor> = {};
    for (const [k, v] of Object.entries(res)) out[k] = v.location === 'cpu' ? fromOrt(v) : (await download([v]))[0];
    return out;
  }

  /** Low-level run on ORT values (used by StepRunner to keep state on the device); counts host ↔ device bytes. */
  async runRaw(feeds: Record<string, ort.Tensor>, fetches?: string[]): Promise<Record<string, ort.Tensor>> {
    const res = fetches ? await this.inner.run(feeds, fetches) : await this.inner.run(feeds);
    if (this.provider !== 'cpu') {
      for (const t of Object.values(feeds)) if (t.location === 'cpu') traffic.uploadBytes += byteSize(t);
      for (const t of Object.values(res)) if (t.location === 'cpu') traffic.downloadBytes += byteSize(t);
    }
    return res;
  }

  /** Ends profiling (RuntimeOptions.profileDir) and returns the path of the profile's JSON trace. */
  endProfiling(): string {
    if (!this.profile) throw new Error('runtime: this session was created without profileDir');
    this.inner.endProfiling();
    const { dir, prefix } = this.profile;
    const file = readdirSync(dir).find((f) => f.startsWith(`${prefix}_`) && f.endsWith('.json'));
    if (!file) throw new Error(`runtime: onnxruntime wrote no profile starting ${prefix} in ${dir}`);
    return join(dir, file);
  }

  async release(): Promise<void> {
    await this.inner.release();
  }
}

// Readback sessions: one Identity graph on WebGPU per (dtype, shape), output on the host, cached for the
// process (a few kB each; a ViT's state has a dozen distinct shapes). Feeding a device tensor to another
// session works (the WebGPU provider shares one device between sessions); its getData() does not (see
// RuntimeOptions.deviceState).
const readbacks = new Map<string, Promise<ort.InferenceSession>>();

function readbackSession(t: ort.Tensor): Promise<ort.InferenceSession> {
  const dtype = fromOrtType[t.type];
  if (!dtype) throw new Error(`runtime: device tensor of type ${t.type} cannot be read back`);
  const key = `${dtype}[${t.dims.join(',')}]`;
  let s = readbacks.get(key);
  if (!s) {
    const g = new Graph('readback');
    g.output(identity(g.input('x', [...t.dims], dtype)), 'y');
    s = onnxruntime().InferenceSession.create(serialize(g), { executionProviders: ['webgpu'], logSeverityLevel: 3 });
    readbacks.set(key, s);
  }
  return s;
}

/** Copies device (gpu-buffer) tensors to the host; host tensors are viewed as they are. */
export async function download(ts: ort.Tensor[]): Promise<HostTensor[]> {
  const out: HostTensor[] = [];
  for (const t of ts) {
    if (t.location === 'cpu') {
      out.push(fromOrt(t));
      continue;
    }
    const s = await readbackSession(t);
    const y = (await s.run({ x: t })).y;
    traffic.readbacks++;
    traffic.downloadBytes += byteSize(y);
    out.push(fromOrt(y));
  }
  return out;
}

/**
 * Keeps state tensors (parameters, optimiser moments, step counters) between runs: each run feeds the
 * current state as inputs and takes the new state from the outputs named in `stateMap` (output → input).
 * On CPU the output tensors are fed back directly (no copy); on WebGPU they stay on the device (gpu-buffer)
 * unless `deviceState: false`, and reach the host only through `get`.
 */
export class StepRunner {
  private readonly state = new Map<string, ort.Tensor>();

  constructor(
    readonly session: Session,
    /** output name → input name it becomes at the next step */
    readonly stateMap: Record<string, string>,
  ) {}

  /**
   * Compiles `model` and returns a runner whose state outputs stay on the device (gpu-buffer) when
   * `deviceState` asks and the provider allows; on CPU the output tensors are fed back as they are.
   */
  static async create(model: Uint8Array, stateMap: Record<string, string>, opts: RuntimeOptions = {}): Promise<StepRunner> {
    const session = await Session.create(model, {
      ...opts,
      deviceOutputs: [...(opts.deviceOutputs ?? []), ...(opts.deviceState !== false ? Object.keys(stateMap) : [])],
    });
    return new StepRunner(session, stateMap);
  }

  /** Whether the state outputs stay on the device between steps. */
  get deviceState(): boolean {
    return this.session.deviceOutputs;
  }

  /**
   * Sets (or replaces) one state input from host data, or from another runner's state value (moved, not
   * copied: from then on this runner owns it and disposes it when its next step replaces it).
   */
  set(input: string, value: Feed): void {
    this.state.set(input, feedToOrt(value));
  }

  /** The current value of one state input, copied to the host when it lives on a device. */
  async get(input: string): Promise<HostTensor> {
    return (await download([this.raw(input)]))[0];
  }

  /**
   * The current value of one state input where it lives, to feed another run without a copy. Valid until
   * this runner's next step (which disposes a replaced device value).
   */
  value(input: string): StateValue {
    return StateValue.of(this.raw(input));
  }

  private raw(input: string): ort.Tensor {
    const t = this.state.get(input);
    if (!t) throw new Error(`runtime: no state named ${input}`);
    return t;
  }

  /** One step: feeds state plus `feeds`, updates the state, returns the other outputs on the host. */
  async step(feeds: Record<string, Feed>): Promise<Record<string, HostTensor>> {
    const all: Record<string, ort.Tensor> = {};
    for (const [k, v] of this.state) all[k] = v;
    for (const [k, v] of Object.entries(feeds)) all[k] = feedToOrt(v);
    const res = await this.session.runRaw(all);
    const out: Record<string, HostTensor> = {};
    for (const [name, value] of Object.entries(res)) {
      const target = this.stateMap[name];
      if (target !== undefined) {
        const old = this.state.get(target);
        this.state.set(target, value);
        if (old && old.location !== 'cpu' && old !== value) old.dispose();
      } else out[name] = (await download([value]))[0];
    }
    return out;
  }
}
