// `dinoscope extract --shard I/N` and `--images-from FILE`: which of the project's images this run
// extracts (core/features/extract/shard.ts), and the hooks a part of a larger extraction runs with: no
// search index (`dinoscope index` builds it once afterwards) and the 'auto' context chosen over the whole
// collection, as one run over every image would choose it (docs/cluster.md).
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DinoscopeError } from '../../common/errors.js';
import type { ExtractHooks } from '../../features/extract/project.js';
import { imagesFromList, parseShard, shardOf } from '../../features/extract/shard.js';
import type { Project } from '../../project/project.js';
import { flagValue, type ParsedArgs } from '../command.js';

export const SHARD_FLAGS = ['shard', 'images-from'];

export interface ShardPart {
  /** The images this run extracts (may be empty: a shard the hash gave no image). */
  imageIds: string[];
  hooks: Pick<ExtractHooks, 'index' | 'contextImageIds'>;
  /** For the log: "shard 3/16: 12 of 190 images". */
  line: string;
}

/** The part of the collection --shard / --images-from name, or null when neither is given. */
export async function shardPart(project: Project, flags: ParsedArgs['flags'], imageFlag: string | undefined): Promise<ShardPart | null> {
  const shardArg = flagValue(flags, 'shard');
  const listArg = flagValue(flags, 'images-from');
  if (shardArg === undefined && listArg === undefined) return null;
  if (imageFlag !== undefined) throw new DinoscopeError('BAD_INPUT', 'give --image, or --shard / --images-from, not both.');
  const shard = shardArg === undefined ? null : parseShard(shardArg);
  let ids = project
    .images()
    .filter((i) => i.status === 'ok')
    .map((i) => i.id);
  if (listArg !== undefined) {
    const file = resolve(listArg);
    const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new DinoscopeError('BAD_INPUT', `--images-from ${file} cannot be read (${e.code ?? e.message}).`);
    });
    ids = imagesFromList(project, text, file, (p) => resolve(p));
  }
  const job = ids; // the images the whole job extracts, over all its shards
  if (shard) ids = ids.filter((id) => shardOf(id, shard.count) === shard.index);
  const what = `${shard ? `shard ${shard.index}/${shard.count}` : 'list'}: ${ids.length} of ${job.length} images`;
  return { imageIds: ids, hooks: { index: false, contextImageIds: job }, line: what };
}
