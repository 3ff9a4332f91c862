// Splitting a collection's extraction over shards (`dinoscope extract --shard I/N`, docs/cluster.md) and
// reading an image list (`--images-from FILE`). An image's shard depends on its id only: the first 4
// bytes of sha-256(id), as an unsigned integer, modulo N. So every shard agrees without talking to the
// others, and an image imported while the job runs does not move the others between shards.
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { DinoscopeError, FieldError } from '../../common/errors.js';
import type { Project } from '../../project/project.js';

export interface Shard {
  index: number;
  count: number;
}

/** "I/N" with 0 ≤ I < N. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index < count)) throw new FieldError('shard', `must be I/N with 0 ≤ I < N (e.g. 3/16), got "${text}".`);
  return { index, count };
}

/** The shard (0 … count − 1) that extracts image `imageId`. */
export function shardOf(imageId: string, count: number): number {
  return createHash('sha256').update(imageId).digest().readUInt32BE(0) % count;
}

/**
 * The image ids a list names, in the list's order without repeats: one image path (as imported, or
 * relative to `baseDir`), file name or image id a line; blank lines and lines starting with # are skipped.
 * Any entry that names no image of the project is refused, every such line named.
 */
export function imagesFromList(project: Project, text: string, source: string, resolvePath: (p: string) => string): string[] {
  const images = project.images();
  const ids: string[] = [];
  const bad: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const abs = resolvePath(line);
    const byName = images.filter((img) => basename(img.path) === line);
    const img = images.find((x) => x.id === line || x.path === line || x.path === abs) ?? (byName.length === 1 ? byName[0] : undefined);
    if (!img) bad.push(`line ${i + 1}: ${line}`);
    else if (!ids.includes(img.id)) ids.push(img.id);
  });
  if (bad.length)
    throw new DinoscopeError(
      'BAD_INPUT',
      `${source}: ${bad.length === 1 ? 'this entry names' : 'these entries name'} no image of ${project.dir} (an image path, file name or id a line): ${bad.join('; ')}.`,
    );
  return ids;
}
