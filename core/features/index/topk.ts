// A bounded min-heap that keeps the k largest (score, id) pairs seen: O(log k) per accepted candidate,
// one comparison per rejected one (the common case in a scan, via `threshold`).

export class TopK {
  readonly k: number;
  size = 0;
  readonly scores: Float32Array;
  readonly ids: Float64Array;

  constructor(k: number) {
    this.k = k;
    this.scores = new Float32Array(k);
    this.ids = new Float64Array(k);
  }

  /** The score a candidate must beat to enter (−Infinity until the heap is full). */
  get threshold(): number {
    return this.size < this.k ? -Infinity : this.scores[0];
  }

  push(score: number, id: number): void {
    const { scores, ids } = this;
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (scores[p] <= score) break;
        scores[i] = scores[p];
        ids[i] = ids[p];
        i = p;
      }
      scores[i] = score;
      ids[i] = id;
      return;
    }
    if (score <= scores[0]) return;
    // Replace the root and sift down.
    let i = 0;
    const n = this.size;
    while (true) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const c = l + 1 < n && scores[l + 1] < scores[l] ? l + 1 : l;
      if (scores[c] >= score) break;
      scores[i] = scores[c];
      ids[i] = ids[c];
      i = c;
    }
    scores[i] = score;
    ids[i] = id;
  }

  /** The kept pairs, best first. */
  sorted(): { score: number; id: number }[] {
    const out: { score: number; id: number }[] = [];
    for (let i = 0; i < this.size; i++) out.push({ score: this.scores[i], id: this.ids[i] });
    return out.sort((a, b) => b.score - a.score || a.id - b.id);
  }
}
