// A seeded, checkpointable random number generator for the training data pipeline: xoshiro128**
// (Blackman & Vigna, "Scrambled linear pseudorandom number generators", 2018), seeded through SplitMix32.
// The whole state is four 32-bit words, so `state()` / `Rng.fromState()` resume a stream exactly — a
// checkpoint stores the words and the resumed run draws the same numbers the uninterrupted one would.

/** The serialisable state of an Rng: four unsigned 32-bit words, not all zero. */
export type RngState = [number, number, number, number];

/** SplitMix32 step: a well-mixed 32-bit output from a 32-bit counter (used only for seeding). */
function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

export class Rng {
  private s: Uint32Array;

  private constructor(words: ArrayLike<number>) {
    this.s = Uint32Array.from(words);
    if (this.s[0] === 0 && this.s[1] === 0 && this.s[2] === 0 && this.s[3] === 0) this.s[0] = 1; // the all-zero state is a fixed point
  }

  /**
   * A generator seeded from any number of integer keys (e.g. (seed), (seed, worker), (seed, step)): each key
   * is folded through SplitMix32, so nearby keys give unrelated streams.
   */
  static seeded(...keys: number[]): Rng {
    let h = 0x243f6a88;
    for (const k of keys) {
      // Fold both 32-bit halves so step indices beyond 2^32 still differ.
      h = splitmix32(h ^ (k >>> 0));
      h = splitmix32(h ^ Math.floor(k / 4294967296));
    }
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      h = splitmix32(h + i);
      words.push(h);
    }
    return new Rng(words);
  }

  static fromState(state: RngState): Rng {
    if (!Array.isArray(state) || state.length !== 4 || !state.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) {
      throw new RangeError(`Rng.fromState: expected four unsigned 32-bit integers, got ${JSON.stringify(state)}`);
    }
    return new Rng(state);
  }

  state(): RngState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  /** The next unsigned 32-bit integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.random();
  }

  /** exp(U(log lo, log hi)): log-uniform in [lo, hi), both > 0. */
  logUniform(lo: number, hi: number): number {
    return Math.exp(this.uniform(Math.log(lo), Math.log(hi)));
  }

  /** Normal(mean, std) by Box–Muller (one draw per call; no cached spare, so the state stays four words). */
  normal(mean = 0, std = 1): number {
    const u1 = 1 - this.random(); // (0, 1]
    const u2 = this.random();
    return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Uniform integer in [lo, hi) (hi exclusive), unbiased by rejection. */
  int(lo: number, hi: number): number {
    const n = hi - lo;
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || n < 1) throw new RangeError(`Rng.int: need integers lo < hi, got [${lo}, ${hi})`);
    if (n > 0x100000000) return lo + Math.floor(this.random() * n);
    const limit = 0x100000000 - (0x100000000 % n); // largest multiple of n that fits
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return lo + (x % n);
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.random() < p;
  }

  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A random permutation of 0 … n−1 (torch.randperm's role). */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /** An index drawn with probability proportional to `weights` (non-negative, not all zero). */
  weighted(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i];
    if (!(total > 0)) throw new RangeError('Rng.weighted: the weights must have a positive sum');
    let r = this.random() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) return i;
    }
    for (let i = weights.length - 1; i >= 0; i--) if (weights[i] > 0) return i; // rounding left r ≥ 0
    return weights.length - 1;
  }
}
