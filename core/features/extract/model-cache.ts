// Compiled models by input shape. On onnxruntime's CPU provider one-pass extraction compiles once for every
// image size (TileModel.createAnySize: symbolic height and width); a GPU provider, or a dino.txt head, needs a
// session per size, and a collection of equal-size images compiles once. Holds at most `capacity` fixed-size
// sessions (each embeds the weights), releasing the least recently used. Every session goes to the same
// execution providers (`runtime`).
import type { ViTConfig } from '../../model/config.js';
import { type AnySizeTileModel, TileModel, type ModelWeights, type TileModelOptions, cpuOnly } from './model.js';

export class TileModelCache {
  private readonly models = new Map<string, Promise<TileModel>>();
  private readonly anySize = new Map<string, Promise<AnySizeTileModel>>();
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
    o: Required<Pick<TileModelOptions, 'batch' | 'height' | 'width'>> &
      Pick<TileModelOptions, 'outputs' | 'threads'> & {
        /** Sizes vary (one-pass extraction): on the CPU provider, one session for all of them. */
        anySize?: boolean;
      },
  ): Promise<TileModel> {
    if (o.anySize && cpuOnly(this.runtime.providers) && !this.runtime.head) {
      const anyKey = `${o.batch}:${(o.outputs ?? []).join(',')}:${o.threads ?? ''}`;
      let a = this.anySize.get(anyKey);
      if (!a) {
        const { anySize: _, height: _h, width: _w, ...rest } = o;
        a = TileModel.createAnySize(this.config, this.weights, { ...this.runtime, ...rest });
        this.anySize.set(anyKey, a);
        this.compiled++;
        a.catch(() => this.anySize.delete(anyKey));
      }
      return (await a).sized(o.height, o.width);
    }
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
    const any = [...this.anySize.values()];
    this.models.clear();
    this.anySize.clear();
    await Promise.all(all.map(async (m) => (await m.catch(() => null))?.release()));
    await Promise.all(any.map(async (m) => (await m.catch(() => null))?.release()));
  }
}
