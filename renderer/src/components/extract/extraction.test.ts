// The Extract panel's starting resolution (the active set's, else 2 µm/px when every image states its
// µm/px, else for a slide the level nearest a 4× downsample, for a small image level 0) and its estimate line.
import { describe, expect, it } from 'vitest';
import type { ExtractEstimate, ExtractSummary, FeatureSetInfo, ImageEntry, ProjectSummary } from '../../../../core/common/api.js';
import { defaultResolution, estimateText, fallbackText } from './extraction.js';
import { foregroundLines, MASK_CHOICES } from './foreground.js';

const slide = (id: string, mpp: number | null): ImageEntry => ({
  id,
  path: `/s/${id}.svs`,
  name: `${id}.svs`,
  status: 'ok',
  meta: {
    format: 'svs',
    width: 40000,
    height: 30000,
    mpp,
    tileWidth: 256,
    tileHeight: 256,
    vendor: {},
    levels: [1, 4, 16].map((d) => ({ width: 40000 / d, height: 30000 / d, downsample: d })),
  },
});
const set = (o: Partial<FeatureSetInfo>): FeatureSetInfo => ({
  id: 's',
  modelId: 'm',
  mpp: null,
  level: null,
  dim: 8,
  imagesWithFeatures: 1,
  images: 1,
  patches: 1,
  createdAt: '',
  updatedAt: '',
  active: true,
  ...o,
});
const project = (images: ImageEntry[], featureSets?: FeatureSetInfo[]): ProjectSummary => ({
  path: '/p',
  name: 'p',
  images,
  ...(featureSets ? { featureSets, activeFeatureSet: featureSets.find((s) => s.active)?.id ?? null } : {}),
});

describe('defaultResolution', () => {
  it("starts at the active set's resolution", () => {
    expect(defaultResolution(project([slide('a', 0.25)], [set({ mpp: 1 })]))).toMatchObject({ mode: 'mpp', mpp: 1 });
    expect(defaultResolution(project([slide('a', 0.25)], [set({ level: 2, mpp: 4 })]))).toMatchObject({ mode: 'level', level: 2 });
  });

  it("else 2 µm/px when every image states its µm/px (never finer than the coarsest scan), else a slide's level nearest 4×", () => {
    expect(defaultResolution(project([slide('a', 0.25), slide('b', 0.5)]))).toMatchObject({ mode: 'mpp', mpp: 2 });
    expect(defaultResolution(project([slide('a', 2.5)]))).toMatchObject({ mode: 'mpp', mpp: 2.5 });
    expect(defaultResolution(project([slide('a', 0.25)], [set({ active: false, mpp: 1 })]))).toMatchObject({ mode: 'mpp', mpp: 2 });
    expect(defaultResolution(project([slide('a', null), slide('b', 0.5)]))).toMatchObject({ mode: 'level', level: 1 });
    expect(defaultResolution(project([]))).toMatchObject({ mode: 'level', level: 0 });
    // A small image's lower levels are halvings of it: level 0.
    const png: ImageEntry = {
      id: 'p',
      path: '/p.png',
      name: 'p.png',
      status: 'ok',
      meta: {
        format: 'png',
        width: 448,
        height: 448,
        mpp: null,
        tileWidth: 448,
        tileHeight: 448,
        vendor: {},
        levels: [1, 2, 4].map((d) => ({ width: 448 / d, height: 448 / d, downsample: d })),
      },
    };
    expect(defaultResolution(project([png]))).toMatchObject({ mode: 'level', level: 0 });
  });
});

