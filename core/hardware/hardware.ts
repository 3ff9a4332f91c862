// The hardware this process can run models on: the execution providers in preference order (cuda, webgpu,
// cpu), each device provider probed once per process by creating a one-op session on it (probe.ts) —
// onnxruntime lists providers it was built with even where no device or driver is present. The Train panel
// shows it ("runs on", core/train/host/api.ts); device.ts resolves training's and extraction's device choice
// against it.
//
// The probes run in a child process (probe-worker.ts) whose stderr this process reads: the libraries a
// probe loads print their failures straight to fd 2, out of reach of onnxruntime's log level — the CUDA
// provider bridge ("Failed to load library …"), the Vulkan loader and Dawn under WebGPU ("XDG_RUNTIME_DIR
// is invalid", "Vulkan … required"). Run in this process they filled the app's, the serve host's and the
// CLI's stderr every time the Train panel opened. A provider that is unavailable carries its raw reason in
// `detail`: the session error, plus onnxruntime's own error line from its probe when that says more (it
// names the library that failed to load), plus the probe's other native lines; its `note` says the same in
// plain words (plain-note.ts). A probe child that crashes or hangs (a broken driver) marks what it did
// not finish unavailable with its last words. DINOSCOPE_PROBE_LOG=1 passes the child's stderr through.
import type { ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import type { TrainHardware } from '../common/api.js';
import { type Provider, availableProviders } from '../graph/runtime.js';
import { findWorker, forkWorker } from '../io/fork.js';
import { explainProvider, plainNote } from './plain-note.js';
import { PROBE_MARKER, type ProbeMessage, type ProbeResult } from './probe.js';

/** The providers probed, in preference order: 'auto' takes the first available (device.ts). */
export const PROVIDER_ORDER: readonly Provider[] = ['cuda', 'webgpu', 'cpu'];

/** How long the probe child may take (CUDA initialisation can take seconds). */
const PROBE_TIMEOUT_MS = 60_000;

/** What the probe child said: its results (null if it ended without), stderr per provider, how it ended. */
export interface ProbeRun {
  results: ProbeResult[] | null;
  /** stderr lines (ANSI colours removed) under the marker of the provider being probed ('' before any). */
  stderr: Map<string, string[]>;
  /** Why no results came, or null. */
  failure: string | null;
}

// eslint-disable-next-line no-control-regex
const ansi = /\u001b\[[0-9;]*m/g;

/** Runs the probes of `names` in a child process; its stderr is kept, not printed. */
export function probeInChild(names: readonly Provider[], timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeRun> {
  return new Promise((resolve) => {
    const stderr = new Map<string, string[]>([['', []]]);
    let current = '';
    const passThrough = process.env.DINOSCOPE_PROBE_LOG === '1';
    const onLine = (raw: string): void => {
      if (passThrough) process.stderr.write(`[hardware probe] ${raw}\n`);
      const line = raw.replace(ansi, '').trim();
      if (!line) return;
      if (line.startsWith(PROBE_MARKER)) {
        current = line.slice(PROBE_MARKER.length);
        stderr.set(current, []);
      } else stderr.get(current)?.push(line);
    };
    let child: ChildProcess;
    try {
      child = forkWorker(findWorker('probe.worker.js', 'hardware/probe-worker.ts'), onLine, names);
    } catch (err) {
      resolve({ results: null, stderr, failure: err instanceof Error ? err.message : String(err) });
      return;
    }
    let results: ProbeResult[] | null = null;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('message', (m: ProbeMessage) => {
      if (m?.type === 'probe') results = m.results;
    });
    child.on('error', () => undefined); // 'close' follows
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const how = timedOut
        ? `did not finish in ${Math.round(timeoutMs / 1000)} s`
        : signal
          ? `was killed (${signal})`
          : `exited with code ${code}`;
      resolve({ results, stderr, failure: results ? null : `the probe process ${how}` });
    });
  });
}

/** onnxruntime's own error line among a probe's stderr, without its timestamp and source location. */
export function ortErrorLine(lines: readonly string[]): string | null {
  for (const line of lines) {
    const m = /\[E:onnxruntime[^\]]*\]\s*(.*)$/.exec(line);
    if (!m) continue;
    // "…/provider_bridge_ort.cc:1988 onnxruntime::Provider& …::Get() [ONNXRuntimeError] : 1 : FAIL : Failed to load library X with error: X: cannot open …"
    const text = m[1].replace(/^.*\[ONNXRuntimeError\] : \d+ : \w+ : /, '');
    return text.replace(/ with error: (\S+): /, (all, path: string) => (text.includes(`library ${path} `) ? ': ' : all));
  }
  return null;
}

