// dinoscope.json: what we know about a model folder beside its model.safetensors and config.json.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelInfo } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { type ViTConfig, VIT_SIZES, validateConfig } from '../config.js';
import { paramCount } from '../params.js';

export const MANIFEST = 'dinoscope.json';
export const WEIGHTS = 'model.safetensors';
export const CONFIG = 'config.json';
const SCHEMA = 'dinoscope-model';
const VERSION = 1;

export interface ModelManifest {
  schema: typeof SCHEMA;
  version: typeof VERSION;
  name: string;
  arch: ViTConfig['arch'];
  /** Catalogue id, URL or file path. */
  source: string;
  licence: string;
  sha256: string;
  bytes: number;
  created: string;
  /** Stored key layout of model.safetensors. */
  layout: string;
  config: ViTConfig;
}

export function newManifest(fields: Omit<ModelManifest, 'schema' | 'version' | 'arch' | 'created'>): ModelManifest {
  return { schema: SCHEMA, version: VERSION, arch: fields.config.arch, created: new Date().toISOString(), ...fields };
}

export async function writeManifest(dir: string, m: ModelManifest): Promise<void> {
  await writeFileAtomic(join(dir, MANIFEST), `${JSON.stringify(m, null, 2)}\n`);
}

/** The manifest of a model folder, or null when it has none; CORRUPT naming the file when it is damaged. */
export async function readManifest(dir: string): Promise<ModelManifest | null> {
  const file = join(dir, MANIFEST);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  const bad = (what: string): never => {
    throw new DinoscopeError('CORRUPT', `${file}: ${what}.`);
  };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return bad(`not valid JSON (${(err as Error).message})`);
  }
  if (typeof v !== 'object' || v === null) return bad('not a JSON object');
  const m = v as Record<string, unknown>;
  if (m.schema !== SCHEMA) bad(`"schema" must be "${SCHEMA}"`);
  if (m.version !== VERSION)
    throw new DinoscopeError(
      'UNSUPPORTED',
      `${file}: model manifest version ${String(m.version)} is not supported (this Dinoscope reads version ${VERSION}).`,
    );
  for (const k of ['name', 'source', 'licence', 'sha256', 'created', 'layout'] as const)
    if (typeof m[k] !== 'string') bad(`"${k}" must be a string`);
  if (typeof m.bytes !== 'number') bad('"bytes" must be a number');
  try {
    validateConfig(m.config as ViTConfig);
  } catch (err) {
    bad(`"config" is not a valid ViT config (${(err as Error).message})`);
  }
  return v as ModelManifest;
}

/** The named size whose width, depth and heads the config has, else 'custom'. */
export function sizeName(c: ViTConfig): string {
  for (const [name, s] of Object.entries(VIT_SIZES)) if (s.dim === c.dim && s.depth === c.depth && s.heads === c.heads) return name;
  return 'custom';
}

export function modelInfo(id: string, path: string, location: 'project' | 'user', m: ModelManifest): ModelInfo {
  const c = m.config;
  return {
    id,
    name: m.name,
    arch: c.arch,
    size: sizeName(c),
    dim: c.dim,
    depth: c.depth,
    heads: c.heads,
    patchSize: c.patchSize,
    registers: c.registers,
    inChans: c.inChans,
    ffn: c.ffn,
    params: paramCount(c),
    layout: m.layout,
    source: m.source,
    licence: m.licence,
    sha256: m.sha256,
    bytes: m.bytes,
    created: m.created,
    location,
    path,
  };
}
