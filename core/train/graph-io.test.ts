// The training graphs' per-step values are declared once (STEP_IO, TEACHER_IO, EMA_IO, BACKBONE_IO) and the
// graphs built from those declarations have exactly those inputs and outputs besides parameters and state.
// The type-level half: a misspelt key fails to compile (`npm run typecheck` checks the @ts-expect-error lines:
// were the key accepted, the directive itself would be the error).
import { describe, expect, it } from 'vitest';
import { type HostTensor, hostTensor } from '../graph/tensor.js';
import { vitConfig } from '../model/config.js';
import { graphIO } from './graph-io.js';
import { type HeadConfig } from './heads.js';
import { MODEL_PARTS, flatName, modelParamShapes } from './model.js';
import { STEP_IO, buildStepGraph } from './step.js';
import { BACKBONE_IO, EMA_IO, TEACHER_IO, buildBackboneGraph, buildEmaGraph, buildTeacherGraph, emaStudentInput } from './teacher.js';

const vit = vitConfig('tiny', { arch: 'dinov3', patchSize: 8, registers: 2, dim: 32, depth: 1, heads: 2 });
const head: HeadConfig = { prototypes: 16, hidden: 32, bottleneck: 8, lastLayer: 'plain' };
const params = new Set([...modelParamShapes(vit, head).keys(), ...MODEL_PARTS.map(flatName)]); // per tensor, and the flat buffers graphs hold
const x = hostTensor('float32', [], [1]);

/** Graph value names that are not model parameters or runner state. */
function perStep(names: readonly string[], state: Iterable<string> = []): string[] {
  const skip = new Set(state);
  return names.filter((n) => !params.has(n) && !skip.has(n)).sort();
}

