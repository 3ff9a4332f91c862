// OME-Zarr images (NGFF 0.4 on Zarr v2, 0.5 on Zarr v3): a folder is one image. Its multiscales are the
// levels (each an array of the axes t, c, z, y, x, the first t and z read), its chunks in y and x the
// tiles, decoded by zarrita (raw, zlib, gzip, zstd, blosc, and the other codecs it knows) from a
// size-checked folder store (zarr/store.ts); omero channel metadata becomes ChannelInfo. A bioformats2raw
// layout (the image in the group's "0") is opened at that image.
import { join } from 'node:path';
// zarrita is ESM-only: loaded by a dynamic import() where a folder is opened, which the CommonJS bundles
// (Electron's service process) keep as import(); a static import becomes a require() that Node refuses.
import type * as zarr from 'zarrita';
import type { ChannelInfo, ChannelSampleType, ImageMetadata } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import type { ImageReader, OpenOptions, ReaderFormat } from '../reader.js';
import { ChannelReader, type ChannelTileSource, planLevels, type StoredChannelLevel } from '../channels/channel-reader.js';
import { MAX_TILE_PIXELS } from '../tiff/level.js';
import { boundedVendor, plausibleMpp } from '../vendor.js';
import { type ChunkCompressor, FolderStore, MAX_CHUNK_BYTES } from '../zarr/store.js';
import { omeAttributes, parseOmeZarr } from '../zarr/ome-meta.js';
export { isZarrFolder } from '../zarr/folder.js';
import { MAX_CHANNELS, nominalRange, observeFloatRanges } from './ome-channels.js';
import { DEFAULT_MAX_PIXELS } from './sharp-image.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const sampleTypes: Record<string, ChannelSampleType> = { uint8: 'uint8', uint16: 'uint16', float32: 'float32' };

async function readJson(store: FolderStore, key: `/${string}`, path: string): Promise<Json | null> {
  const bytes = await store.get(key);
  if (!bytes) return null;
  try {
    const v: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (!isObject(v)) throw new Error('not an object');
    return v;
  } catch (err) {
    throw new DinoscopeError('CORRUPT', `${join(path, key)}: not valid JSON (${err instanceof Error ? err.message : String(err)}).`);
  }
}

/** The attributes of the group at `key` and its Zarr version, or null when it is no Zarr group. */
async function groupAttributes(store: FolderStore, key: string, path: string): Promise<{ attrs: Json; zarrFormat: 2 | 3 } | null> {
  const v3 = await readJson(store, `${key}/zarr.json` as `/${string}`, path);
  if (v3) return { attrs: isObject(v3.attributes) ? v3.attributes : {}, zarrFormat: 3 };
  const v2 = await readJson(store, `${key}/.zattrs` as `/${string}`, path);
  if (v2) return { attrs: v2, zarrFormat: 2 };
  return null;
}

/** The compressor named by an array's metadata, for the store's size check. */
function compressorOf(meta: Json): ChunkCompressor {
  const names: string[] = [];
  if (isObject(meta.compressor) && typeof meta.compressor.id === 'string') names.push(meta.compressor.id);
  if (Array.isArray(meta.codecs)) for (const c of meta.codecs) if (isObject(c) && typeof c.name === 'string') names.push(c.name);
  if (names.includes('blosc')) return 'blosc';
  if (names.includes('zstd')) return 'zstd';
  return 'other';
}

/** Codecs Dinoscope decodes chunks with (zarrita's registry) besides sharding, which zarrita does itself. */
const SHARDING = 'sharding_indexed';

/** The names of the codecs an array's chunks go through, as zarrita names them (v2: numcodecs.<id>). */
function codecNames(meta: Json): string[] {
  const names: string[] = [];
  const v2 = (c: unknown): void => {
    if (isObject(c) && typeof c.id === 'string' && !/^(numcodecs\.)?fixedscaleoffset$/.test(c.id)) names.push(`numcodecs.${c.id}`);
  };
  if (Array.isArray(meta.filters)) meta.filters.forEach(v2);
  v2(meta.compressor);
  const v3 = (list: unknown): void => {
    if (!Array.isArray(list)) return;
    for (const c of list)
      if (isObject(c) && typeof c.name === 'string') {
        names.push(c.name);
        if (c.name === SHARDING && isObject(c.configuration)) v3(c.configuration.codecs);
      }
  };
  v3(meta.codecs);
  return names;
}

interface Level {
  array: zarr.Array<zarr.DataType, FolderStore>;
  stored: StoredChannelLevel;
}

class ZarrChannelSource implements ChannelTileSource {
  constructor(
    private readonly path: string,
    private readonly axes: string[],
    private readonly levelArrays: Level[],
    readonly channels: number,
  ) {}

