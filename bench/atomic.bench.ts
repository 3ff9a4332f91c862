// `npm run bench -- atomic`: what durability costs per state-file write. writeFileAtomic (temp file, fsync,
// rename, folder fsync) against the same temp + rename without the two syncs (the writer before it was
// durable), alternating, on two sizes: a 50 KB project.json and a 196 KB feature-store chunk (384 dims ×
// 16 × 16 patches as float16, written once per extracted chunk with a small progress.json after it).
// Runs in the system temp folder (say which file system it is when quoting the figures).
// Last line: `atomic_sync_ratio <synced / unsynced median ms, chunk size>`.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempPathFor, writeFileAtomic } from '../core/io/atomic.js';
import { median, quantile } from './lib/stats.js';

const ROUNDS = Number(process.env.ATOMIC_ROUNDS ?? 200);

async function unsynced(target: string, data: Uint8Array): Promise<void> {
  const tmp = tempPathFor(target);
  await writeFile(tmp, data);
  await rename(tmp, target);
}

const dir = await mkdtemp(join(tmpdir(), 'dinoscope-atomic-bench-'));
try {
  let ratio = NaN;
  for (const [label, bytes] of [
    ['project.json 50 KB', 50_000],
    ['feature chunk 196 KB', 384 * 16 * 16 * 2],
  ] as const) {
    const data = randomBytes(bytes);
    const times = { synced: [] as number[], unsynced: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const kind of r % 2 ? (['synced', 'unsynced'] as const) : (['unsynced', 'synced'] as const)) {
        const t = performance.now();
        if (kind === 'synced') await writeFileAtomic(join(dir, `${kind}.bin`), data);
        else await unsynced(join(dir, `${kind}.bin`), data);
        times[kind].push(performance.now() - t);
      }
    }
    const s = median(times.synced);
    const u = median(times.unsynced);
    process.stderr.write(
      `${label}: synced median ${s.toFixed(2)} ms (p90 ${quantile(times.synced, 0.9).toFixed(2)}), unsynced ${u.toFixed(2)} ms (p90 ${quantile(times.unsynced, 0.9).toFixed(2)}), ${ROUNDS} rounds each\n`,
    );
    ratio = s / u;
  }
  process.stdout.write(`atomic_sync_ratio ${ratio.toFixed(2)}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
