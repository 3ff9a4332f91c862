// 20 training steps of a tiny ViT (the Quick preset's step: student step, teacher, EMA) on WebGPU through
// SwiftShader (a Vulkan driver on the CPU, from Debian's chromium), with the state kept on the device, equal
// to the same 20 steps on the CPU; and no state tensor reaches the host between steps, nor after the state
// was read mid-run (as a checkpoint reads it). The first steps with the state through the host are the same
// bit for bit. WebGPU runs in a child process (core/train/device-state-run.ts) since the Vulkan loader reads
// its environment when onnxruntime loads. SwiftShader's cost is per kernel dispatch (about 1.3 s of CPU a
// step here), so the host-path run stops after HOST_STEPS: the two paths run the same kernels each step, and
// a difference in where the state lives shows from the first step on (HOST_STEPS covers the last layer's
// unfreezing at step 3).
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { swiftShaderEnv, swiftShaderMissing } from '../graph/swiftshader.js';
import { type DeviceStateRun, trainTiny } from './device-state-run.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const missing = swiftShaderMissing();
if (missing) process.stderr.write(`device-state.test: WebGPU training check skipped: ${missing}\n`);
const STEPS = 20;
const HOST_STEPS = 5;

/** Per tensor, the largest |a − b| relative to the tensor's largest |b|; the worst tensor. */
function worstDiff(
  a: Record<string, number[]>,
  b: Record<string, number[]>,
  skip: (name: string, i: number, n: number) => boolean = () => false,
): { rel: number; name: string } {
  let worst = { rel: 0, name: '' };
  for (const [k, want] of Object.entries(b)) {
    const got = a[k];
    expect(got, k).toHaveLength(want.length);
    let d = 0;
    let scale = 0;
    want.forEach((w, i) => {
      if (skip(k, i, want.length)) return;
      d = Math.max(d, Math.abs(got[i] - w));
      scale = Math.max(scale, Math.abs(w));
    });
    const rel = scale > 0 ? d / scale : d;
    if (rel > worst.rel) worst = { rel, name: k };
  }
  return worst;
}

/**
 * The key third of each attention's qkv bias: softmax is unchanged by adding a constant to every key, so its
 * gradient is exactly zero and what the kernels compute is rounding noise, which AdamW scales up to full-size
 * steps (m/√v): after 20 steps it differs between any two float32 implementations (1.8 % of its largest here).
 */
const keyBias = (name: string, i: number, n: number): boolean => name.endsWith('attn.qkv.bias') && i >= n / 3 && i < (2 * n) / 3;

describe('training with device state (WebGPU on SwiftShader)', () => {
  it.skipIf(missing)(
    `${STEPS} steps with state on the device: equal to the state through the host bit for bit (first ${HOST_STEPS} steps), to the CPU's losses to 1e-4 relative and final state; no state copied to the host between steps, nor after a mid-run state read${missing ? ` (skipped: ${missing})` : ''}`,
    async () => {
      const ss = await swiftShaderEnv();
      const dir = await mkdtemp(join(tmpdir(), 'dinoscope-devstate-'));
      try {
        const out = join(dir, 'webgpu.json');
        // One child for both runs: WebGPU compiles its shaders once. The device run reads its state after
        // HOST_STEPS (as a checkpoint does) and goes on; the host run stops there (the first HOST_STEPS of the
        // same 20-step plan, so the same schedule).
        const args = ['core/train/device-state-run.ts', out, String(STEPS), 'webgpu', `1,0:${HOST_STEPS}`, String(HOST_STEPS)];
        const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: root, encoding: 'utf8', timeout: 900_000, env: ss.env });
        expect(r.status, r.stderr).toBe(0);
        const [on, off] = JSON.parse(await readFile(out, 'utf8')) as DeviceStateRun[];
        const cpu = await trainTiny(STEPS, 'cpu', true);
        expect([on.provider, on.deviceState, off.deviceState]).toEqual(['webgpu', true, false]);
        expect(on.losses).toHaveLength(STEPS);
        expect(off.losses).toHaveLength(HOST_STEPS);

        // Where the state lives changes nothing in what is computed: the same losses and, after HOST_STEPS,
        // the same state bit for bit.
        expect(on.losses.slice(0, HOST_STEPS)).toEqual(off.losses);
        for (const part of ['student', 'teacher', 'optimizer'] as const)
          expect(worstDiff(on.snapshot![part], off.state[part]).rel, part).toBe(0);

        // Against the CPU: the losses, and the final state read back from the device (Trainer.state).
        const lossRel = Math.max(...on.losses.map((x, i) => Math.abs(x - cpu.losses[i]) / Math.abs(cpu.losses[i])));
        process.stderr.write(`device state vs CPU: losses of ${STEPS} steps differ by at most ${lossRel.toExponential(2)} relative\n`);
        on.losses.forEach((x, i) =>
          expect(Math.abs(x - cpu.losses[i]) / Math.abs(cpu.losses[i]), `loss ${i}: ${x} vs ${cpu.losses[i]}`).toBeLessThanOrEqual(1e-4),
        );
        for (const part of ['student', 'teacher', 'optimizer'] as const) {
          const w = worstDiff(on.state[part], cpu.state[part], keyBias);
          process.stderr.write(
            `device state vs CPU after ${STEPS} steps: ${part} differs by at most ${w.rel.toExponential(2)} of a tensor's largest value (${w.name})\n`,
          );
          expect(w.rel, `${part} ${w.name}`).toBeLessThanOrEqual(1e-3);
        }

        // No state left the device between steps, before or after the mid-run read: no readback, and each
        // step's host-bound bytes (losses, teacher targets, centers) are a small fraction of the state's;
        // through the host they are all of it.
        for (const [i, t] of on.traffic.entries()) {
          expect(t.readbacks, `step ${i}`).toBe(0);
          expect(t.downloadBytes, `step ${i}`).toBeLessThan(0.05 * on.stateBytes);
        }
        for (const t of off.traffic) expect(t.downloadBytes).toBeGreaterThan(on.stateBytes);
        expect(on.traffic).toHaveLength(STEPS);
        // Nor was it uploaded again, the mid-run read included: after the first step only the batch and
        // scalars go up, the same bytes each step.
        expect(new Set(on.traffic.slice(1).map((t) => t.uploadBytes)).size).toBe(1);
        expect(on.traffic[1].uploadBytes).toBeLessThan(on.traffic[0].uploadBytes - 0.9 * on.stateBytes);
        expect(off.traffic[1].uploadBytes).toBeGreaterThan(on.traffic[1].uploadBytes + 0.9 * on.stateBytes);
      } finally {
        await ss.close();
        await rm(dir, { recursive: true, force: true });
      }
    },
    1_000_000,
  );
});