describe('typed training graph values', () => {
  it('the student step graph (local crops, RoPE augmentation, Gram anchoring, mixed precision) has exactly STEP_IO inputs and outputs besides its state', () => {
    // Gram anchoring and distillation's feature regression take the teacher-token slot in turn: the feature
    // regression's two projection inputs are the declared inputs the Gram graph lacks.
    const feature = [STEP_IO.inputs.featureMean, STEP_IO.inputs.featureProjection];
    const spec = {
      vit,
      head,
      batch: 2,
      globalSize: 16,
      localSize: 8,
      localCrops: 2,
      maskSlots: 3,
      loss: { studentTemp: 0.1, dinoWeight: 1, ibotWeight: 1, koleoWeight: 0.1 },
      optim: { layerDecay: 0.9, patchEmbedLrMult: 0.2, clipGrad: 3, beta1: 0.9, beta2: 0.999 },
      remat: false,
    };
    const s = buildStepGraph({ ...spec, gram: { teacherSize: 16 }, lowering: { mixedPrecision: true } });
    expect(s.ropeAug).toBe(true);
    expect(s.mixed).toBe(true);
    const stateIn = Object.values(s.opt.stateMap);
    expect(
      perStep(
        s.graph.inputs.map((t) => t.name),
        stateIn,
      ),
    ).toEqual(
      Object.values(STEP_IO.inputs)
        .filter((n) => !feature.includes(n))
        .sort(),
    );
    const f = buildStepGraph({ ...spec, gram: { teacherSize: 16, teacherDim: 48, loss: 'feature' } });
    const fIn = perStep(
      f.graph.inputs.map((t) => t.name),
      Object.values(f.opt.stateMap),
    );
    for (const n of feature) expect(fIn).toContain(n);
    expect(fIn.every((n) => Object.values(STEP_IO.inputs).includes(n))).toBe(true);
    expect(
      perStep(
        s.graph.outputs.map((t) => t.name),
        Object.keys(s.opt.stateMap),
      ),
    ).toEqual(Object.values(STEP_IO.outputs).sort());
    expect([...s.outputs].sort()).toEqual(Object.values(STEP_IO.outputs).sort());
  });

  it('the teacher graph has exactly TEACHER_IO inputs and outputs (EMA centering with patches: all; without: no patches; Sinkhorn-Knopp: no centres)', () => {
    const spec = { vit, head, batch: 2, globalSize: 16, maskSlots: 3, centerMomentum: 0.9, sinkhornIterations: 3 };
    const ema = buildTeacherGraph({ ...spec, centering: 'ema', patches: true });
    expect(perStep(ema.inputs.map((t) => t.name))).toEqual(Object.values(TEACHER_IO.inputs).sort());
    expect(perStep(ema.outputs.map((t) => t.name))).toEqual(Object.values(TEACHER_IO.outputs).sort());
    const { patches, ...noPatches } = TEACHER_IO.outputs;
    expect(patches.length).toBeGreaterThan(0);
    const plain = buildTeacherGraph({ ...spec, centering: 'ema' });
    expect(perStep(plain.outputs.map((t) => t.name))).toEqual(Object.values(noPatches).sort());
    const sk = buildTeacherGraph({ ...spec, centering: 'sinkhorn' });
    const { centerDino, centerIbot, ...skIn } = TEACHER_IO.inputs;
    const { nextCenterDino, nextCenterIbot, ...skOut } = noPatches;
    expect([centerDino, centerIbot, nextCenterDino, nextCenterIbot].every((n) => n.length > 0)).toBe(true);
    expect(perStep(sk.inputs.map((t) => t.name))).toEqual(Object.values(skIn).sort());
    expect(perStep(sk.outputs.map((t) => t.name))).toEqual(Object.values(skOut).sort());
  });

  it('the EMA and backbone graphs have exactly their declared values', () => {
    const ema = buildEmaGraph(vit, head);
    expect(
      perStep(
        ema.graph.inputs.map((t) => t.name),
        [...params].map(emaStudentInput),
      ),
    ).toEqual(Object.values(EMA_IO.inputs));
    const bb = buildBackboneGraph(vit, 2, 16);
    expect(perStep(bb.inputs.map((t) => t.name))).toEqual(Object.values(BACKBONE_IO.inputs));
    expect(perStep(bb.outputs.map((t) => t.name))).toEqual(Object.values(BACKBONE_IO.outputs).sort());
  });

  it('feeds by key (undefined keys left out) and reads by key (absent outputs left out)', () => {
    const feeds = TEACHER_IO.feeds({ global: x, ibotIndices: x, ibotWeights: x, temp: x, centerDino: undefined });
    expect(Object.keys(feeds).sort()).toEqual(['global', 'ibot/indices', 'ibot/weights', 'teacher/temp']);
    const out = TEACHER_IO.read({ 'targets/dino': x, 'targets/ibot': x, 'signals/entropy': x, 'teacher/cls': x, 'next/optim/step': x });
    expect(Object.keys(out).sort()).toEqual(['cls', 'entropy', 'targetsDino', 'targetsIbot']);
  });

  it('a misspelt or missing name does not compile', () => {
    // @ts-expect-error 'lrr' is not a value of the step graph
    expect(() => STEP_IO.feeds({ lrr: x })).toThrow(/no input is declared for lrr/);
    // @ts-expect-error the teacher needs its temperature (temp missing)
    TEACHER_IO.feeds({ global: x, ibotIndices: x, ibotWeights: x });
    // @ts-expect-error no output 'targetDino' (it is targetsDino)
    void TEACHER_IO.outputs.targetDino;
    // @ts-expect-error a descriptor must name every key of its interface (cls missing)
    graphIO<{ images: HostTensor }, { cls: HostTensor; patches: HostTensor }>({ images: 'images' }, { patches: 'patches' });
    // @ts-expect-error and no key its interface lacks
    graphIO<{ images: HostTensor }, { patches: HostTensor }>({ images: 'images', masks: 'masks' }, { patches: 'patches' });
    expect(STEP_IO.inputs.lr).toBe('optim/lr');
  });
});
