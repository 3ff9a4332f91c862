// A size-bounded LRU map (Map keeps insertion order; a hit re-inserts). `sizeOf` gives each entry's cost
// (bytes for encoded tiles, 1 for readers); `onEvict` runs for each entry pushed out or deleted.

export class Lru<K, V> {
  private readonly map = new Map<K, V>();
  private used = 0;

  constructor(
    private readonly capacity: number,
    private readonly sizeOf: (v: V) => number = () => 1,
    private readonly onEvict?: (key: K, value: V) => void,
  ) {}

  get size(): number {
    return this.map.size;
  }
  get usedCapacity(): number {
    return this.used;
  }

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  set(key: K, value: V): void {
    this.delete(key);
    const cost = this.sizeOf(value);
    if (cost > this.capacity) return;
    this.map.set(key, value);
    this.used += cost;
    while (this.used > this.capacity) {
      const oldest = this.map.keys().next().value as K;
      this.delete(oldest);
    }
  }

  delete(key: K): void {
    const v = this.map.get(key);
    if (v === undefined) return;
    this.map.delete(key);
    this.used -= this.sizeOf(v);
    this.onEvict?.(key, v);
  }

  /** Deletes every entry whose key matches. */
  deleteWhere(match: (key: K) => boolean): void {
    for (const k of [...this.map.keys()]) if (match(k)) this.delete(k);
  }

  clear(): void {
    for (const k of [...this.map.keys()]) this.delete(k);
  }
}
