// `dinoscope images [list] --project P` and `dinoscope images set-mpp --project P (--image I[,J…] | --all) --mpp X|none`:
// the collection with each image's pixel size and where it comes from, and the pixel size a user states for
// images whose files state none (the API's setImageMpp, as the app's image properties call it). A file's own
// µm per pixel is kept: naming such an image is refused (exit 2). JSON on stdout.
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { ImageEntry, ProjectSummary } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import { AppService, rootAssetUrls } from '../../app/service.js';
import { Project } from '../../project/project.js';
import { checkFlags, flagValue, parseArgs, type Command } from '../command.js';

/** One line of `images list`: where the µm per pixel comes from ('file', 'stated', or null: neither). */
export interface ImageMppRow {
  id: string;
  name: string;
  status: string;
  mpp: number | null;
  mppSource: 'file' | 'stated' | null;
}

export function mppRows(summary: ProjectSummary): ImageMppRow[] {
  return summary.images.map((e) => ({
    id: e.id,
    name: e.name,
    status: e.status,
    mpp: e.meta?.mpp ?? null,
    mppSource: e.statedMpp !== undefined ? 'stated' : e.meta?.mpp ? 'file' : null,
  }));
}

/** The images `--image` names (ids or file names, comma-separated); BAD_INPUT naming one not found. */
function imageIds(images: readonly ImageEntry[], arg: string, dir: string): string[] {
  return arg.split(',').map((raw) => {
    const key = raw.trim();
    const byId = images.find((i) => i.id === key);
    if (byId) return byId.id;
    const byName = images.filter((i) => i.name === key);
    if (byName.length === 1) return byName[0].id;
    if (byName.length > 1)
      throw new DinoscopeError(
        'BAD_INPUT',
        `${dir}: ${byName.length} images are named "${key}": give the id instead (dinoscope images --project P lists them).`,
      );
    throw new DinoscopeError(
      'BAD_INPUT',
      `${dir}: no image "${key}" (give an id or a file name; dinoscope images --project P lists them).`,
    );
  });
}

/** --mpp X (µm per pixel) or none (clears a stated value). */
function mppFlag(v: string | undefined): number | null {
  if (v === undefined)
    throw new DinoscopeError('BAD_INPUT', 'set-mpp needs --mpp X (µm per pixel at full resolution, e.g. 0.5) or --mpp none to clear it.');
  if (v === 'none') return null;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new DinoscopeError('BAD_INPUT', `--mpp must be a positive number of µm per pixel or none, got "${v}".`);
  return n;
}

export const imagesCommand: Command = {
  name: 'images',
  summary: "list a project's images with their pixel size; state the pixel size of images whose files state none",
  usage:
    'usage: dinoscope images [list] --project P\n' +
    '       dinoscope images set-mpp --project P (--image I[,J…] | --all) --mpp X|none\n\n' +
    'list prints JSON [{id, name, status, mpp, mppSource}]: mppSource is "file" (the file states it), "stated"\n' +
    '(you stated it) or null (neither: runs by µm/px read such an image at a pyramid level instead).\n' +
    'set-mpp states X µm per pixel at full resolution for the images named by id or file name, or with --all for\n' +
    'every image whose file states none and that has no stated size yet; --mpp none clears a stated size.\n' +
    "A file's own pixel size is never overridden: naming such an image is refused. Extraction, training and the\n" +
    'viewer use a stated size as if the file stated it. Prints the list after the change.',
  flags: ['project', 'image', 'all', 'mpp'],
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv, ['all']);
    checkFlags(flags, ['project', 'image', 'all', 'mpp'], 'images');
    const action = positional[0] ?? 'list';
    if (!['list', 'set-mpp'].includes(action) || positional.length > 1)
      throw new DinoscopeError(
        'BAD_INPUT',
        `unexpected argument "${positional[positional.length > 1 ? 1 : 0]}" (images takes list or set-mpp).`,
      );
    const arg = flagValue(flags, 'project');
    if (!arg) throw new DinoscopeError('BAD_INPUT', 'needs --project P (a project folder).');
    const dir = resolve(arg);
    if (!(await Project.exists(dir))) throw new DinoscopeError('BAD_INPUT', `${dir} is not a Dinoscope project (no project.json).`);
    if (action === 'list' && (flags.has('image') || flags.has('all') || flags.has('mpp')))
      throw new DinoscopeError(
        'BAD_INPUT',
        '--image, --all and --mpp go with set-mpp (dinoscope images set-mpp --project P --image I --mpp X).',
      );
    const service = new AppService({ host: 'serve', version: '0', urls: rootAssetUrls, homeDir: homedir() });
    try {
      let summary = await service.openProject(dir);
      if (action === 'set-mpp') {
        const image = flagValue(flags, 'image');
        if ((image === undefined) === !flags.has('all'))
          throw new DinoscopeError(
            'BAD_INPUT',
            'set-mpp needs either --image I[,J…] (ids or file names) or --all (every image without a pixel size).',
          );
        const mpp = mppFlag(flagValue(flags, 'mpp'));
        const ids = image === undefined ? undefined : imageIds(summary.images, image, dir);
        const r = await service.setImageMpp({ mpp, ...(ids && { imageIds: ids }) });
        summary = r.project;
        const what = mpp === null ? 'cleared the stated pixel size of' : `stated ${mpp} µm/px for`;
        io.stderr(`dinoscope images: ${what} ${r.changed.length} image${r.changed.length === 1 ? '' : 's'}.\n`);
      }
      const rows = mppRows(summary);
      const unknown = rows.filter((r) => r.status === 'ok' && r.mppSource === null).length;
      if (unknown > 0)
        io.stderr(
          `${unknown} readable image${unknown === 1 ? ' has' : 's have'} no pixel size: dinoscope images set-mpp --project P --all --mpp X states one.\n`,
        );
      io.stdout(JSON.stringify(rows, null, 2) + '\n');
      return 0;
    } finally {
      await service.close();
    }
  },
};
