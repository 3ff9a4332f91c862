// A match's picture: the square `crop` of one DZI tile shown in a `box`-pixel square through CSS
// background-size and -position. The tile is scaled so the crop's side fills the box, from the tile's own
// width: edge tiles and whole small images are narrower than 256 px, and scaling them as 256-px tiles showed
// another place of the image than the match.
import type { AnalysisMatch } from '../../../core/common/api.js';

export function thumbStyle(crop: AnalysisMatch['crop'], box: number): { position: string; size: string } {
  const k = box / crop.size;
  return { position: `-${crop.x * k}px -${crop.y * k}px`, size: `${crop.tileWidth * k}px auto` };
}
