// Loading a checkpoint of any supported layout into canonical tensors (core/model/params.ts names,
// PyTorch shapes). Detection and validation use the safetensors header only; tensors are then read one
// at a time. Every unknown, missing or mis-shaped key is reported in ONE error.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';
import type { ViTConfig } from '../config.js';
import { paramSpecs } from '../params.js';
import { detectLayout, layoutById, layouts } from './layouts/registry.js';
import type { KeyMap, Layout, LayoutId, ShapeMap } from './layouts/types.js';
import { SafetensorsFile, type WeightTensor } from './safetensors.js';

/** Prefixes stripped when every key has them (wrappers: DDP, HF base-model prefixes, training heads). */
const WRAPPER_PREFIXES = ['module.backbone.', 'backbone.', 'module.', 'model.', 'dinov2_with_registers.', 'dinov3_vit.', 'dinov2.'];
/** Training checkpoints hold student and teacher; the teacher's backbone is the model to keep. */
const TEACHER_PREFIX = 'teacher.backbone.';
/** At most this many names per category in the mismatch error. */
const LIST_MAX = 40;

export interface WeightsInfo {
  path: string;
  layout: LayoutId;
  layoutLabel: string;
  config: ViTConfig;
  /** The prefix stripped from stored keys ('' when none). */
  prefix: string;
  /** Stored keys that are not loaded: buffers, a classifier head, a training checkpoint's other parts. */
  skipped: string[];
  metadata: Record<string, string>;
}

export interface LoadedWeights extends WeightsInfo {
  /** Canonical name → tensor (PyTorch layout), in paramSpecs order. */
  tensors: Map<string, WeightTensor>;
}

export interface LoadOptions {
  /** A parsed config.json (HF or timm); by default the config.json beside the file is read when present. */
  configJson?: Record<string, unknown> | null;
  /** Force a layout instead of detecting one. */
  layout?: LayoutId;
}

