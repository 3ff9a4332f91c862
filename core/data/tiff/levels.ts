// Which directories of a TIFF are pyramid levels and which are associated images (label, macro, thumbnail).
// Levels: the first directory plus its SubIFDs when it has any, else the later tiled directories whose
// size is a consistent reduction of the first (reduced-resolution NewSubfileType bit 0, or SVS levels,
// which carry no flag). Sorted by width, largest first; equal widths keep the first.
import { type Ifd, tagNumber } from './parse.js';
import { isTiled } from './level.js';
import { Tag } from './tags.js';

export interface PyramidDirs {
  levels: Ifd[];
  associated: { name: string; ifd: Ifd }[];
}

function size(ifd: Ifd): [number, number] {
  return [tagNumber(ifd, Tag.ImageWidth, 0), tagNumber(ifd, Tag.ImageLength, 0)];
}

/** True when (w, h) is (w0, h0) shrunk by the same factor in both directions (within rounding). */
function isReduction(w0: number, h0: number, w: number, h: number): boolean {
  if (!(w > 0 && h > 0 && w < w0 && h <= h0)) return false;
  const f = w0 / w;
  return Math.abs(h * f - h0) <= f + 2;
}

export function pyramidDirs(ifds: readonly Ifd[], associatedName: (ifd: Ifd, index: number) => string | null): PyramidDirs {
  const base = ifds[0];
  const [w0, h0] = size(base);
  const associated: PyramidDirs['associated'] = [];
  const candidates: Ifd[] = [];
  ifds.forEach((ifd, i) => {
    if (i === 0) return;
    const name = associatedName(ifd, i);
    if (name !== null || !isTiled(ifd)) associated.push({ name: name ?? `image-${i}`, ifd });
    else if (base.subIfds.length === 0) candidates.push(ifd);
  });
  candidates.push(...base.subIfds.filter(isTiled));
  const reduced = candidates.filter((ifd) => {
    const [w, h] = size(ifd);
    return isReduction(w0, h0, w, h);
  });
  reduced.sort((a, b) => size(b)[0] - size(a)[0]);
  const levels = [base];
  for (const ifd of reduced) if (size(ifd)[0] < size(levels[levels.length - 1])[0]) levels.push(ifd);
  // Tiled directories that are no reduction (e.g. other OME channels or planes) are neither.
  return { levels, associated };
}
