// Scale-bar and magnification arithmetic, pure.

/** Nice lengths in µm for a scale bar: 1, 2, 5 × 10^k. */
export function niceLength(maxMicrons: number): number {
  if (!(maxMicrons > 0) || !Number.isFinite(maxMicrons)) return 0;
  const exp = Math.floor(Math.log10(maxMicrons));
  const base = 10 ** exp;
  for (const m of [5, 2, 1]) if (m * base <= maxMicrons) return m * base;
  return base;
}

/** "500 µm", "2 mm", "0.5 µm". */
export function formatMicrons(um: number): string {
  if (um >= 1000) return `${trim(um / 1000)} mm`;
  return `${trim(um)} µm`;
}

function trim(v: number): string {
  return Number(v.toPrecision(3)).toString();
}

export interface ScaleBar {
  /** Bar width in CSS pixels. */
  px: number;
  label: string;
}

/**
 * The longest nice length that fits in `maxPx` CSS pixels, given how many CSS pixels one level-0 pixel
 * covers (`screenPerImagePx`) and the level-0 pixel size in µm.
 */
export function scaleBar(mpp: number, screenPerImagePx: number, maxPx = 160): ScaleBar | null {
  if (!(mpp > 0) || !(screenPerImagePx > 0)) return null;
  const umPerScreenPx = mpp / screenPerImagePx;
  const um = niceLength(maxPx * umPerScreenPx);
  if (um === 0) return null;
  return { px: um / umPerScreenPx, label: formatMicrons(um) };
}

/** The equivalent objective magnification: 0.25 µm/px shown 1:1 is 40×, the usual convention (10 / mpp). */
export function magnification(mpp: number, screenPerImagePx: number): number {
  return (10 / mpp) * screenPerImagePx;
}

export function formatMagnification(mag: number): string {
  if (mag >= 10) return `${Math.round(mag)}×`;
  if (mag >= 1) return `${mag.toFixed(1)}×`;
  return `${mag.toFixed(2)}×`;
}
