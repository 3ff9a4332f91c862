// Reading onnxruntime's node placement from its profile (placement.ts), on the CPU: every node of a real
// session is listed once with its op and provider, after onnxruntime's own rewrites; bad traces are refused.
import { describe, expect, it } from 'vitest';
import { Graph } from './graph.js';
import { serialize } from './onnx.js';
import * as op from './ops/index.js';
import { measurePlacement, offProvider, placementFeeds, placementFromTrace } from './placement.js';

/** y = softmax(x·w + b) summed: MatMul, Add, Softmax, ReduceSum (onnxruntime fuses MatMul + Add into Gemm). */
function model(): Graph {
  const g = new Graph('placed');
  const x = g.input('x', [4, 6]);
  const idx = g.input('idx', [3], 'int64');
  const w = g.param('w', [6, 5]);
  const b = g.param('b', [5]);
  const y = op.softmax(op.add(op.matmul(op.gather(x, idx, 0), w), b));
  g.output(op.reduceSum(op.mul(y, y)), 'loss');
  return g;
}

describe('placement', () => {
  it("lists every kernel of a CPU session's run once, on the CPU, with onnxruntime's op names", async () => {
    const g = model();
    const p = await measurePlacement(serialize(g), placementFeeds(g), { providers: ['cpu'], intraOpThreads: 1 });
    expect(p.session).toBe('cpu');
    expect(p.copies).toEqual([]);
    expect(offProvider(p, 'cpu')).toEqual([]);
    expect(p.byProvider).toEqual({ CPUExecutionProvider: p.nodes.length });
    const ops = p.nodes.map((n) => n.op);
    expect(ops).toEqual(expect.arrayContaining(['Gather', 'Softmax', 'Mul', 'ReduceSum']));
    expect(ops.some((o) => o === 'Gemm' || o === 'MatMul' || o === 'FusedMatMul')).toBe(true);
    expect(new Set(p.nodes.map((n) => n.name)).size).toBe(p.nodes.length);
    expect(offProvider(p, 'webgpu')).toHaveLength(p.nodes.length);
  });

  it('keeps one entry per node over several runs and counts copies apart', () => {
    const ev = (name: string, op: string, provider: string): unknown => ({
      cat: 'Node',
      name: `${name}_kernel_time`,
      args: { op_name: op, provider },
    });
    const trace = [
      { cat: 'Session', name: 'model_run' },
      ev('a', 'Add', 'WebGpuExecutionProvider'),
      ev('m', 'MemcpyToHost', 'WebGpuExecutionProvider'),
      ev('s', 'Sum', 'CPUExecutionProvider'),
      ev('a', 'Add', 'WebGpuExecutionProvider'),
      { cat: 'Node', name: 'a_fence_before', args: {} },
    ];
    const p = placementFromTrace(trace, 'webgpu');
    expect(p.nodes).toEqual([
      { name: 'a', op: 'Add', provider: 'WebGpuExecutionProvider' },
      { name: 's', op: 'Sum', provider: 'CPUExecutionProvider' },
    ]);
    expect(p.copies).toEqual([{ name: 'm', op: 'MemcpyToHost', provider: 'WebGpuExecutionProvider' }]);
    expect(offProvider(p, 'webgpu').map((n) => n.op)).toEqual(['Sum']);
    expect(() => placementFromTrace({ events: [] }, 'cpu')).toThrow(/JSON array/);
  });
});