  get levels(): StoredChannelLevel[] {
    return this.levelArrays.map((l) => l.stored);
  }

  async readTile(level: number, tx: number, ty: number): Promise<Float32Array | null> {
    const { array, stored } = this.levelArrays[level];
    const { tileWidth: tw, tileHeight: th } = stored;
    const cAxis = this.axes.indexOf('c');
    const yAxis = this.axes.length - 2;
    const xAxis = this.axes.length - 1;
    const perChunk = cAxis >= 0 ? array.chunks[cAxis] : 1;
    const out = new Float32Array(this.channels * tw * th);
    for (let j = 0; j * perChunk < this.channels; j++) {
      const coords = this.axes.map((a) => (a === 'y' ? ty : a === 'x' ? tx : a === 'c' ? j : 0));
      const what = `chunk ${coords.join(',')} of level ${level}`;
      let chunk: zarr.Chunk<zarr.DataType>;
      try {
        chunk = await array.getChunk(coords);
      } catch (err) {
        if (err instanceof DinoscopeError) throw err;
        const cause = (err as { cause?: unknown }).cause;
        const msg = (cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err)).split('\n')[0];
        throw new DinoscopeError('CORRUPT', `${this.path}: ${what} cannot be decoded (${msg}); the file may be truncated or damaged.`);
      }
      const data = chunk.data as ArrayLike<number>;
      const expected = array.chunks.reduce((a, b) => a * b, 1);
      if (data.length !== expected)
        throw new DinoscopeError(
          'CORRUPT',
          `${this.path}: ${what} holds ${data.length} samples, not the ${expected} of a chunk (truncated?).`,
        );
      const stride = chunk.stride;
      for (let ci = 0; ci < perChunk && j * perChunk + ci < this.channels; ci++) {
        const c = j * perChunk + ci;
        const base = cAxis >= 0 ? ci * stride[cAxis] : 0;
        for (let y = 0; y < th; y++) {
          const row = base + y * stride[yAxis];
          const o = c * tw * th + y * tw;
          for (let x = 0; x < tw; x++) out[o + x] = data[row + x * stride[xAxis]];
        }
      }
    }
    return out;
  }

  async close(): Promise<void> {}
}

