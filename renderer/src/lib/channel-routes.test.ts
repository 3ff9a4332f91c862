// The channel routes the Extract and Train panels offer: a project with multi-channel images (and one that
// is one shared panel), the route a model takes, the model another route switches to, and the options
// disabled with the reason when no model can take them.
import { describe, expect, it } from 'vitest';
import type { ImageEntry, ModelInfo, ProjectSummary } from '../../../core/common/api.js';
import {
  extractRouteOf,
  extractRouteOptions,
  modelForExtractRoute,
  multiChannelNames,
  sharedPanel,
  startForTrainRoute,
  trainRouteOf,
  trainRouteOptions,
} from './channel-routes.js';

const NAMES = ['DAPI', 'AF488', 'AF555', 'AF647', 'AF750'];
const image = (id: string, channels: string[] | null): ImageEntry => ({
  id,
  path: `/x/${id}`,
  name: id,
  status: 'ok',
  meta: {
    width: 64,
    height: 64,
    levels: [{ width: 64, height: 64, downsample: 1 }],
    mpp: null,
    format: 'ome-tiff',
    ...(channels ? { channels: channels.map((name) => ({ name, color: '#ffffff', sampleType: 'uint16' })) } : {}),
  } as ImageEntry['meta'],
});
const project = (images: ImageEntry[]): ProjectSummary => ({ images }) as unknown as ProjectSummary;
const model = (id: string, inChans: number): ModelInfo => ({ id, inChans }) as ModelInfo;
const rgb = model('rgb', 3);
const five = model('five', 5);

describe('channel routes in the panels', () => {
  it('shows a route only for multi-channel images; training needs one shared panel', () => {
    expect(multiChannelNames(project([image('a', null)]))).toBeNull();
    expect(multiChannelNames(project([image('a', null), image('b', NAMES)]))).toEqual(NAMES);
    expect(sharedPanel(project([image('a', null), image('b', NAMES)]))).toBeNull();
    expect(sharedPanel(project([image('a', NAMES), image('b', NAMES.slice(0, 4))]))).toBeNull();
    expect(sharedPanel(project([image('a', NAMES), image('b', NAMES)]))).toEqual(NAMES);
    expect(sharedPanel(null)).toBeNull();
  });

  it('extraction: the model decides the route; another route switches to a model that takes it', () => {
    expect([extractRouteOf(rgb), extractRouteOf(five)]).toEqual(['per-channel', 'channels']);
    expect(modelForExtractRoute([rgb, five], 'channels', 5, rgb)).toBe(five);
    expect(modelForExtractRoute([rgb, five], 'per-channel', 5, five)).toBe(rgb);
    expect(modelForExtractRoute([rgb, model('four', 4)], 'channels', 5, rgb)).toBeNull();
    const opts = extractRouteOptions([rgb], 5);
    expect(opts.map((o) => [o.value, o.unavailable])).toEqual([
      ['per-channel', null],
      ['channels', 'no 5-channel model yet: train one (Train: embed or inflate)'],
    ]);
    expect(opts[0].explained).toMatch(/each channel as grey/);
  });

  it('training: the start decides the route; inflate starts from an RGB model, embed from random weights', () => {
    expect([trainRouteOf(null), trainRouteOf(rgb), trainRouteOf(five)]).toEqual(['embed', 'inflate', 'embed']);
    expect(startForTrainRoute([rgb, five], 'embed', rgb, rgb)).toBeNull();
    expect(startForTrainRoute([rgb, five], 'embed', five, rgb)).toBe(five);
    expect(startForTrainRoute([rgb, five], 'inflate', null, rgb)).toBe(rgb);
    expect(startForTrainRoute([five, rgb], 'inflate', five, null)).toBe(rgb);
    expect(startForTrainRoute([five], 'inflate', null, null)).toBeUndefined();
    expect(trainRouteOptions([five], 'pretrain').map((o) => [o.value, o.unavailable])).toEqual([
      ['embed', null],
      ['inflate', 'no RGB model to widen yet: add one in the Models panel'],
    ]);
    expect(trainRouteOptions([rgb], 'adapt')[0].unavailable).toMatch(/no model of this panel yet/);
  });
});
