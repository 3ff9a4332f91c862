// `dinoscope segment --project P [--k K] [--smoothing S] [--out DIR] [--set S]`: k-means clusters of the collection (its
// active feature set, or S); writes each
// image's cluster map (PNG, one pixel per patch) and its cluster polygons (GeoJSON, QuPath layout).
import { DEFAULT_CLUSTER_K } from '../../common/clusters.js';
import { DinoscopeError } from '../../common/errors.js';
import { checkMapSmoothing, DEFAULT_MAP_SMOOTHING } from '../../common/map-smoothing.js';
import { checkK } from '../../analysis/cluster-maps.js';
import { openAnalysis } from '../analysis.js';
import { checkFlags, flagNumber, flagValue, parseArgs, type Command } from '../command.js';

export const segmentCommand: Command = {
  name: 'segment',
  summary: "cluster the collection's patches (k-means) and write cluster maps and polygons",
  usage: `usage: dinoscope segment --project P [--k K] [--smoothing S] [--out DIR] [--set FEATURESET]\n\nk: the number of clusters (default ${DEFAULT_CLUSTER_K}). --smoothing S: each patch's features averaged with its neighbours' (Gaussian, σ S patches, 0 off; default ${DEFAULT_MAP_SMOOTHING}) before k-means and each patch's cluster. Uses the project's active feature set unless --set names another (dinoscope sets lists them).\nWrites <image>.clusters.png (label image: 0 background, 1..k), <image>.clusters.preview.png (colours) and <image>.clusters.geojson per image. Prints JSON {dir, k, smoothing, paths} on stdout.`,
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv);
    checkFlags(flags, ['project', 'k', 'smoothing', 'out', 'set'], 'segment');
    if (positional.length) throw new DinoscopeError('BAD_INPUT', `unexpected argument "${positional[0]}".`);
    const k = checkK(flagNumber(flags, 'k', true) ?? DEFAULT_CLUSTER_K);
    const smoothing = checkMapSmoothing(flagNumber(flags, 'smoothing', false) ?? DEFAULT_MAP_SMOOTHING);
    const service = await openAnalysis(flags);
    const fc = await service.collection();
    io.stderr(`segment: feature set ${fc.set.id}; k-means (k = ${k}) on up to 20000 patches of ${fc.images.size} images…\n`);
    const out = flagValue(flags, 'out');
    const png = await service.exportAnalysis({ format: 'png', what: 'clusters', k, smoothing, dir: out });
    const geo = await service.exportAnalysis({ format: 'geojson', what: 'clusters', k, smoothing, dir: png.dir });
    io.stderr(`segment: wrote ${png.paths.length + geo.paths.length} files to ${png.dir}\n`);
    io.stdout(JSON.stringify({ dir: png.dir, k, smoothing, paths: [...png.paths, ...geo.paths], featureSet: fc.set.id }, null, 2) + '\n');
    return 0;
  },
};
