import { describe, expect, it } from 'vitest';
import type { GridImage } from './collection.js';
import { matchPicture } from './thumbs.js';

describe('matchPicture', () => {
  it("names the tile's own width: a small image's only tile and a large image's right-edge tile are narrower than 256 px", () => {
    const small = matchPicture('t/{level}/{x}_{y}', { width: 128, height: 100 } as GridImage, 100, 30, 16);
    expect(small.crop.tileWidth).toBe(128);
    expect(small.crop.x + small.crop.size).toBeLessThanOrEqual(128);
    const edge = matchPicture('t/{level}/{x}_{y}', { width: 600, height: 300 } as GridImage, 580, 100, 16);
    expect(edge.thumbnailUrl).toMatch(/\/2_0$/);
    expect(edge.crop.tileWidth).toBe(600 - 2 * 256);
    expect(edge.crop.x + edge.crop.size).toBeLessThanOrEqual(88);
    // The match (580, 100) lies inside the shown square of that tile.
    expect(580 - 512).toBeGreaterThanOrEqual(edge.crop.x);
    expect(580 - 512).toBeLessThanOrEqual(edge.crop.x + edge.crop.size);
  });
});
