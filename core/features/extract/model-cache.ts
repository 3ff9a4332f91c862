// Compiled models by input shape: one-pass extraction needs a session per image size, and a collection
// of equal-size images should compile once. Holds at most `capacity` sessions (each embeds the weights),
// releasing the least recently used. Every session goes to the same execution providers (`runtime`).
import type { ViTConfig } from '../../model/config.js';
import { TileModel, type ModelWeights, type TileModelOptions } from './model.js';

export class TileModelCache {
  private readonly models = new Map<string, Promise<TileModel>>();
  /** Sessions compiled so far (tests: equal sizes compile once). */
  compiled = 0;

  constructor(
    private readonly config: ViTConfig,
    private readonly weights: ModelWeights,
    private readonly capacity = 2,
    /** Providers and where a provider fallback warning goes, for every session. */
    private readonly runtime: Pick<TileModelOptions, 'providers' | 'warn' | 'head'> = {},
  ) {}

  /** The model for (batch, height, width) with the given outputs and threads; compiled on first use. */
  async get(
    o: Required<Pick<TileModelOptions, 'batch' | 'height' | 'width'>> & Pick<TileModelOptions, 'outputs' | 'threads'>,
  ): Promise<TileModel> {
    const key = `${o.batch}x${o.height}x${o.width}`;
    let m = this.models.get(key);
    if (m) {
      this.models.delete(key); // re-insert: most recently used last
      this.models.set(key, m);
      return m;
    }
    while (this.models.size >= this.capacity) {
      const [oldest, old] = this.models.entries().next().value as [string, Promise<TileModel>];
      this.models.delete(oldest);
      await (await old.catch(() => null))?.release();
    }
    m = TileModel.create(this.config, this.weights, { ...this.runtime, ...o });
    this.models.set(key, m);
    this.compiled++;
    m.catch(() => this.models.delete(key));
    return m;
  }

  async release(): Promise<void> {
    const all = [...this.models.values()];
    this.models.clear();
    await Promise.all(all.map(async (m) => (await m.catch(() => null))?.release()));
  }
}
