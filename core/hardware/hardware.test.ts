// The provider probe on this host: cpu is always available and selected when nothing else is; the probes
// run in a child process, so a process asking for the hardware prints nothing of the native libraries'
// load errors (CUDA provider bridge, Vulkan loader, Dawn) while the unavailable providers keep their reason.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TrainHardware } from '../common/api.js';
import { PROVIDER_ORDER, probeInChild, probeHardware } from './hardware.js';

const root = resolve(import.meta.dirname, '../..');

describe('probeHardware', () => {
  it('lists the preference order with cpu available and selects the first available', async () => {
    const hw = await probeHardware();
    expect(hw.providers.map((p) => p.name)).toEqual([...PROVIDER_ORDER]);
    expect(hw.providers.find((p) => p.name === 'cpu')?.available).toBe(true);
    expect(hw.selected).toBe(hw.providers.find((p) => p.available)?.name);
    for (const p of hw.providers) if (!p.available) expect(p.note).toBeTruthy();
    expect(hw.cpuThreads).toBeGreaterThan(0);
    expect(await probeHardware()).toBe(hw);
  }, 60_000);

  it('is quiet: a process that probes prints no native CUDA/Vulkan/onnxruntime lines, and the reasons stay in the notes', () => {
    const script =
      "import { probeHardware } from './core/hardware/hardware.ts'; process.stdout.write(JSON.stringify(await probeHardware()));";
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const noisy = r.stderr.split('\n').filter((l) => /cuda|vulkan|libcuda|XDG_RUNTIME_DIR|onnxruntime|dawn|adapter/i.test(l));
    expect(noisy).toEqual([]);
    const hw = JSON.parse(r.stdout) as TrainHardware;
    expect(hw.providers.find((p) => p.name === 'cpu')).toEqual({ name: 'cpu', available: true });
    // Each unavailable provider: a plain note (what runs instead) and the raw reason kept in detail.
    for (const p of hw.providers.filter((x) => !x.available)) {
      expect(p.note, p.name).toMatch(/Dinoscope (runs on the CPU|uses \w+) instead\./);
      expect(p.note, p.name).not.toMatch(/onnxruntime_src|ONNXRuntimeError|\.cc:\d/);
      expect(p.detail, p.name).toMatch(/\w{4}/);
    }
  }, 120_000);

  it('reports a probe child that does not finish instead of hanging', async () => {
    const run = await probeInChild(['cuda', 'webgpu'], 1);
    expect(run.results).toBeNull();
    expect(run.failure).toMatch(/did not finish in 0 s/);
  }, 30_000);
});
