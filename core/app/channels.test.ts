// Channel display of a multi-channel image through the app service, on the 5-channel OME-TIFF fixture:
// the defaults (file colours, auto-contrast), histograms, served tiles that follow the saved settings (a
// pixel where only AF647 has signal turns dark when AF647 is hidden and brighter with a lower maximum),
// the settings kept in project.json across a reopen, and plain refusals for bad settings and RGB images.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelDisplay } from '../common/api.js';
import { FIXTURE_CHANNELS } from '../data/fixtures/channels.js';
import { writePyramidalTiff } from '../data/fixtures/pyramidal-tiff.js';
import { writeChannelFixtures, type WrittenChannelFixtures } from '../data/fixtures/write-channel-fixtures.js';
import { dziGeometry } from '../tiles/dzi.js';
import { importedProject } from './fixture-service.js';
import type { AppService } from './service.js';

let root: string;
let fx: WrittenChannelFixtures;
let service: AppService;
let id: string;
let rgbId: string;
const W = 512;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'dinoscope-app-channels-'));
  fx = await writeChannelFixtures(join(root, 'data'), { width: W, height: W, levels: 3 });
  await writePyramidalTiff(join(root, 'rgb.tif'), { width: 600, height: 400, compression: 'jpeg' });
  const p = await importedProject(root, [fx.omeTiff, join(root, 'rgb.tif')]);
  service = p.service;
  [id, rgbId] = p.ids;
}, 120_000);
afterAll(async () => {
  await service?.close();
  rmSync(root, { recursive: true, force: true });
});

/** The full-resolution tile's pixel (x, y) of the image, decoded. */
async function pixel(x: number, y: number): Promise<number[]> {
  const g = dziGeometry(W, W);
  const jpeg = await service.tile(id, g.maxLevel, Math.floor(x / g.tileSize), Math.floor(y / g.tileSize));
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  const i = ((y % g.tileSize) * info.width + (x % g.tileSize)) * info.channels;
  return [data[i], data[i + 1], data[i + 2]];
}

/** The centre of the first unique square (AF647 only). */
function uniquePixel(): [number, number] {
  const m = fx.fixture.masks.unique;
  const first = m.indexOf(1);
  const side = Math.round(W / 20);
  return [(first % W) + Math.floor(side / 2), Math.floor(first / W) + Math.floor(side / 2)];
}

describe('channel display', () => {
  it('starts from the file colours with auto-contrast, all five shown, not saved', async () => {
    const state = await service.channelState(id);
    expect(state.saved).toBe(false);
    expect(state.channels.map((c) => c.name)).toEqual(FIXTURE_CHANNELS.map((c) => c.name));
    expect(state.display.map((d) => d.color)).toEqual([...FIXTURE_CHANNELS.slice(0, 4).map((c) => c.color), [0, 255, 255]]);
    expect(state.display.every((d) => d.visible)).toBe(true);
    expect(state.tileUrl).toBe(`/tiles/${id}/{level}/{x}_{y}.jpeg`);
    const h = await service.channelHistograms(id);
    expect(h).toHaveLength(5);
    for (const c of h) {
      expect(c.counts.reduce((a, b) => a + b, 0)).toBe(512 * 512); // level 0 is within 1024 px
      expect(c.autoMax).toBeGreaterThan(c.autoMin);
      expect(c.min).toBeLessThan(400); // the dark background
    }
    expect(h[3].max).toBeGreaterThan(25000); // the unique squares
  });

  it('served tiles follow the saved display: hide a channel, change its contrast', async () => {
    const [ux, uy] = uniquePixel();
    const before = await pixel(ux, uy);
    expect(before[0]).toBeGreaterThan(200);
    expect(before[2]).toBeGreaterThan(200); // magenta: AF647 only
    const state = await service.channelState(id);
    const hidden: ChannelDisplay[] = state.display.map((d, i) => (i === 3 ? { ...d, visible: false } : d));
    const after = await service.setChannelDisplay(id, hidden);
    expect(after.saved).toBe(true);
    expect(after.tileUrl).toMatch(new RegExp(`^/tiles/${id}/\\{level\\}/\\{x\\}_\\{y\\}\\.jpeg\\?d=[0-9a-f]{8}$`));
    expect((await service.tileSource(id)).tileUrl).toBe(after.tileUrl);
    expect(Math.max(...(await pixel(ux, uy)))).toBeLessThan(30); // nothing else there
    // AF647 alone in grey, contrast 0–60000: the 30000 squares at about half brightness.
    const grey: ChannelDisplay[] = state.display.map((d, i) => ({ ...d, visible: i === 3, color: [255, 255, 255], min: 0, max: 60000 }));
    await service.setChannelDisplay(id, grey);
    const half = await pixel(ux, uy);
    for (const v of half) expect(Math.abs(v - 128)).toBeLessThan(12);
    grey[3] = { ...grey[3], max: 30000 };
    const full = await service.setChannelDisplay(id, grey);
    for (const v of await pixel(ux, uy)) expect(v).toBeGreaterThan(235);
    // Kept in the project: a reopened project shows the same.
    const path = (await service.currentProject())!.path;
    await service.openProject(path);
    const reopened = await service.channelState(id);
    expect(reopened.saved).toBe(true);
    expect(reopened.display).toEqual(full.display);
    // null restores the defaults.
    const reset = await service.setChannelDisplay(id, null);
    expect(reset.saved).toBe(false);
    expect(reset.display).toEqual(state.display);
  });

  it('refuses settings that do not fit the image, and channels of an RGB image, in plain words', async () => {
    const state = await service.channelState(id);
    await expect(service.setChannelDisplay(id, state.display.slice(0, 2))).rejects.toThrow(/has 5 channels; the display settings list 2/);
    const flat = state.display.map((d) => ({ ...d, min: 5, max: 5 }));
    await expect(service.setChannelDisplay(id, flat)).rejects.toThrow(
      /channel 1 \(DAPI\): the contrast maximum \(5\) must be above the minimum/,
    );
    await expect(service.channelState(rgbId)).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/not a multi-channel image/),
    });
  });
});
