// `dinoscope hardware` end to end (the built CLI, spawned as a user would run it): the probe's report, and
// `--check` — the placement and CPU-equality check of the GPU graphs — through its bundled child on the CPU.
// The same check on WebGPU (SwiftShader, every graph) is core/train/placement.test.ts.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { TrainHardware } from '../../common/api.js';
import type { GraphCheck } from '../../train/gpu-check.js';
import { type GraphVerdict, verdict } from './hardware.js';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['bin/dinoscope.js', 'hardware', ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

function placed(nodes: [string, string][], copies = 0): GraphCheck['placement'] {
  const byProvider: Record<string, number> = {};
  for (const [, p] of nodes) byProvider[p] = (byProvider[p] ?? 0) + 1;
  return {
    session: 'webgpu',
    nodes: nodes.map(([op, provider], i) => ({ name: `n${i}`, op, provider })),
    copies: Array.from({ length: copies }, (_, i) => ({ name: `c${i}`, op: 'MemcpyToHost', provider: 'WebGpuExecutionProvider' })),
    byProvider,
  };
}

describe('dinoscope hardware', () => {
  it('reports every provider in preference order; cpu is available and each unavailable one says what is missing', async () => {
    const r = await cli([]);
    expect(r.status, r.stderr).toBe(0);
    const hw = JSON.parse(r.stdout) as TrainHardware;
    expect(hw.providers.map((p) => p.name)).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(hw.providers.find((p) => p.name === 'cpu')?.available).toBe(true);
    expect(hw.providers.find((p) => p.name === hw.selected)?.available).toBe(true);
    for (const p of hw.providers.filter((q) => !q.available)) {
      expect(p.note, p.name).toMatch(/runs on the CPU instead\. .+\.$/);
      expect(p.detail, p.name).toBeTruthy();
      expect(r.stderr).toContain(`${p.name}: not available. ${p.note}`);
    }
  });

  it('--check cpu runs the extraction and a training step graph and passes', async () => {
    const r = await cli(['--check', 'cpu', '--graphs', 'extract,quick/step']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { provider: string; ok: boolean; graphs: GraphVerdict[] };
    expect(out).toMatchObject({ provider: 'cpu', ok: true });
    expect(out.graphs.map((g) => g.name)).toEqual(['extract', 'quick/step']);
    for (const g of out.graphs) expect([g.onProvider, g.problems]).toEqual([g.nodes, []]);
    expect(out.graphs[1].steps).toHaveLength(2);
  });

  it('fails a check that finds a node off the device, a copy, or a step beyond 1e-4 of the CPU', () => {
    const good = verdict({ name: 'g', placement: placed([['MatMul', 'WebGpuExecutionProvider']]), steps: [] }, 'webgpu');
    expect(good.problems).toEqual([]);
    const bad = verdict(
      {
        name: 'g',
        placement: placed(
          [
            ['MatMul', 'WebGpuExecutionProvider'],
            ['LogSoftmax', 'CPUExecutionProvider'],
          ],
          2,
        ),
        steps: [{ losses: 2e-4, gradNorms: 0, gradients: Number.NaN, values: {} }],
      },
      'webgpu',
    );
    expect(bad.problems).toEqual([
      '1 of 2 nodes ran elsewhere: LogSoftmax on CPUExecutionProvider',
      '2 host ↔ device copies in a run',
      'step 1: losses differ from the CPU by 2.0e-4 relative',
      'step 1: gradients differ from the CPU by NaN relative',
    ]);
  });

  it('exits 2 on a provider it cannot check, and on --graphs without --check', async () => {
    const a = await cli(['--check', 'tpu']);
    expect([a.status, a.stderr]).toEqual([2, expect.stringContaining('--check must be cuda, webgpu or cpu, got "tpu"')]);
    const b = await cli(['--graphs', 'extract']);
    expect([b.status, b.stderr]).toEqual([2, expect.stringContaining('--graphs needs --check')]);
  });
});