async function openOmeZarr(path: string, options: OpenOptions = {}): Promise<ImageReader> {
  const store = new FolderStore(path);
  let group = '';
  let found = await groupAttributes(store, group, path);
  if (!found) throw new DinoscopeError('UNSUPPORTED', `${path}: a folder without Zarr metadata (.zattrs or zarr.json) is not an image.`);
  if (!omeAttributes(found.attrs) && (found.attrs['bioformats2raw.layout'] !== undefined || isObject(found.attrs.ome))) {
    group = '/0'; // bioformats2raw: the first image is the group "0"
    found = (await groupAttributes(store, group, path)) ?? found;
  }
  const image = parseOmeZarr(path, found.attrs);
  const { axes } = image;
  const cAxis = axes.indexOf('c');
  const levels: Level[] = [];
  let channels = 0;
  let sampleType: ChannelSampleType = 'uint16';
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const { root, open, registry } = await import('zarrita');
  for (const [k, p] of image.paths.entries()) {
    const key = `${group}/${p}`.replace(/\/+$/, '') as `/${string}`;
    const raw = await readJson(store, `${key}/${found.zarrFormat === 3 ? 'zarr.json' : '.zarray'}` as `/${string}`, path);
    if (!raw) throw new DinoscopeError('CORRUPT', `${path}: level ${k} ("${p}") has no array metadata (missing or deleted?).`);
    let array: zarr.Array<zarr.DataType, FolderStore>;
    try {
      const loc = root(store).resolve(key);
      array = found.zarrFormat === 3 ? await open.v3(loc, { kind: 'array' }) : await open.v2(loc, { kind: 'array', attrs: false });
    } catch (err) {
      if (err instanceof DinoscopeError) throw err;
      throw new DinoscopeError(
        'CORRUPT',
        `${path}: level ${k} ("${p}") has array metadata Dinoscope cannot read (${err instanceof Error ? err.message : String(err)}).`,
      );
    }
    // A codec zarrita does not know fails only when a chunk is decoded: refuse the image now, by name.
    const unknown = codecNames(raw).find((n) => n !== SHARDING && !registry.has(n));
    if (unknown !== undefined)
      throw new DinoscopeError(
        'UNSUPPORTED',
        `${path}: level ${k} ("${p}") is compressed with ${JSON.stringify(unknown.replace(/^numcodecs\./, '').slice(0, 64))}, which Dinoscope does not decode (it reads raw, zlib, gzip, zstd, lz4 and blosc chunks); convert it, e.g. with ome-zarr-py.`,
      );
    const { shape, chunks } = array;
    const bad = (why: string): DinoscopeError => new DinoscopeError('CORRUPT', `${path}: level ${k} ("${p}") ${why}.`);
    if (shape.length !== axes.length || chunks.length !== axes.length)
      throw bad(`has ${shape.length} dimensions where the axes name ${axes.length} (${axes.join(', ')})`);
    if (![...shape, ...chunks].every((v) => Number.isSafeInteger(v) && v > 0))
      throw bad(`has an impossible shape ${JSON.stringify(shape)} or chunks ${JSON.stringify(chunks)}`);
    const type = sampleTypes[array.dtype];
    if (!type)
      throw new DinoscopeError(
        'UNSUPPORTED',
        `${path}: its samples are ${array.dtype}; Dinoscope reads uint8, uint16 and float32 OME-Zarr images (convert it, e.g. with ome-zarr-py or bioformats2raw).`,
      );
    const width = shape[axes.length - 1];
    const height = shape[axes.length - 2];
    const C = cAxis >= 0 ? shape[cAxis] : 1;
    const tw = chunks[axes.length - 1];
    const th = chunks[axes.length - 2];
    if (k === 0) {
      if (width * height > maxPixels)
        throw new DinoscopeError('TOO_LARGE', `${path}: declares ${width} × ${height} pixels, more than the ${maxPixels} allowed.`);
      if (C > MAX_CHANNELS)
        throw new DinoscopeError('TOO_LARGE', `${path}: has ${C} channels, more than the ${MAX_CHANNELS} Dinoscope reads.`);
      channels = C;
      sampleType = type;
    } else {
      if (C !== channels) throw bad(`has ${C} channels where level 0 has ${channels}`);
      if (type !== sampleType) throw bad(`holds ${array.dtype} where level 0 holds ${sampleType}`);
      if (width >= levels[k - 1].stored.width) throw bad(`is ${width} px wide, not smaller than the level before it`);
    }
    if (tw * th > MAX_TILE_PIXELS)
      throw new DinoscopeError(
        'TOO_LARGE',
        `${path}: level ${k} has ${tw} × ${th} chunks, more than the ${MAX_TILE_PIXELS} pixels Dinoscope decodes at once.`,
      );
    const chunkBytes = chunks.reduce((a, b) => a * b, 1) * (type === 'uint8' ? 1 : type === 'uint16' ? 2 : 4);
    if (chunkBytes > MAX_CHUNK_BYTES)
      throw new DinoscopeError('TOO_LARGE', `${path}: level ${k}'s chunks hold ${chunkBytes} bytes, more than ${MAX_CHUNK_BYTES}.`);
    store.expect(key, compressorOf(raw), chunkBytes);
    levels.push({ array, stored: { width, height, tileWidth: tw, tileHeight: th } });
  }
  const infos: ChannelInfo[] = Array.from({ length: channels }, (_, i) => {
    const o = image.channels[i] ?? {};
    return {
      name: o.name ?? `Channel ${i + 1}`,
      color: o.color ?? null,
      emissionNm: null,
      sampleType,
      range: [...(sampleType === 'float32' && o.window ? o.window : nominalRange[sampleType])] as [number, number],
      ...(o.window ? { window: o.window } : {}),
      ...(o.active !== undefined ? { active: o.active } : {}),
    };
  });
  const checked = plausibleMpp(image.mpp, 'OME-Zarr scale');
  const vendor: Record<string, string> = {
    'zarr.format': String(found.zarrFormat),
    'ome-zarr.version': image.version,
    'ome-zarr.axes': axes.join(','),
  };
  if (image.name) vendor['ome-zarr.name'] = image.name;
  const plan = ChannelReader.planOf(levels.map((l) => l.stored));
  const meta: ImageMetadata = {
    format: 'ome-zarr',
    width: levels[0].stored.width,
    height: levels[0].stored.height,
    levels: planLevels(plan),
    mpp: checked.mpp,
    tileWidth: levels[0].stored.tileWidth,
    tileHeight: levels[0].stored.tileHeight,
    vendor: boundedVendor(vendor),
    ...(checked.warning ? { warnings: [checked.warning] } : {}),
    channels: infos,
  };
  const reader = new ChannelReader(path, meta, new ZarrChannelSource(path, axes, levels, channels));
  await observeFloatRanges(reader);
  return reader;
}

export const omeZarrFormat: ReaderFormat = {
  id: 'ome-zarr',
  description: 'OME-Zarr (NGFF 0.4 on Zarr v2, 0.5 on Zarr v3) folders',
  sniff: () => false, // a folder: told by isZarrFolder, not by bytes
  open: openOmeZarr,
};
