// timm VisionTransformer (timm/models/vision_transformer.py), as used by vit_*_reg4_dinov2 and pathology
// models (UNI, UNI2-h, Virchow2, H-optimus): cls_token, reg_token, pos_embed, patch_embed.proj, blocks.{i}.
// {norm1, attn.qkv, attn.proj, ls1.gamma, norm2, mlp.fc1, mlp.fc2, ls2.gamma}, norm. SwiGLUPacked keeps the
// fused [x1 | x2] projection in mlp.fc1 and computes silu(x1) · x2 — DINOv2's w12/w3.
//
// timm's pos_embed has three forms, told apart by its length L for an M × M grid and R registers:
//   L = M²          no_embed_class (the *_dinov2 models): cls_token already holds pos_embed[0] folded in,
//                   so canonical cls_token = cls_token and canonical pos_embed[0] = 0 (exactly equivalent);
//   L = 1 + M²      the class token has a position, registers none: a plain rename;
//   L = 1 + R + M²  registers have positions too: canonical register_tokens = reg_token + their positions
//                   (canonical registers get no position embedding, so this is exactly equivalent).
// Export writes the no_embed_class form. A classifier head (head.weight/bias) is not part of the backbone
// and is skipped.
import { DinoscopeError } from '../../../common/errors.js';
import type { ViTConfig } from '../../config.js';
import { paramSpecs } from '../../params.js';
import type { WeightTensor } from '../safetensors.js';
import { configFromFacts, isSquare, need, num } from './infer.js';
import { blockIndex, canonicalOnly, countBlocks, rename } from './maps.js';
import type { KeyMap, Layout, ShapeMap } from './types.js';

type PosForm = 'no-embed-class' | 'cls' | 'cls-reg';

function posForm(L: number, R: number): { form: PosForm; M: number } | null {
  if (isSquare(L)) return { form: 'no-embed-class', M: Math.sqrt(L) };
  if (isSquare(L - 1)) return { form: 'cls', M: Math.sqrt(L - 1) };
  if (R > 0 && isSquare(L - 1 - R)) return { form: 'cls-reg', M: Math.sqrt(L - 1 - R) };
  return null;
}

const blockRenames: Record<string, string> = {
  'mlp.w12.weight': 'mlp.fc1.weight',
  'mlp.w12.bias': 'mlp.fc1.bias',
  'mlp.w3.weight': 'mlp.fc2.weight',
  'mlp.w3.bias': 'mlp.fc2.bias',
};

/** Rows [from, to) of a (1, L, D) tensor as a new (1, to − from, D) tensor. */
function rows(t: WeightTensor, from: number, to: number): WeightTensor {
  const D = t.shape[2];
  return { shape: [1, to - from, D], data: t.data.slice(from * D, to * D) };
}

function cat(parts: WeightTensor[]): WeightTensor {
  const D = parts[0].shape[2];
  const n = parts.reduce((s, p) => s + p.shape[1], 0);
  const data = new Float32Array(n * D);
  let at = 0;
  for (const p of parts) {
    data.set(p.data, at);
    at += p.data.length;
  }
  return { shape: [1, n, D], data };
}

const zerosRows = (n: number, D: number): WeightTensor => ({ shape: [1, n, D], data: new Float32Array(n * D) });

/** cls_token, (register_tokens), pos_embed ⇄ cls_token, (reg_token), pos_embed for one pos-embed form. */
function tokenMap(cfg: ViTConfig, form: PosForm): KeyMap {
  const D = cfg.dim;
  const R = cfg.registers;
  const MM = (cfg.posEmbed?.gridSize ?? 0) ** 2;
  const regs = R > 0;
  const L = form === 'no-embed-class' ? MM : form === 'cls' ? 1 + MM : 1 + R + MM;
  return {
    canonical: regs ? ['cls_token', 'register_tokens', 'pos_embed'] : ['cls_token', 'pos_embed'],
    stored: [
      { name: 'cls_token', shape: [1, 1, D] },
      ...(regs ? [{ name: 'reg_token', shape: [1, R, D] }] : []),
      { name: 'pos_embed', shape: [1, L, D] },
    ],
    toCanonical(stored) {
      const [cls, reg, pos] = regs ? stored : [stored[0], null, stored[1]];
      let canonPos: WeightTensor;
      let canonReg = reg;
      if (form === 'no-embed-class')
        canonPos = cat([zerosRows(1, D), pos]); // (1, 1 + M², D)
      else if (form === 'cls') canonPos = pos;
      else {
        // Registers' positions fold into the register tokens.
        const regPos = rows(pos, 1, 1 + R);
        const r = reg as WeightTensor;
        canonReg = { shape: [...r.shape], data: r.data.map((v, i) => v + regPos.data[i]) };
        canonPos = cat([rows(pos, 0, 1), rows(pos, 1 + R, L)]);
      }
      return canonReg ? [cls, canonReg, canonPos] : [cls, canonPos];
    },
    fromCanonical(canon) {
      const [cls, reg, pos] = regs ? canon : [canon[0], null, canon[1]];
      let out: WeightTensor[];
      if (form === 'no-embed-class') {
        // Fold the class position into the class token (timm adds no position to it).
        const pos0 = rows(pos, 0, 1);
        out = [{ shape: [1, 1, D], data: cls.data.map((v, i) => v + pos0.data[i]) }, rows(pos, 1, 1 + MM)];
      } else if (form === 'cls') out = [cls, pos];
      else out = [cls, cat([rows(pos, 0, 1), zerosRows(R, D), rows(pos, 1, 1 + MM)])];
      if (reg) out.splice(1, 0, reg);
      return out;
    },
  };
}

