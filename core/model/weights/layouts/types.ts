// What every checkpoint key layout provides: recognise its keys, infer a ViTConfig from tensor shapes
// (+ config.json when one is present), and map its tensors to and from the canonical names of
// core/model/params.ts (the original facebookresearch layout, PyTorch shapes). A mapping is declared once
// and used in both directions, so import and export cannot drift apart.
import type { ViTConfig } from '../../config.js';
import type { WeightTensor } from '../safetensors.js';

export type LayoutId = 'original' | 'hf-dinov2' | 'hf-dinov3' | 'timm';

/** One stored key with the shape the layout expects for it. */
export interface StoredKey {
  name: string;
  shape: number[];
  /** May be absent on import (e.g. HF's empty register_tokens [1, 0, D] of a model without registers). */
  optional?: boolean;
}

/**
 * Canonical tensors ⇄ stored tensors. `canonical` and `stored` fix the order of the arrays the two
 * functions take and return. Most entries are renames (one each side, perhaps a reshape); fused q|k|v and
 * timm's position-embedding folds involve several.
 */
export interface KeyMap {
  canonical: string[];
  stored: StoredKey[];
  toCanonical(stored: WeightTensor[]): WeightTensor[];
  fromCanonical(canonical: WeightTensor[]): WeightTensor[];
}

/** Shapes of every stored tensor, by name (after any prefix was stripped). */
export type ShapeMap = ReadonlyMap<string, readonly number[]>;

export interface Layout {
  id: LayoutId;
  /** Shown to the user: "Hugging Face Dinov2WithRegistersModel". */
  label: string;
  /** Whether these keys look like this layout (checked in registry order). */
  detect(shapes: ShapeMap, configJson: Record<string, unknown> | null): boolean;
  /** The architecture from shapes and config.json; BAD_INPUT/CORRUPT naming what cannot be inferred. */
  inferConfig(shapes: ShapeMap, configJson: Record<string, unknown> | null): ViTConfig;
  /** The maps for `cfg`; `shapes` are the stored shapes on import (null on export, where the layout picks its default form). */
  keyMaps(cfg: ViTConfig, shapes: ShapeMap | null): KeyMap[];
  /** Stored keys that carry no parameter and are skipped on import (buffers such as rope periods). */
  ignorable(name: string): boolean;
}
