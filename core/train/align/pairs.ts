// The image-region/caption pairs of a LiT alignment run (dinoscope align --pairs file.csv): a CSV with
// a header naming the columns image, x, y, width, height, caption (any order; more columns are ignored).
// image is an image of the project by id, file name or path; the region is in level-0 pixels; a caption
// may be quoted ("a, b" and "" inside quotes). Every bad row is named in ONE error (BAD_INPUT, exit 2):
// an image that is not in the project or whose file is missing, an empty caption, a region that is not
// a positive rectangle inside the image.
import { existsSync } from 'node:fs';
import { DinoscopeError } from '../../common/errors.js';
import type { Project } from '../../project/project.js';

export interface AlignPair {
  /** 1-based line of the file (the header is line 1). */
  row: number;
  imageId: string;
  path: string;
  x: number;
  y: number;
  width: number;
  height: number;
  caption: string;
}

const COLUMNS = ['image', 'x', 'y', 'width', 'height', 'caption'] as const;
const LIST_MAX = 20;

/** One CSV line split into fields (RFC 4180 quoting within a line). */
function fields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((f) => f.trim());
}

/** Parses and checks the pairs of `text` (the file's contents) against the project. */
export function parsePairs(text: string, source: string, project: Project): AlignPair[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = fields(lines[0] ?? '').map((h) => h.toLowerCase());
  const missingCols = COLUMNS.filter((c) => !header.includes(c));
  if (missingCols.length)
    throw new DinoscopeError(
      'BAD_INPUT',
      `${source}: the first line must name the columns ${COLUMNS.join(', ')}; missing ${missingCols.join(', ')}.`,
    );
  const col = Object.fromEntries(COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<(typeof COLUMNS)[number], number>;
  const images = project.images();
  const problems: string[] = [];
  const pairs: AlignPair[] = [];
  lines.slice(1).forEach((line, i) => {
    const row = i + 2;
    if (line.trim() === '') return;
    const f = fields(line);
    let ok = true;
    const bad = (what: string): void => {
      problems.push(`row ${row}: ${what}`);
      ok = false;
    };
    const name = f[col.image] ?? '';
    const img = images.find((m) => m.id === name) ?? images.find((m) => m.name === name) ?? images.find((m) => m.path === name);
    const caption = f[col.caption] ?? '';
    const nums = (['x', 'y', 'width', 'height'] as const).map((k) => Number(f[col[k]]));
    if (!name) bad('no image');
    else if (!img) bad(`no image "${name}" in the project`);
    else if (!existsSync(img.path)) bad(`the file of "${name}" is missing (${img.path})`);
    else if (img.status !== 'ok' || !img.meta) bad(`"${name}" cannot be read (${img.reason ?? img.status})`);
    if (!caption) bad('empty caption');
    if (!nums.every(Number.isFinite) || nums[2] <= 0 || nums[3] <= 0) bad('x, y, width, height must be numbers, width and height > 0');
    else if (img?.meta && (nums[0] < 0 || nums[1] < 0 || nums[0] + nums[2] > img.meta.width || nums[1] + nums[3] > img.meta.height))
      bad(`the region lies outside "${name}" (${img.meta.width} × ${img.meta.height} px)`);
    if (ok) pairs.push({ row, imageId: img!.id, path: img!.path, x: nums[0], y: nums[1], width: nums[2], height: nums[3], caption });
  });
  if (problems.length)
    throw new DinoscopeError(
      'BAD_INPUT',
      `${source}: ${problems.length} bad row${problems.length > 1 ? 's' : ''}: ${problems.slice(0, LIST_MAX).join('; ')}${problems.length > LIST_MAX ? `; and ${problems.length - LIST_MAX} more` : ''}. Fix them (or delete them) and run again.`,
    );
  if (pairs.length < 2)
    throw new DinoscopeError('BAD_INPUT', `${source}: at least 2 pairs are needed to align (contrastive), got ${pairs.length}.`);
  return pairs;
}
