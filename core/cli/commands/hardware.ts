// `dinoscope hardware [--check PROVIDER [--graphs A,B]]`: what this machine can run models on, and proof
// that a provider computes what the CPU does.
//
// Without --check: the hardware probe (core/hardware) as JSON — every execution provider in preference
// order, available or not; an unavailable one with its plain-words note (what is missing — e.g. which CUDA
// or cuDNN library —, what runs instead, what to do) and the raw reason for a bug report.
//
// With --check: the GPU check of core/train/gpu-check.ts on that provider, in a child process — the
// extraction graph and the Quick, Standard and adapt training graphs (small widths): where onnxruntime
// placed every node, host ↔ device copies, and two training steps against the CPU (losses, gradient norms,
// gradients). Exit 0 when every node ran on the provider and every difference is within 1e-4 relative,
// else 1, naming what failed. The same check the test suite runs on WebGPU without a GPU (SwiftShader).
import { DinoscopeError } from '../../common/errors.js';
import { ORT_PROVIDER } from '../../graph/placement.js';
import type { Provider } from '../../graph/runtime.js';
import { probeHardware } from '../../hardware/hardware.js';
import { type GraphCheck, gpuCheckInChild } from '../../train/gpu-check.js';
import { checkFlags, type Command, flagValue, parseArgs } from '../command.js';

const CHECKABLE: readonly Provider[] = ['cuda', 'webgpu', 'cpu'];
/** The largest relative difference from the CPU a provider may show over two steps (float32 kernels). */
export const CHECK_TOLERANCE = 1e-4;

export interface GraphVerdict {
  name: string;
  nodes: number;
  onProvider: number;
  copies: number;
  /** Per step: the largest relative difference from the CPU of the losses, gradient norms and gradients. */
  steps?: { losses: number; gradNorms: number; gradients: number }[];
  problems: string[];
}

/** What a provider's check found in one graph: nodes elsewhere, copies, differences over the tolerance. */
export function verdict(r: GraphCheck, provider: Provider): GraphVerdict {
  const p = r.placement;
  const ort = ORT_PROVIDER[provider];
  const onProvider = p.byProvider[ort] ?? 0;
  const problems: string[] = [];
  const elsewhere = p.nodes.filter((n) => n.provider !== ort);
  if (elsewhere.length)
    problems.push(
      `${elsewhere.length} of ${p.nodes.length} nodes ran elsewhere: ${elsewhere
        .slice(0, 5)
        .map((n) => `${n.op} on ${n.provider}`)
        .join(', ')}`,
    );
  if (provider !== 'cpu' && p.copies.length) problems.push(`${p.copies.length} host ↔ device copies in a run`);
  const steps = r.steps?.map(({ losses, gradNorms, gradients }) => ({ losses, gradNorms, gradients }));
  steps?.forEach((s, i) => {
    for (const [what, v] of Object.entries(s))
      if (!(v <= CHECK_TOLERANCE)) problems.push(`step ${i + 1}: ${what} differ from the CPU by ${v.toExponential(1)} relative`);
  });
  return { name: r.name, nodes: p.nodes.length, onProvider, copies: p.copies.length, ...(steps ? { steps } : {}), problems };
}

export const hardwareCommand: Command = {
  name: 'hardware',
  flags: ['check', 'graphs'],
  summary: 'what this machine can run models on (CPU, CUDA, WebGPU), and a check that a GPU computes what the CPU does',
  usage:
    'usage: dinoscope hardware [--check cuda|webgpu|cpu [--graphs extract,quick,standard,adapt]]\n\n' +
    'Without --check: prints JSON {providers: [{name, available, note?, detail?}], selected, cpuThreads}: every\n' +
    'execution provider in preference order; an unavailable one says what is missing (e.g. which CUDA or cuDNN\n' +
    'library) and what to do.\n\n' +
    "With --check: runs the extraction graph and the training steps' graphs (small widths) on that provider,\n" +
    'reports where onnxruntime placed every node and two training steps against the CPU, and prints JSON\n' +
    `{provider, ok, graphs: [{name, nodes, onProvider, copies, steps?, problems}]}. Exits 0 when every node ran on\n` +
    `the provider and the steps match the CPU to ${CHECK_TOLERANCE} relative, else 1. --graphs limits it to graphs whose name\n` +
    'starts with one of the given prefixes. A few minutes on a CPU, seconds on a GPU.',
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv);
    checkFlags(flags, ['check', 'graphs'], 'hardware');
    if (positional.length) throw new DinoscopeError('BAD_INPUT', `unexpected argument "${positional[0]}".`);
    const check = flagValue(flags, 'check');
    const graphs = flagValue(flags, 'graphs');
    if (check === undefined) {
      if (graphs !== undefined) throw new DinoscopeError('BAD_INPUT', '--graphs needs --check PROVIDER.');
      const hw = await probeHardware();
      for (const p of hw.providers) io.stderr(`${p.name}: ${p.available ? 'available' : `not available. ${p.note ?? ''}`}\n`);
      io.stdout(JSON.stringify(hw, null, 2) + '\n');
      return 0;
    }
    if (!(CHECKABLE as readonly string[]).includes(check))
      throw new DinoscopeError('BAD_INPUT', `--check must be cuda, webgpu or cpu, got "${check}".`);
    const provider = check as Provider;
    const only = graphs
      ?.split(',')
      .map((g) => g.trim())
      .filter(Boolean);
    io.stderr(`hardware: checking ${provider} against the CPU${only ? ` (${only.join(', ')})` : ''}…\n`);
    let results: GraphCheck[];
    try {
      results = await gpuCheckInChild(provider, process.env, { only, log: (l) => io.stderr(`  ${l}\n`) });
    } catch (e) {
      const why = e instanceof Error ? e.message.split('\n').filter(Boolean).pop() : String(e);
      io.stderr(
        `dinoscope hardware: ${provider} could not run the check (${why}). Run dinoscope hardware to see whether the probe finds it and what is missing.\n`,
      );
      return 1;
    }
    if (!results.length) throw new DinoscopeError('BAD_INPUT', `--graphs ${graphs} names none of extract, quick, standard, adapt.`);
    const verdicts = results.map((r) => verdict(r, provider));
    const ok = verdicts.every((v) => v.problems.length === 0);
    for (const v of verdicts) for (const p of v.problems) io.stderr(`hardware: ${v.name}: ${p}\n`);
    io.stderr(
      `hardware: ${provider} ${ok ? 'passed' : 'FAILED'}: ${verdicts.length} graphs, ${verdicts.reduce((a, v) => a + v.nodes, 0)} nodes.\n`,
    );
    io.stdout(JSON.stringify({ provider, ok, graphs: verdicts }, null, 2) + '\n');
    return ok ? 0 : 1;
  },
};
