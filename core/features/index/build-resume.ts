// The record of a LanceDB build in progress, `lance-build.json` in the index folder, so that a killed build
// resumes rather than starting over: {format: "dinoscope-lance-build", version: 2, uri (as the store record's),
// table (the table being filled), manifest (SHA-256 of the index manifest it indexes: a set extended or
// re-extracted since is built afresh), partitions (of the IVF index it trains; 0 = none)}. Written before the
// first row, removed once the store record names the finished table. Version 1 builds wrote float16 vectors,
// which LanceDB indexes 20× slower (lance-build.ts): their records are not resumed, so their tables are dropped
// and the build starts over in float32.
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.js';

export interface PendingBuild {
  uri: string | null;
  table: string;
  manifest: string;
  partitions: number;
}

/** The record's version: 2 since the table's vectors are float32. */
export const PENDING_VERSION = 2;

const pendingPath = (indexDir: string): string => join(indexDir, 'lance-build.json');

/** SHA-256 of the index manifest's bytes (as read by catalog.ts readIndexManifestFile, the same read the build
 * parses): what a pending build must match to be resumed. */
export function manifestDigest(manifestBytes: Uint8Array): string {
  return createHash('sha256').update(manifestBytes).digest('hex');
}

/** The pending build of `indexDir`, or null when there is none or its record is unreadable (then nothing resumes). */
export async function readPendingBuild(indexDir: string): Promise<PendingBuild | null> {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(await readFile(pendingPath(indexDir), 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (r.format !== 'dinoscope-lance-build' || r.version !== PENDING_VERSION) return null;
  if (typeof r.table !== 'string' || typeof r.manifest !== 'string' || typeof r.partitions !== 'number') return null;
  if (r.uri !== null && typeof r.uri !== 'string') return null;
  return { uri: r.uri, table: r.table, manifest: r.manifest, partitions: r.partitions };
}

export async function writePendingBuild(indexDir: string, p: PendingBuild): Promise<void> {
  await writeFileAtomic(
    pendingPath(indexDir),
    JSON.stringify({ format: 'dinoscope-lance-build', version: PENDING_VERSION, ...p }, null, 1),
  );
}

export async function clearPendingBuild(indexDir: string): Promise<void> {
  await rm(pendingPath(indexDir), { force: true });
}
