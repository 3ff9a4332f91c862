// What a feature-map export reads: a patch grid of `dim` features, readable by rectangle, and where the
// grid sits on the source image. FeatureStoreReader fits with `storeSource(reader)`; tests and small maps
// use `arraySource` over an in-memory (h, w, dim) array.

export interface FeatureGridSource {
  gridWidth: number;
  gridHeight: number;
  dim: number;
  /** Patches [x, x+w) × [y, y+h) as float32 (h, w, dim); cells outside the grid are 0. */
  readRect(x: number, y: number, w: number, h: number): Promise<Float32Array>;
}

/** The grid on the source image: level-0 pixels per patch, patch (0, 0)'s top-left corner, µm per pixel. */
export interface GridGeometry {
  stride: number;
  origin: { x: number; y: number };
  /** Micrometres per level-0 pixel, or null when the image has no calibration (then units are pixels). */
  mpp: number | null;
}

/** An in-memory (h, w, dim) grid as a source. */
export function arraySource(grid: Float32Array, gridWidth: number, gridHeight: number, dim: number): FeatureGridSource {
  return {
    gridWidth,
    gridHeight,
    dim,
    readRect: (x, y, w, h) => {
      const out = new Float32Array(w * h * dim); // (h, w, dim)
      for (let yy = Math.max(0, y); yy < Math.min(gridHeight, y + h); yy++) {
        const x0 = Math.max(0, x);
        const x1 = Math.min(gridWidth, x + w);
        if (x1 > x0) out.set(grid.subarray((yy * gridWidth + x0) * dim, (yy * gridWidth + x1) * dim), ((yy - y) * w + (x0 - x)) * dim);
      }
      return Promise.resolve(out);
    },
  };
}

/** A feature store (store/reader.ts) as a source. */
export function storeSource(reader: {
  manifest: { gridWidth: number; gridHeight: number; dim: number };
  readRect(x: number, y: number, w: number, h: number): Promise<Float32Array>;
}): FeatureGridSource {
  const { gridWidth, gridHeight, dim } = reader.manifest;
  return { gridWidth, gridHeight, dim, readRect: (x, y, w, h) => reader.readRect(x, y, w, h) };
}
