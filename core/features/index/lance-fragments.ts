// Index rows from LanceDB's own row ids, so a query need not read the table's `row` column. A LanceDB row id
// (`_rowid`, a row address while the table is never compacted, and ours never is) is the data fragment's id in
// its high 32 bits and the row's offset in the fragment in the low 32. The build appends the rows in order, one
// fragment per write, so each fragment holds a run of index rows: row = first row of the fragment + offset.
// Why: asking LanceDB for the `row` column of a query's candidates is one random read into the table's data
// files per candidate; at 2·10^7 rows (3334 candidates) that took a query from 67 to 173 ms (p50), and the
// row ids come with the index's own results.
import { DinoscopeError } from '../../common/errors.js';

/** [fragment id, its first index row] of every fragment of a table, sorted by id. */
export type FragmentRows = [number, number][];

interface RowIdBatch {
  getChild(name: string): { toArray(): unknown } | null;
}

/** The fragments of a table from a scan of its `row` column with row ids (4.4 s for 2·10^7 rows); null
 * when a fragment does not hold one run of rows (then queries read the `row` column). */
export async function scanFragmentRows(batches: AsyncIterable<RowIdBatch>): Promise<FragmentRows | null> {
  const first = new Map<number, number>();
  for await (const b of batches) {
    const rows = b.getChild('row')?.toArray() as Uint32Array | undefined;
    const ids = b.getChild('_rowid')?.toArray() as BigUint64Array | undefined;
    if (!rows || !ids) throw new DinoscopeError('INTERNAL', 'LanceDB returned no row ids for the table scan.');
    for (let i = 0; i < rows.length; i++) {
      const fragment = Number(ids[i] >> 32n);
      const start = rows[i] - Number(ids[i] & 0xffffffffn);
      const had = first.get(fragment);
      if (had === undefined) first.set(fragment, start);
      else if (had !== start) return null;
    }
  }
  return [...first.entries()].sort((a, b) => a[0] - b[0]);
}

/** Maps row ids to index rows with the fragments' first rows. */
export class RowIdMap {
  private readonly first = new Map<number, number>();

  constructor(fragments: FragmentRows) {
    for (const [id, row] of fragments) this.first.set(id, row);
  }

  /** The index rows of LanceDB row ids; a row id of a fragment not in the map is an error (a table changed
   * behind the record's back). */
  rows(ids: BigUint64Array): Uint32Array {
    const out = new Uint32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const start = this.first.get(Number(ids[i] >> 32n));
      if (start === undefined)
        throw new DinoscopeError('CORRUPT', 'The LanceDB table changed since it was indexed; run dinoscope index again to rebuild it.');
      out[i] = start + Number(ids[i] & 0xffffffffn);
    }
    return out;
  }
}