describe('estimateText', () => {
  const e: ExtractEstimate = {
    featureSet: 'm-2um',
    images: 3,
    done: 1,
    patches: 40_000,
    grids: [],
    refused: [],
    patchesPerSecond: 500,
    rateFrom: 'measured',
    device: 'cpu',
    seconds: 80,
  };
  it('says the patches, the images left, the time and where the rate comes from', () => {
    expect(estimateText(e)).toBe(
      "40,000 patches in 2 images (1 already done): about 80 s at 500 patches/s on cpu, measured in this project's last run of this model; less where background is skipped.",
    );
    expect(estimateText({ ...e, seconds: 3000, rateFrom: 'estimated' })).toContain(
      "about 50 min at 500 patches/s on cpu, estimated from the model's size",
    );
    expect(estimateText({ ...e, rateFrom: 'scaled', rateModel: 'demo' })).toContain(
      "500 patches/s on cpu, scaled from this project's last run of demo;",
    );
    expect(estimateText({ ...e, route: 'per-channel', passesPerPatch: 5 })).toContain(
      'about 80 s (per-channel: each patch through the model 5 times) at 500 patches/s',
    );
    expect(estimateText({ ...e, done: 3, patches: 0 })).toBe('All 3 images are already extracted in m-2um: nothing to do.');
    expect(estimateText({ ...e, images: 0 })).toBe('No image can be extracted at this resolution.');
  });
});

describe('fallbackText', () => {
  const e: ExtractEstimate = {
    featureSet: 'm-0p5um',
    images: 2,
    done: 0,
    patches: 2048,
    grids: [],
    refused: [],
    patchesPerSecond: 500,
    rateFrom: 'measured',
    device: 'cpu',
    seconds: 4,
  };
  const grid = (name: string, fallbackLevel?: number): ExtractEstimate['grids'][number] => ({
    imageId: name,
    name,
    gridWidth: 32,
    gridHeight: 32,
    ...(fallbackLevel !== undefined ? { fallbackLevel } : {}),
  });
  it('names the images without µm/px that an extraction by µm/px reads at level 0', () => {
    expect(fallbackText({ ...e, grids: [grid('scan.tif')] })).toBeNull();
    expect(fallbackText({ ...e, grids: [grid('scan.tif'), grid('export.png', 0)] })).toBe(
      'export.png states no µm per pixel: it is extracted at level 0 (its own pixels).',
    );
    const many = ['a.png', 'b.png', 'c.png', 'd.png'].map((n) => grid(n, 0));
    expect(fallbackText({ ...e, grids: many.slice(0, 2) })).toBe(
      '2 images state no µm per pixel (a.png, b.png): they are extracted at level 0 (their own pixels).',
    );
    expect(fallbackText({ ...e, grids: many })).toBe(
      '4 images state no µm per pixel (a.png, b.png, c.png, …): they are extracted at level 0 (their own pixels).',
    );
  });
});

describe('foreground lines after a run', () => {
  const summary = (images: Partial<ExtractSummary['images'][number]>[], mask: ExtractSummary['mask'] = 'auto'): ExtractSummary => ({
    featureSet: 'f',
    modelId: 'm',
    dir: '/d',
    context: 'whole',
    mask,
    provider: 'cpu',
    warnings: [],
    patches: 1,
    seconds: 1,
    patchesPerSecond: 1,
    images: images.map((o, i) => ({
      imageId: `i${i}`,
      name: `i${i}.png`,
      gridWidth: 4,
      gridHeight: 4,
      computed: 1,
      background: 0,
      resumed: 0,
      patches: 16,
      seconds: 1,
      indexedRows: 16,
      context: 'whole',
      mask: 'brightfield',
      foregroundShare: 1,
      ...o,
    })),
  });

  it('names each image, its share and the mask, and suggests Off under half', () => {
    const lines = foregroundLines(summary([{ foregroundShare: 0.34 }, { mask: 'fluorescence', foregroundShare: 0.8 }]));
    expect(lines.map((l) => l.low)).toEqual([true, false]);
    expect(lines[0].text).toBe(
      'i0.png: 34 % of patches are foreground (brightfield mask, picked automatically). If tissue is missed, extract again with the mask Off.',
    );
    expect(lines[1].text).toBe('i1.png: 80 % of patches are foreground (fluorescence mask, picked automatically)');
    expect(foregroundLines(summary([{ mask: 'off', foregroundShare: 1 }], 'off'))[0].text).toBe(
      'i0.png: mask off: every patch is searched',
    );
  });

  it('offers every setting with its explanation', () => {
    expect(MASK_CHOICES.map((c) => c.value)).toEqual(['auto', 'off', 'brightfield', 'fluorescence']);
    expect(MASK_CHOICES.every((c) => c.explained.length > 20)).toBe(true);
  });
});
