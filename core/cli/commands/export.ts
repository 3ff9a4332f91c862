// `dinoscope export --project P --format F [--what W] [--image I] [--out DIR] [--k K] [--set S]`: feature maps
// (npy, safetensors, zarr, csv), PCA maps and cluster label images (png, ome-tiff), polygons (geojson),
// search results (csv; give --image --x --y to run the search first) or GeoJSON + image list for QuPath,
// of the active feature set or S.
import type { AnalysisExportFormat, AnalysisExportRequest } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import { imageIdOf, openAnalysis } from '../analysis.js';
import { checkFlags, flagNumber, flagValue, parseArgs, type Command } from '../command.js';

const FORMATS = ['npy', 'safetensors', 'zarr', 'png', 'ome-tiff', 'geojson', 'csv', 'qupath'];

export const exportCommand: Command = {
  name: 'export',
  summary: 'export feature maps, PCA maps, cluster label images, polygons, search results or QuPath files',
  usage:
    'usage: dinoscope export --project P --format npy|safetensors|zarr|png|ome-tiff|geojson|csv|qupath [--what features|pca|clusters|similarity|search]\n' +
    '                        [--image I] [--out DIR] [--k K] [--threshold T] [--smoothing S] [--pixels-per-patch N] [--x X --y Y (csv: search first)] [--set FEATURESET]\n\n' +
    "PCA and cluster maps: --smoothing S averages each patch's features with its neighbours' (Gaussian, σ S patches, 0 off) first.\n" +
    'csv without a search exports features; qupath writes GeoJSON per image and open-in-qupath.txt.\n' +
    "Uses the project's active feature set unless --set names another (dinoscope sets lists them).\n" +
    'Prints JSON {format, dir, paths, notice?, featureSet} on stdout.',
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv);
    checkFlags(
      flags,
      ['project', 'format', 'what', 'image', 'out', 'k', 'threshold', 'smoothing', 'pixels-per-patch', 'x', 'y', 'set'],
      'export',
    );
    if (positional.length) throw new DinoscopeError('BAD_INPUT', `unexpected argument "${positional[0]}".`);
    const format = flagValue(flags, 'format');
    if (!format || !FORMATS.includes(format))
      throw new DinoscopeError('BAD_INPUT', `needs --format, one of ${FORMATS.join(', ')}${format ? ` (got "${format}")` : ''}.`);
    const service = await openAnalysis(flags);
    const image = flagValue(flags, 'image');
    const imageId = image !== undefined ? imageIdOf(service, image) : undefined;
    const x = flagNumber(flags, 'x', false);
    const y = flagNumber(flags, 'y', false);
    if ((x === undefined) !== (y === undefined)) throw new DinoscopeError('BAD_INPUT', 'give both --x and --y.');
    if (x !== undefined && y !== undefined) {
      if (!imageId) throw new DinoscopeError('BAD_INPUT', '--x --y need --image I.');
      io.stderr('export: searching…\n');
      await service.similarityQuery({ imageId, points: [{ x, y }], k: 20 });
    }
    const req: AnalysisExportRequest = { format: format as AnalysisExportFormat, dir: flagValue(flags, 'out') };
    const what = flagValue(flags, 'what');
    if (what !== undefined) req.what = what as AnalysisExportRequest['what'];
    if (imageId && x === undefined) req.imageIds = [imageId];
    const k = flagNumber(flags, 'k', true);
    if (k !== undefined) req.k = k;
    const threshold = flagNumber(flags, 'threshold', false);
    if (threshold !== undefined) req.threshold = threshold;
    const smoothing = flagNumber(flags, 'smoothing', false);
    if (smoothing !== undefined) req.smoothing = smoothing;
    const ppp = flagNumber(flags, 'pixels-per-patch', true);
    if (ppp !== undefined) req.pixelsPerPatch = ppp;
    io.stderr(`export: writing ${format}…\n`);
    const r = await service.exportAnalysis(req);
    if (r.notice) io.stderr(`export: ${r.notice}\n`);
    io.stdout(JSON.stringify({ ...r, featureSet: (await service.collection()).set.id }, null, 2) + '\n');
    return 0;
  },
};
