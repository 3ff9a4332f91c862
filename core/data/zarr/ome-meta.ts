// OME-Zarr (NGFF) image metadata, 0.4 (Zarr v2: .zattrs) and 0.5 (Zarr v3: zarr.json, under "ome"):
// multiscales → the levels' array paths, the axes (t, c, z, y, x; y and x last), the pixel size from the
// first level's scale transform, and omero channel metadata (label, color, window, active). Everything is
// checked, so a document missing what an image needs is refused in plain words, not half-read.
import type { ChannelInfo } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';

export interface OmeZarrImage {
  version: string;
  /** Paths of the levels' arrays relative to the image group, largest first. */
  paths: string[];
  /** Axis names in array order, e.g. ["t", "c", "z", "y", "x"]. */
  axes: string[];
  mpp: number | null;
  /** omero channel metadata, by index (sample type and range are filled in from the arrays). */
  channels: Partial<ChannelInfo>[];
  name: string | null;
}

const micronsPer: Record<string, number> = {
  micrometer: 1,
  nanometer: 1e-3,
  millimeter: 1e3,
  centimeter: 1e4,
  meter: 1e6,
  angstrom: 1e-4,
  picometer: 1e-6,
};

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The multiscales attributes of a group's attributes (v3 keeps them under "ome"). */
export function omeAttributes(attrs: Json): Json | null {
  if (isObject(attrs.ome) && Array.isArray(attrs.ome.multiscales)) return attrs.ome;
  if (Array.isArray(attrs.multiscales)) return attrs;
  return null;
}

function hexColor(v: unknown): [number, number, number] | null {
  if (typeof v !== 'string' || !/^[0-9a-fA-F]{6}$/.test(v)) return null;
  const n = Number.parseInt(v, 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export function parseOmeZarr(path: string, attrs: Json): OmeZarrImage {
  const bad = (why: string): DinoscopeError => new DinoscopeError('CORRUPT', `${path}: not a readable OME-Zarr image (${why}).`);
  const ome = omeAttributes(attrs);
  if (!ome) throw bad('its attributes have no "multiscales"');
  const ms = (ome.multiscales as unknown[])[0];
  if (!isObject(ms)) throw bad('"multiscales" is empty');
  const version = String(ms.version ?? ome.version ?? '');
  const rawAxes = Array.isArray(ms.axes) ? ms.axes : ['t', 'c', 'z', 'y', 'x']; // 0.1–0.2: always 5-D
  const axes = rawAxes.map((a) => (isObject(a) ? String(a.name ?? '') : String(a)).toLowerCase());
  const units = rawAxes.map((a) => (isObject(a) && typeof a.unit === 'string' ? a.unit : null));
  if (axes.length < 2 || axes.length > 5 || axes[axes.length - 2] !== 'y' || axes[axes.length - 1] !== 'x')
    throw bad(`its axes are ${JSON.stringify(axes)}; Dinoscope reads images whose last two axes are y and x`);
  for (const a of axes.slice(0, -2))
    if (!['t', 'c', 'z'].includes(a) || axes.indexOf(a) !== axes.lastIndexOf(a))
      throw bad(`axis "${a}" is not one of t, c, z (or repeats)`);
  const datasets = Array.isArray(ms.datasets) ? ms.datasets : [];
  if (datasets.length === 0 || datasets.length > 64) throw bad(`it lists ${datasets.length} resolution levels`);
  const paths = datasets.map((d, i) => {
    if (!isObject(d) || typeof d.path !== 'string' || d.path === '') throw bad(`level ${i} has no usable path`);
    if (d.path.split('/').includes('..'))
      throw bad(`level ${i}'s path ${JSON.stringify(d.path.slice(0, 256))} leads outside the image's folder`);
    return d.path;
  });
  // Pixel size: level 0's scale for x (times a multiscale-wide scale, where stated), in the x axis's unit.
  let mpp: number | null = null;
  const scaleOf = (transforms: unknown): number[] | null => {
    if (!Array.isArray(transforms)) return null;
    const s = transforms.find((t) => isObject(t) && t.type === 'scale' && Array.isArray(t.scale));
    return s ? (s as { scale: unknown[] }).scale.map(Number) : null;
  };
  const first = isObject(datasets[0]) ? scaleOf(datasets[0].coordinateTransformations) : null;
  const global = scaleOf(ms.coordinateTransformations);
  const unit = units[units.length - 1];
  if (first && first.length === axes.length && unit && micronsPer[unit] !== undefined) {
    const v = first[axes.length - 1] * (global?.[axes.length - 1] ?? 1) * micronsPer[unit];
    if (Number.isFinite(v) && v > 0) mpp = v;
  }
  const omero = isObject(ome.omero) ? ome.omero : isObject(attrs.omero) ? attrs.omero : null;
  const list = omero && Array.isArray(omero.channels) ? omero.channels.slice(0, 64) : [];
  const channels = list.map((ch): Partial<ChannelInfo> => {
    if (!isObject(ch)) return {};
    const out: Partial<ChannelInfo> = {};
    if (typeof ch.label === 'string' && ch.label.trim()) out.name = ch.label.trim().slice(0, 128);
    out.color = hexColor(ch.color);
    const w = ch.window;
    if (isObject(w)) {
      const start = Number(w.start);
      const end = Number(w.end);
      if (Number.isFinite(start) && Number.isFinite(end) && end > start) out.window = [start, end];
    }
    if (typeof ch.active === 'boolean') out.active = ch.active;
    return out;
  });
  const name = typeof ms.name === 'string' ? ms.name.slice(0, 256) : null;
  return { version, paths, axes, mpp, channels, name };
}