/** The config.json in the same folder as `weightsPath`, parsed, or null when there is none. */
export async function readConfigBeside(weightsPath: string): Promise<Record<string, unknown> | null> {
  const path = join(dirname(weightsPath), 'config.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new DinoscopeError('CORRUPT', `${path}: not valid JSON (${(err as Error).message}).`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DinoscopeError('CORRUPT', `${path}: not a JSON object.`);
  return v as Record<string, unknown>;
}

function stripPrefix(names: string[]): { prefix: string; keep: string[]; skipped: string[] } {
  if (names.some((n) => n.startsWith(TEACHER_PREFIX))) {
    return {
      prefix: TEACHER_PREFIX,
      keep: names.filter((n) => n.startsWith(TEACHER_PREFIX)),
      skipped: names.filter((n) => !n.startsWith(TEACHER_PREFIX)),
    };
  }
  for (const p of WRAPPER_PREFIXES)
    if (names.length > 0 && names.every((n) => n.startsWith(p))) return { prefix: p, keep: names, skipped: [] };
  return { prefix: '', keep: names, skipped: [] };
}

const shapeStr = (s: readonly number[]): string => `[${s.join(', ')}]`;
const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

function listed(items: string[]): string {
  const head = items.slice(0, LIST_MAX).join(', ');
  return items.length > LIST_MAX ? `${head} and ${items.length - LIST_MAX} more` : head;
}

export function describeConfig(c: ViTConfig): string {
  return `${c.arch} ViT (width ${c.dim}, depth ${c.depth}, ${c.heads} heads, patch ${c.patchSize}, ${c.registers} registers, ${c.ffn})`;
}

/** Checks the stored keys against the layout's maps for `cfg`: throws one BAD_INPUT listing every problem. */
export function checkKeys(path: string, layout: Layout, cfg: ViTConfig, shapes: ShapeMap, maps: KeyMap[]): void {
  const used = new Set<string>();
  const missing: string[] = [];
  const misshaped: string[] = [];
  for (const m of maps) {
    for (const k of m.stored) {
      const got = shapes.get(k.name);
      if (!got) {
        if (!k.optional) missing.push(k.name);
      } else if (!sameShape(got, k.shape)) misshaped.push(`${k.name} ${shapeStr(got)} (expected ${shapeStr(k.shape)})`);
      used.add(k.name);
    }
  }
  const unknown = [...shapes.keys()].filter((k) => !used.has(k) && !layout.ignorable(k));
  if (missing.length + misshaped.length + unknown.length === 0) return;
  const parts: string[] = [];
  if (missing.length) parts.push(`${missing.length} missing: ${listed(missing)}`);
  if (misshaped.length) parts.push(`${misshaped.length} mis-shaped: ${listed(misshaped)}`);
  if (unknown.length) parts.push(`${unknown.length} unknown: ${listed(unknown)}`);
  throw new DinoscopeError('BAD_INPUT', `${path}: these ${layout.label} keys do not fit a ${describeConfig(cfg)} — ${parts.join('; ')}.`);
}

interface Opened {
  file: SafetensorsFile;
  info: WeightsInfo;
  shapes: Map<string, readonly number[]>;
  /** Normalised key → the name in the file. */
  storedName: Map<string, string>;
  layout: Layout;
  maps: KeyMap[];
}

async function openChecked(path: string, opts: LoadOptions): Promise<Opened> {
  const file = await SafetensorsFile.open(path);
  try {
    const configJson = opts.configJson === undefined ? await readConfigBeside(path) : opts.configJson;
    const { prefix, keep, skipped } = stripPrefix(file.names());
    // Stored name of each key after the prefix is stripped and DINOv2's FSDP block chunks
    // (blocks.{chunk}.{i}.… with a global i) are flattened to blocks.{i}.….
    const storedName = new Map<string, string>();
    for (const n of keep) storedName.set(n.slice(prefix.length).replace(/^blocks\.\d+\.(\d+)\./, 'blocks.$1.'), n);
    const shapes = new Map<string, readonly number[]>([...storedName].map(([k, n]) => [k, file.info(n).shape]));
    const layout = opts.layout ? layoutById(opts.layout) : detectLayout(shapes, configJson);
    if (!layout) {
      const sample = [...shapes.keys()].slice(0, 8).join(', ');
      throw new DinoscopeError(
        'UNSUPPORTED',
        `${path}: the keys (${sample}${shapes.size > 8 ? ', …' : ''}) match no known ViT layout (${layouts.map((l) => l.label).join('; ')}).`,
      );
    }
    const config = layout.inferConfig(shapes, configJson);
    const maps = layout.keyMaps(config, shapes);
    checkKeys(path, layout, config, shapes, maps);
    const ignored = [...shapes.keys()].filter((k) => layout.ignorable(k)).map((k) => storedName.get(k) ?? k);
    const info: WeightsInfo = {
      path,
      layout: layout.id,
      layoutLabel: layout.label,
      config,
      prefix,
      skipped: [...skipped, ...ignored],
      metadata: { ...file.metadata },
    };
    return { file, info, shapes, storedName, layout, maps };
  } catch (err) {
    await file.close();
    throw err;
  }
}

/** Layout, config and key check from the header alone (no tensor data is read). */
export async function inspectWeights(path: string, opts: LoadOptions = {}): Promise<WeightsInfo> {
  const o = await openChecked(path, opts);
  await o.file.close();
  return o.info;
}

/** Reads the checkpoint into canonical tensors. */
export async function loadWeights(path: string, opts: LoadOptions = {}): Promise<LoadedWeights> {
  const o = await openChecked(path, opts);
  try {
    const byName = new Map<string, WeightTensor>();
    for (const m of o.maps) {
      if (m.canonical.length === 0) continue;
      const stored: WeightTensor[] = [];
      for (const k of m.stored) stored.push(await o.file.readFloat32(o.storedName.get(k.name) ?? k.name));
      const out = m.toCanonical(stored);
      m.canonical.forEach((name, i) => byName.set(name, out[i]));
    }
    const tensors = new Map<string, WeightTensor>();
    for (const s of paramSpecs(o.info.config)) {
      const t = byName.get(s.name);
      if (!t || !sameShape(t.shape, s.shape))
        throw new DinoscopeError(
          'INTERNAL',
          `${path}: the ${o.layout.label} mapping produced ${t ? shapeStr(t.shape) : 'nothing'} for ${s.name} ${shapeStr(s.shape)}.`,
        );
      tensors.set(s.name, t);
    }
    return { ...o.info, tensors };
  } finally {
    await o.file.close();
  }
}
