// The channel route flags on a project of the 5-channel OME-TIFF fixture (core/data/fixtures/
// write-channel-fixtures.ts): `dinoscope extract --channels per-channel|channels` records the route on the
// feature set, and a model that cannot take the asked route exits 2 saying what to choose; `dinoscope
// pretrain --channels embed|inflate` trains a new 5-channel embedding or inflates an RGB model (train-config,
// log line and summary route), `adapt --channels` checks its model; bad values, per-channel for training,
// and a project without a panel exit 2 with the allowed list or the reason.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppService, rootAssetUrls } from '../../app/service.js';
import { writeChannelFixtures } from '../../data/fixtures/write-channel-fixtures.js';
import type { HostTensor } from '../../graph/tensor.js';
import { vitConfig } from '../../model/config.js';
import { inflatePatchEmbed } from '../../model/inflate.js';
import { projectModelsDir } from '../../model/manager/paths.js';
import { initParams } from '../../model/params.js';
import { exportWeights } from '../../model/weights/export.js';
import type { WeightTensor } from '../../model/weights/safetensors.js';
import { runCli } from '../main.js';

let dir: string;
let proj: string;
let rgbProj: string;

const toTensors = (w: Record<string, HostTensor>): Map<string, WeightTensor> =>
  new Map(Object.entries(w).map(([k, t]) => [k, { shape: [...t.dims], data: t.data as Float32Array }]));

async function cli(...argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await runCli(argv, {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    signal: new AbortController().signal,
  });
  return { status, stdout, stderr };
}

interface StoredSet {
  id: string;
  dim: number;
  input?: { route: string; channels?: string[] };
}
const sets = async (): Promise<StoredSet[]> =>
  (JSON.parse(await readFile(join(proj, 'project.json'), 'utf8')) as { features: StoredSet[] }).features;
const trainConfig = async (run: string): Promise<{ model: { from: string | null; channels: number | null } }> =>
  JSON.parse(await readFile(join(proj, 'runs', run, 'train-config.json'), 'utf8'));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-channels-route-'));
  process.env.DINOSCOPE_HOME = join(dir, 'home');
  const fixtures = await writeChannelFixtures(join(dir, 'fixture'), { width: 256, height: 256 });
  const service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: dir });
  proj = join(dir, 'proj');
  await service.createProject(proj);
  await service.importPaths([fixtures.omeTiff]);
  await service.idle();
  // An RGB model of the --tiny sizes (so a --tiny run can start from it) and the same inflated to 5 channels.
  const cfg = vitConfig('tiny', { arch: 'dinov2', patchSize: 8, registers: 2, dim: 32, depth: 1, heads: 2, posEmbed: { gridSize: 4 } });
  const weights = initParams(cfg, 3);
  for (const p of [proj, join(dir, 'rgb-proj')]) await exportWeights(join(projectModelsDir(p), 'rgb'), cfg, toTensors(weights), 'hf');
  const inflated = inflatePatchEmbed(cfg, weights, 5);
  await exportWeights(join(projectModelsDir(proj), 'inflated5'), inflated.config, toTensors(inflated.weights), 'hf');
  // A project of one RGB image: no panel.
  rgbProj = join(dir, 'rgb-proj');
  await service.createProject(rgbProj);
  const png = join(dir, 'rgb.png');
  await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 120, b: 160 } } })
    .png()
    .toFile(png);
  await service.importPaths([png]);
  await service.idle();
  await service.close();
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('dinoscope extract --channels', () => {
  const extract = (model: string, ...more: string[]): ReturnType<typeof cli> =>
    cli('extract', '--project', proj, '--model', model, '--level', '0', '--device', 'cpu', '--threads', '1', ...more);

  it('refuses a bad value with the allowed list, and a model that cannot take the route with what to choose', async () => {
    const bad = await extract('rgb', '--channels', 'grey');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--channels must be per-channel or channels, got "grey"/);
    const rgbAsChannels = await extract('rgb', '--channels', 'channels');
    expect(rgbAsChannels.status).toBe(2);
    expect(rgbAsChannels.stderr).toMatch(
      /--channels: the channels route needs a model that takes the panel's channels .* rgb is an RGB model: choose per-channel/,
    );
    const fiveAsPerChannel = await extract('inflated5', '--channels', 'per-channel');
    expect(fiveAsPerChannel.status).toBe(2);
    expect(fiveAsPerChannel.stderr).toMatch(/--channels: the per-channel route runs an RGB model .* inflated5 takes 5 channels/);
    expect(await sets()).toEqual([]);
    const help = await cli('extract', '--help');
    expect(help.stdout + help.stderr).toMatch(/--channels per-channel\|channels/);
    expect(help.stdout + help.stderr).toMatch(/ {2}per-channel: an RGB model as it is/);
  });

  it('records the route asked for on the feature set', async () => {
    const a = await extract('rgb', '--channels', 'per-channel');
    expect(a.status, a.stderr).toBe(0);
    const b = await extract('inflated5', '--channels', 'channels');
    expect(b.status, b.stderr).toBe(0);
    const byId = new Map((await sets()).map((s) => [s.id, s]));
    expect(byId.get('rgb-level0')).toMatchObject({ dim: 5 * 32, input: { route: 'per-channel' } });
    expect(byId.get('inflated5-level0')).toMatchObject({ dim: 32, input: { route: 'channels' } });
    const none = await cli('extract', '--project', rgbProj, '--model', 'rgb', '--level', '0', '--channels', 'per-channel');
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/a channel route applies to multi-channel images/);
  }, 120_000);
});

