// How much context each patch feature gets: the whole image in one forward pass, or tiles with margins.
// One pass over an image's whole patch grid gives exact global-context features with no seams at all (a
// ViT with global attention and an interpolated position embedding cannot be tiled exactly), but its cost
// grows with the square of the token count: the attention scores of one block are heads × N × N float32
// values, and the softmax writes as many again. An image takes the one-pass path only when that fits a
// memory cap and its grid stays within the resolutions the model handles.
import { DinoscopeError } from '../../common/errors.js';

export type ExtractContext = 'whole' | 'tiled';

export interface OnePassBudget {
  /** Cap on the attention memory of one pass, in bytes (scores + softmax of one block, float32). */
  maxBytes: number;
  /**
   * Largest grid side, in patches, run in one pass. DINOv2 learned its position embedding on a 37 × 37
   * grid (518 px / 14) and bicubically interpolates it to other grids; far beyond its training grid the
   * interpolated embedding is something the model never saw and features degrade. 64 keeps one pass
   * within about 1.7× the training grid per side (896 px at patch 14, 1024 px at patch 16).
   */
  maxSide: number;
}

export const DEFAULT_ONE_PASS: OnePassBudget = { maxBytes: 2 ** 30, maxSide: 64 };

/** Tokens of one pass over a gridWidth × gridHeight patch grid: patches, CLS and registers. */
export const onePassTokens = (registers: number, gridWidth: number, gridHeight: number): number => gridWidth * gridHeight + 1 + registers;

/** Attention memory of one pass (batch 1): heads × N² float32 scores plus as many for the softmax. */
export const onePassBytes = (heads: number, registers: number, gridWidth: number, gridHeight: number): number =>
  heads * onePassTokens(registers, gridWidth, gridHeight) ** 2 * 4 * 2;

const fmtMiB = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;

/** Why a grid cannot run in one pass under `budget`, or null when it can. */
export function onePassRefusal(
  model: { heads: number; registers: number },
  gridWidth: number,
  gridHeight: number,
  budget: OnePassBudget,
): string | null {
  const side = Math.max(gridWidth, gridHeight);
  if (side > budget.maxSide)
    return `its ${gridWidth} × ${gridHeight} patch grid is wider than the ${budget.maxSide} patches one pass allows`;
  const bytes = onePassBytes(model.heads, model.registers, gridWidth, gridHeight);
  if (bytes > budget.maxBytes)
    return `one pass over its ${gridWidth} × ${gridHeight} patch grid needs ${fmtMiB(bytes)} of attention memory (cap ${fmtMiB(budget.maxBytes)})`;
  return null;
}

export interface ContextChoice {
  context: ExtractContext;
  /** One line for the log: why this context. */
  reason: string;
}

/**
 * The context of one extraction run, the same for every image so features compare across the run:
 * 'tiled' as asked; 'whole' when every image fits (else BAD_INPUT naming the first that does not);
 * 'auto' = 'whole' iff every image fits, else 'tiled' for all. `prior` is the context of the feature set
 * this run adds to: 'auto' keeps a tiled set tiled, so a later run does not mix contexts within one set.
 */
export function chooseContext(
  requested: 'auto' | ExtractContext,
  model: { heads: number; registers: number },
  images: readonly { file: string; gridWidth: number; gridHeight: number }[],
  budget: OnePassBudget,
  prior?: ExtractContext | 'mixed',
): ContextChoice {
  if (requested === 'tiled') return { context: 'tiled', reason: 'tiles with context margins (asked for)' };
  if (requested === 'auto' && prior === 'tiled')
    return { context: 'tiled', reason: "tiles with context margins, as for the feature set's earlier images" };
  for (const im of images) {
    const why = onePassRefusal(model, im.gridWidth, im.gridHeight, budget);
    if (why === null) continue;
    if (requested === 'whole')
      throw new DinoscopeError('BAD_INPUT', `${im.file}: cannot extract with whole-image context: ${why}; use context tiled or auto.`);
    return { context: 'tiled', reason: `tiles with context margins for every image: ${im.file}: ${why}` };
  }
  return { context: 'whole', reason: `one forward pass per image (whole-image context; all ${images.length} image(s) fit)` };
}
