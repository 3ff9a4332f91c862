// `dinoscope info <image>`: the reader's metadata as JSON on stdout.
import { DinoscopeError } from '../../common/errors.js';
import { openImage } from '../../data/readers/registry.js';
import { type CliIo, type Command, parseArgs } from '../command.js';

export const infoCommand: Command = {
  name: 'info',
  summary: "print an image's format, size, pyramid levels, microns per pixel and tile size as JSON",
  usage:
    'usage: dinoscope info <image>\n\nPrints {format, width, height, levels: [{width, height, downsample}], mpp, tileWidth, tileHeight, vendor}\nas JSON, with channels: [...] for a multi-channel image (OME-TIFF, OME-Zarr folder) and warnings: [...] when the reader\nignored something in the file (also on stderr). Exits 2 with a one-line error when the file cannot be read.',
  async run(argv: string[], io: CliIo): Promise<number> {
    const { positional } = parseArgs(argv);
    if (positional.length !== 1) throw new DinoscopeError('BAD_INPUT', 'info takes exactly one image path (dinoscope info <image>).');
    const reader = await openImage(positional[0]);
    try {
      const { format, width, height, levels, mpp, tileWidth, tileHeight, vendor, warnings, channels } = reader.meta;
      const out = {
        format,
        width,
        height,
        levels,
        mpp,
        tileWidth,
        tileHeight,
        vendor,
        ...(channels ? { channels } : {}),
        ...(warnings ? { warnings } : {}),
      };
      for (const w of warnings ?? []) io.stderr(`dinoscope info: warning: ${w}\n`);
      io.stdout(`${JSON.stringify(out, null, 2)}\n`);
      return 0;
    } finally {
      await reader.close();
    }
  },
};
