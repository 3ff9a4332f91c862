// Open readers (file handles, decoded headers) kept in an LRU by image id. A reader is closed when it is
// evicted, once no read that borrowed it is still running.
import type { ImageReader } from '../data/reader.js';

interface Slot {
  reader: Promise<ImageReader>;
  borrowed: number;
  evicted: boolean;
}

export class ReaderCache {
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly open: (key: string) => Promise<ImageReader>,
    private readonly capacity = 16,
  ) {}

  /** Runs `use` with the reader for `key`, opening it when needed. */
  async with<T>(key: string, use: (reader: ImageReader) => Promise<T>): Promise<T> {
    let slot = this.slots.get(key);
    if (slot) {
      this.slots.delete(key);
      this.slots.set(key, slot);
    } else {
      slot = { reader: this.open(key), borrowed: 0, evicted: false };
      this.slots.set(key, slot);
      const opened = slot;
      opened.reader.catch(() => this.slots.get(key) === opened && this.slots.delete(key));
      this.evictOverflow();
    }
    slot.borrowed++;
    try {
      return await use(await slot.reader);
    } finally {
      slot.borrowed--;
      if (slot.evicted && slot.borrowed === 0) await closeQuietly(slot.reader);
    }
  }

  /** Forgets (and closes) the reader for `key`, e.g. when its image is removed. */
  async drop(key: string): Promise<void> {
    const slot = this.slots.get(key);
    if (!slot) return;
    this.slots.delete(key);
    slot.evicted = true;
    if (slot.borrowed === 0) await closeQuietly(slot.reader);
  }

  async clear(): Promise<void> {
    await Promise.all([...this.slots.keys()].map((k) => this.drop(k)));
  }

  private evictOverflow(): void {
    while (this.slots.size > this.capacity) {
      const oldest = this.slots.keys().next().value as string;
      void this.drop(oldest);
    }
  }
}

async function closeQuietly(reader: Promise<ImageReader>): Promise<void> {
  try {
    await (await reader).close();
  } catch {
    // A reader that failed to open has nothing to close.
  }
}
