// `dinoscope pca --project P [--threshold T|none] [--smoothing S] [--out DIR] [--image I] [--set S]`: fits the collection PCA
// (one basis) of the active feature set (or S) and writes each image's foreground PCA map as PNG (one pixel per
// patch). The foreground is the set's own unless --threshold names one (core/analysis/pca-maps.ts
// pcaDefaultThreshold: the tissue mask for a masked set, first component > 0 for one extracted with the mask off).
// --smoothing: the maps' neighbour smoothing (core/analysis/smoothing.ts), σ in patches.
import { DinoscopeError } from '../../common/errors.js';
import { checkMapSmoothing, DEFAULT_MAP_SMOOTHING } from '../../common/map-smoothing.js';
import { imageIdOf, openAnalysis } from '../analysis.js';
import { checkFlags, flagNumber, flagValue, parseArgs, type Command } from '../command.js';

export const pcaCommand: Command = {
  name: 'pca',
  summary: 'fit the collection PCA and write PCA maps',
  usage:
    "usage: dinoscope pca --project P [--threshold T|none] [--smoothing S] [--out DIR] [--image I] [--set FEATURESET]\n\nUses the project's active feature set unless --set names another (dinoscope sets lists them).\nWrites <image>.pca.png per image (RGB = first three foreground components, transparent background).\nForeground: the tissue mask of a set extracted with one; the first component above 0 for a set extracted\nwith --mask off. --threshold T: the first component above T; none: every indexed patch.\n" +
    `--smoothing S: each patch's features averaged with its neighbours' (Gaussian, σ S patches, 0 off; default ${DEFAULT_MAP_SMOOTHING}) before the PCA is fitted and drawn.\n` +
    'Prints JSON {dir, paths, samples, threshold (null: none), smoothing, featureSet} on stdout.',
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv);
    checkFlags(flags, ['project', 'threshold', 'smoothing', 'out', 'image', 'set'], 'pca');
    if (positional.length) throw new DinoscopeError('BAD_INPUT', `unexpected argument "${positional[0]}".`);
    const smoothing = checkMapSmoothing(flagNumber(flags, 'smoothing', false) ?? DEFAULT_MAP_SMOOTHING);
    const service = await openAnalysis(flags);
    const threshold = flagValue(flags, 'threshold') === 'none' ? null : flagNumber(flags, 'threshold', false);
    const fc = await service.collection();
    io.stderr(`pca: feature set ${fc.set.id}; fitting on up to 8000 patches of ${fc.images.size} images…\n`);
    const fit = await service.pcaFit(fc, threshold, smoothing);
    const pcaThreshold = fit.threshold;
    const image = flagValue(flags, 'image');
    const r = await service.exportAnalysis({
      format: 'png',
      what: 'pca',
      pcaThreshold,
      smoothing,
      dir: flagValue(flags, 'out'),
      ...(image ? { imageIds: [imageIdOf(service, image)] } : {}),
    });
    io.stderr(`pca: wrote ${r.paths.length} maps to ${r.dir}\n`);
    io.stdout(
      JSON.stringify(
        { dir: r.dir, paths: r.paths, samples: fit.samples, threshold: pcaThreshold, smoothing, featureSet: fc.set.id },
        null,
        2,
      ) + '\n',
    );
    return 0;
  },
};