describe('dinoscope pretrain and adapt --channels', () => {
  const pretrain = (run: string, ...more: string[]): ReturnType<typeof cli> =>
    cli('pretrain', '--project', proj, '--tiny', '--steps', '1', '--threads', '1', '--run', run, ...more);

  it('refuses bad values, per-channel (no training), a route the start model cannot take, and no panel', async () => {
    const bad = await pretrain('bad', '--channels', 'grey');
    expect([bad.status, bad.stderr]).toEqual([2, expect.stringMatching(/--channels must be embed or inflate, got "grey"/)]);
    const per = await pretrain('per', '--channels', 'per-channel');
    expect(per.status).toBe(2);
    expect(per.stderr).toMatch(/per-channel needs no training: extract with an RGB model/);
    const inflateNothing = await pretrain('inf0', '--channels', 'inflate');
    expect(inflateNothing.status).toBe(2);
    expect(inflateNothing.stderr).toMatch(/--channels inflate widens an RGB model, and the run has none to start from/);
    const inflateFive = await pretrain('inf5', '--channels', 'inflate', '--from', 'inflated5');
    expect(inflateFive.status).toBe(2);
    expect(inflateFive.stderr).toMatch(/inflated5 takes 5 channels already/);
    const embedRgb = await pretrain('emb', '--channels', 'embed', '--from', 'rgb');
    expect(embedRgb.status).toBe(2);
    expect(embedRgb.stderr).toMatch(/--channels embed .* rgb, an RGB model: --channels inflate starts from it/);
    const noPanel = await cli('pretrain', '--project', rgbProj, '--tiny', '--steps', '1', '--channels', 'embed');
    expect(noPanel.status).toBe(2);
    expect(noPanel.stderr).toMatch(/--channels applies to a project whose images are one multi-channel panel/);
    const adaptFive = await cli('adapt', '--project', proj, '--model', 'inflated5', '--steps', '1', '--channels', 'inflate');
    expect(adaptFive.status).toBe(2);
    expect(adaptFive.stderr).toMatch(/inflated5 takes 5 channels already \(a model of this panel: --channels embed continues it\)/);
    const adaptBad = await cli('adapt', '--project', proj, '--model', 'rgb', '--channels', 'per-channel');
    expect(adaptBad.status).toBe(2);
    expect(adaptBad.stderr).toMatch(/--channels must be embed or inflate/);
    const help = await cli('pretrain', '--help');
    expect(help.stdout + help.stderr).toMatch(/ {2}inflate: an RGB foundation model's patch embedding widened/);
  }, 60_000);

  it('embed trains a new 5-channel embedding; inflate starts from the RGB model; each says so', async () => {
    const embed = await pretrain('embed', '--channels', 'embed');
    expect(embed.status, embed.stderr).toBe(0);
    expect(embed.stderr).toMatch(/pretrain: channels: embed on the 5-channel panel \(DAPI, AF488, AF555, AF647, AF750\)/);
    expect(JSON.parse(embed.stdout).route).toMatchObject({ kind: 'scratch', channels: 'embed' });
    expect((await trainConfig('embed')).model).toMatchObject({ from: null, channels: 5 });

    const inflate = await pretrain('inflate', '--channels', 'inflate', '--from', 'rgb');
    expect(inflate.status, inflate.stderr).toBe(0);
    expect(inflate.stderr).toMatch(/pretrain: channels: inflate on the 5-channel panel/);
    expect(JSON.parse(inflate.stdout).route).toMatchObject({ kind: 'continued', model: 'rgb', channels: 'inflate' });
    expect((await trainConfig('inflate')).model).toMatchObject({ from: expect.stringMatching(/rgb/), channels: 5 });
  }, 180_000);
});