function detectForm(shapes: ShapeMap | null, R: number): PosForm {
  const pos = shapes?.get('pos_embed');
  if (!pos) return 'no-embed-class';
  const f = posForm(pos[1], R);
  if (!f)
    throw new DinoscopeError(
      'BAD_INPUT',
      `timm checkpoint: pos_embed holds ${pos[1]} positions, which fits no square grid with ${R} registers.`,
    );
  return f.form;
}

export const timmLayout: Layout = {
  id: 'timm',
  label: 'timm VisionTransformer',
  detect: (shapes) =>
    shapes.has('cls_token') && shapes.has('pos_embed') && shapes.has('blocks.0.attn.qkv.weight') && !shapes.has('mask_token'),
  inferConfig(shapes, json) {
    const source = 'timm checkpoint';
    const args = (json?.model_args && typeof json.model_args === 'object' ? json.model_args : json) as Record<string, unknown> | null;
    const [D, C, p] = need(shapes, 'patch_embed.proj.weight', 4, source);
    const R = shapes.get('reg_token')?.[1] ?? 0;
    const L = need(shapes, 'pos_embed', 3, source)[1];
    const f = posForm(L, R);
    if (!f) detectForm(shapes, R);
    const fc1 = shapes.get('blocks.0.mlp.fc1.weight')?.[0] ?? 0;
    const mlpLayer = String(args?.mlp_layer ?? '');
    // SwiGLUPacked: fc2 reads half of fc1's rows.
    const swiglu = (shapes.get('blocks.0.mlp.fc2.weight')?.[1] ?? fc1) * 2 === fc1 || /swiglu/i.test(mlpLayer);
    return configFromFacts(
      {
        arch: 'dinov2',
        dim: D,
        depth: countBlocks(shapes.keys(), 'blocks.'),
        heads: num(args, 'num_heads'),
        patchSize: p,
        inChans: C,
        registers: R,
        ffn: swiglu ? 'swiglu' : 'mlp',
        hidden: swiglu ? fc1 / 2 : fc1,
        qkvBias: shapes.has('blocks.0.attn.qkv.bias'),
        maskKBias: false,
        layerScale: shapes.has('blocks.0.ls1.gamma'),
        eps: num(args, 'layer_norm_eps') ?? 1e-6, // timm ViTs use LayerNorm(eps=1e-6)
        // timm resamples with F.interpolate(size=…, mode='bicubic', antialias=True).
        pos: { gridSize: f?.M ?? 0, variant: 'size-antialias' },
      },
      source,
    );
  },
  keyMaps(cfg, shapes) {
    if (cfg.arch !== 'dinov2')
      throw new DinoscopeError('UNSUPPORTED', 'timm layout: only DINOv2-style models (learned position embedding) have a timm form.');
    const maps: KeyMap[] = [tokenMap(cfg, detectForm(shapes, cfg.registers))];
    for (const s of paramSpecs(cfg)) {
      if (s.name === 'cls_token' || s.name === 'register_tokens' || s.name === 'pos_embed') continue;
      const b = blockIndex(s.name, 'blocks.');
      if (b) maps.push(rename(s.name, `blocks.${b[0]}.${blockRenames[b[1]] ?? b[1]}`, s.shape));
      else if (s.name === 'mask_token')
        maps.push(canonicalOnly(s.name, s.shape, 0)); // timm has none: its init, zeros
      else maps.push(rename(s.name, s.name, s.shape));
    }
    return maps;
  },
  ignorable: (name) => name === 'head.weight' || name === 'head.bias',
};
