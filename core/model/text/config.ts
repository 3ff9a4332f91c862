// dino.txt (DINOv3 paper §"dino.txt"; dinov3/eval/text): a text tower and a vision head trained on top
// of a frozen DINOv3 backbone so that text and image regions share one embedding space.
//
//   text:   token ids (B, C) → embedding + positions → causal pre-norm blocks → LayerNorm
//           → Linear (no bias) to E → the token at the <|endoftext|> position (argmax of the ids)   (B, E)
//   vision: the backbone's final normed [CLS, registers, patches] (B, T, D) → head blocks (pre-norm,
//           SwiGLU aligned to 64, LayerScale, no qkv bias) → LayerNorm → Linear (no bias) to E/2
//           → image (B, E) = [CLS | mean of patches], patches (B, N, E/2)
// A patch's score for a text is the cosine between its patch embedding and the text embedding's second
// half (the part trained against the patch mean), as in the official segmentation notebook.
//
// The released model (dinov3_vitl16_dinotxt_tet1280d20h24l): E 2048, text 1280 wide, 24 blocks, 20
// heads, context 77, vocabulary 49,408; vision head 2 blocks on ViT-L/16 (1024 wide, 16 heads).
import { DinoscopeError } from '../../common/errors.js';

export interface DinoTxtConfig {
  /** E: the joint embedding width (text embedding; image = [CLS | patch mean], each E/2). */
  embedDim: number;
  /** C: token positions (77 for the released model). */
  contextLength: number;
  vocabSize: number;
  textDim: number;
  textHeads: number;
  textDepth: number;
  textFfnRatio: number;
  /** D: the backbone's width, which the vision head keeps. */
  visionDim: number;
  /** The backbone's heads (the head blocks use them too). */
  visionHeads: number;
  visionHeadBlocks: number;
  /** Whether the vision head projects D → E/2 (absent when 2D = E, as for the released ViT-L). */
  visionProjection: boolean;
}

const KEYS: readonly (keyof DinoTxtConfig)[] = [
  'embedDim',
  'contextLength',
  'vocabSize',
  'textDim',
  'textHeads',
  'textDepth',
  'textFfnRatio',
  'visionDim',
  'visionHeads',
  'visionHeadBlocks',
  'visionProjection',
];

/** The released ViT-L/16 dino.txt. */
export const DINOTXT_VITL16: DinoTxtConfig = {
  embedDim: 2048,
  contextLength: 77,
  vocabSize: 49408,
  textDim: 1280,
  textHeads: 20,
  textDepth: 24,
  textFfnRatio: 4,
  visionDim: 1024,
  visionHeads: 16,
  visionHeadBlocks: 2,
  visionProjection: false,
};

/** The LayerNorm epsilon of every dino.txt norm (nn.LayerNorm's default). */
export const DINOTXT_EPS = 1e-5;

function bad(msg: string): never {
  throw new DinoscopeError('BAD_INPUT', `dino.txt config: ${msg}`);
}

/** Checks a config (from a file or built in code); throws BAD_INPUT naming what is wrong. */
export function validateDinoTxtConfig(c: Record<string, unknown>): DinoTxtConfig {
  for (const k of Object.keys(c)) if (!KEYS.includes(k as keyof DinoTxtConfig)) bad(`unknown key ${k}`);
  for (const k of KEYS) {
    const v = c[k];
    if (k === 'visionProjection') {
      if (typeof v !== 'boolean') bad(`visionProjection must be true or false, got ${JSON.stringify(v)}`);
      continue;
    }
    const ok =
      k === 'textFfnRatio'
        ? typeof v === 'number' && v > 0
        : typeof v === 'number' && Number.isInteger(v) && v >= (k === 'visionHeadBlocks' ? 0 : 1);
    if (!ok) bad(`${k} must be ${k === 'textFfnRatio' ? 'a positive number' : 'a whole number'}, got ${JSON.stringify(v)}`);
  }
  const cfg = c as unknown as DinoTxtConfig;
  if (cfg.textDim % cfg.textHeads) bad(`textDim ${cfg.textDim} is not divisible by textHeads ${cfg.textHeads}`);
  if (cfg.visionDim % cfg.visionHeads) bad(`visionDim ${cfg.visionDim} is not divisible by visionHeads ${cfg.visionHeads}`);
  if (cfg.embedDim % 2) bad(`embedDim ${cfg.embedDim} must be even (image = [CLS | patch mean])`);
  if (!cfg.visionProjection && 2 * cfg.visionDim !== cfg.embedDim)
    bad(`without a vision projection the backbone width ${cfg.visionDim} must be half of embedDim ${cfg.embedDim}`);
  return { ...cfg };
}