/** The longest `detail` kept: the reason and the native lines of one probe, for a bug report. */
const DETAIL_CHARS = 2000;

/**
 * The raw reason an unavailable provider's probe gave: the session error, onnxruntime's error line when it
 * says more, then the probe's other native lines (the Vulkan loader's and Dawn's), ' | '-joined.
 */
export function detailFor(name: string, run: ProbeRun): string {
  const reason = rawReason(name, run);
  const native = (run.stderr.get(name) ?? []).filter((l) => !/\[E:onnxruntime/.test(l) && !reason.includes(l));
  return [reason, ...native].join(' | ').slice(0, DETAIL_CHARS);
}

/** The session error of an unavailable provider's probe (plus onnxruntime's own line when it says more). */
function rawReason(name: string, run: ProbeRun): string {
  const lines = run.stderr.get(name) ?? [];
  const result = run.results?.find((r) => r.name === name);
  if (!result) {
    const last = lines.at(-1) ?? run.stderr.get('')?.at(-1);
    return `not probed: ${run.failure ?? 'no result'}${last ? ` (last output: ${last.slice(0, 200)})` : ''}`;
  }
  const problem = (result.problem ?? '')
    .replace(/^execution provider fallback: /, '')
    .replace(/; running on cpu$/, '')
    // An ORT_ENFORCE failure: "/onnxruntime_src/…/webgpu_context.cc:136 …<lambda()> adapter_result.status == … was false. Failed to get a WebGPU adapter: …"
    .replace(/\/onnxruntime_src\/\S+:\d+ .*? was false\. /, '');
  const ort = ortErrorLine(lines);
  return ort && !problem.includes(ort) ? `${problem}; onnxruntime: ${ort}` : problem;
}

/** The answer from a finished probe run: `known` are the providers this onnxruntime build lists. */
export function hardwareFrom(run: ProbeRun, known: ReadonlySet<string>, cpuThreads: number): TrainHardware {
  const details = PROVIDER_ORDER.map((name): [Provider, string | null] => {
    if (!known.has(name)) return [name, 'not in this onnxruntime build'];
    if (name === 'cpu' || run.results?.find((r) => r.name === name)?.problem === null) return [name, null];
    return [name, detailFor(name, run)];
  });
  const selected = details.find(([, detail]) => detail === null)?.[0] ?? 'cpu';
  // The note says in plain words what is missing, what runs instead and what to do; detail keeps the raw reason.
  // float16 (mixed-precision training): CUDA always; WebGPU when its adapter ran the float16 probe.
  const float16 = (name: Provider): { float16?: boolean } =>
    name === 'cuda' ? { float16: true } : name === 'webgpu' ? { float16: run.results?.find((r) => r.name === name)?.float16 === true } : {};
  const providers = details.map(([name, detail]) =>
    detail === null
      ? { name, available: true, ...float16(name) }
      : { name, available: false, note: plainNote(name, explainProvider(name, detail), selected), detail },
  );
  return { providers, selected, cpuThreads };
}

let cached: Promise<TrainHardware> | null = null;

/** Whether this process has probed (or is probing) yet. */
export function hardwareProbed(): boolean {
  return cached !== null;
}

/** Probes once per process; later calls return the same answer. */
export function probeHardware(): Promise<TrainHardware> {
  cached ??= (async () => {
    const known = new Set(availableProviders().map((p) => p.name));
    const probed = PROVIDER_ORDER.filter((name) => name !== 'cpu' && known.has(name));
    const run: ProbeRun = probed.length ? await probeInChild(probed) : { results: [], stderr: new Map(), failure: null };
    return hardwareFrom(run, known, availableParallelism());
  })();
  return cached;
}
