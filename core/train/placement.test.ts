// Every node of the graphs a GPU runs is placed on WebGPU, proven without a GPU: the extraction backbone and,
// for the Quick, Standard and Gram-anchored adapt presets, the student step, teacher, EMA and Gram teacher
// graphs (gpu-graphs.ts, small widths) run in a child process whose WebGPU is SwiftShader (chromium's CPU
// Vulkan driver, core/graph/swiftshader.ts); onnxruntime's profile says which provider ran each node.
// Each step graph also runs two steps on WebGPU and on the CPU: losses, gradient norms and gradients (Adam's
// first moments) agree to 1e-4 relative. Before GraphLowering's logSoftmaxPrimitives and indicesViaFloat,
// every step graph had 3 LogSoftmax and 3–5 int64 Reshape nodes on the CPU, with 2 copies each.
// The Standard step in mixed precision (float16 products) is skipped: SwiftShader has no shader-f16, so
// onnxruntime's WebGPU refuses float16 there and the trainer's precision auto is fp32 on it.
import { describe, expect, it } from 'vitest';
import { offProvider } from '../graph/placement.js';
import { swiftShaderEnv, swiftShaderMissing } from '../graph/swiftshader.js';
import { type GraphCheck, gpuCheckInChild } from './gpu-check.js';
import { GPU_PRESETS } from './gpu-graphs.js';

const missing = swiftShaderMissing();
const haveSwiftShader = missing === null;
if (!haveSwiftShader) process.stderr.write(`placement.test.ts: skipped — ${missing} (install Debian's chromium to run it)\n`);

/** Runs the GPU check on webgpu in a child whose Vulkan is SwiftShader; its progress goes to stderr. */
async function checkUnderSwiftShader(lines: string[]): Promise<GraphCheck[]> {
  const ss = await swiftShaderEnv();
  try {
    return await gpuCheckInChild('webgpu', ss.env, {
      log: (l) => {
        lines.push(l);
        process.stderr.write(`  ${l}\n`);
      },
    });
  } finally {
    await ss.close();
  }
}

describe('WebGPU node placement (SwiftShader)', () => {
  it.skipIf(!haveSwiftShader)(
    'every node of the extraction and the Quick/Standard/adapt training graphs on WebGPU, no copies; two steps equal the CPU to 1e-4',
    async () => {
      const lines: string[] = [];
      const results = await checkUnderSwiftShader(lines);
      expect(lines).toContain('standard/step-mixed: skipped: webgpu runs no float16 here');
      const names = results.map((r) => r.name);
      const training = GPU_PRESETS.flatMap((e) => [
        `${e.name}/step`,
        `${e.name}/teacher`,
        `${e.name}/ema`,
        ...(e.gram ? [`${e.name}/gram-teacher`] : []),
      ]);
      expect(names).toEqual(['extract', ...training]);
      for (const r of results) {
        expect(r.placement.session, r.name).toBe('webgpu');
        // The EMA graph updates the three flat parameter buffers (core/train/model.ts): 3 kernels each and 1 − μ.
        if (r.name.endsWith('/ema')) expect(r.placement.nodes.length, r.name).toBe(10);
        else expect(r.placement.nodes.length, r.name).toBeGreaterThan(20);
        expect(offProvider(r.placement, 'webgpu'), r.name).toEqual([]);
        expect(r.placement.copies, r.name).toEqual([]);
      }
      for (const r of results.filter((x) => x.name.endsWith('/step'))) {
        expect(r.steps, r.name).toHaveLength(2);
        for (const [i, s] of r.steps!.entries()) {
          const what = `${r.name} step ${i + 1}: ${JSON.stringify(s.values)}`;
          for (const [gpu, cpu] of Object.values(s.values)) expect(Number.isFinite(gpu) && Number.isFinite(cpu), what).toBe(true);
          expect(s.losses, what).toBeLessThan(1e-4);
          expect(s.gradNorms, what).toBeLessThan(1e-4);
          expect(s.gradients, what).toBeLessThan(1e-4);
        }
        // The adapt step has the Gram loss; the others do not.
        expect('loss/gram' in r.steps![0].values, r.name).toBe(r.name.startsWith('adapt'));
      }
    },
    900_000,
  );
});
