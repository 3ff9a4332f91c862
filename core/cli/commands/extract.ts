// `dinoscope extract --project P --model M [--mpp X | --level L] [--context auto|whole|tiled] [--device auto|cpu|webgpu|cuda] [--mask auto|off|brightfield|fluorescence] [--batch N] [--threads T] [--image ID…] [--channels per-channel|channels]`:
// dense patch features of every readable image into the project's feature store and search index.
// Progress lines on stderr; the ExtractSummary as JSON on stdout. Interrupt and rerun to resume.
import { join, resolve } from 'node:path';
import type { ExtractOptions } from '../../common/api.js';
import { EXTRACT_CHANNEL_EXPLAINED, EXTRACT_CHANNEL_ROUTES } from '../../common/channel-routes.js';
import { DinoscopeError } from '../../common/errors.js';
import { MASK_EXPLAINED, MASK_SETTINGS } from '../../common/foreground-mask.js';
import { EXTRACT_DEVICES } from '../../features/extract/device.js';
import { extractFeatures } from '../../features/extract/project.js';
import { describeStore } from '../../features/index/store.js';
import { EtaEstimator } from '../../jobs/eta.js';
import { JobRegistry } from '../../jobs/registry.js';
import { ModelManager } from '../../model/manager/manager.js';
import { Project } from '../../project/project.js';
import { flagNumber, flagValue, parseArgs, type Command } from '../command.js';
import { SHARD_FLAGS, shardPart } from './extract-shard.js';

const KNOWN = new Set([
  'project',
  'model',
  'mpp',
  'level',
  'context',
  'device',
  'batch',
  'threads',
  'image',
  'activate',
  'mask',
  'channels',
  ...SHARD_FLAGS,
]);
const CONTEXTS = ['auto', 'whole', 'tiled'] as const;

export const extractCommand: Command = {
  name: 'extract',
  flags: [...KNOWN],
  summary: "dense patch features of a project's images with a model",
  usage:
    'usage: dinoscope extract --project P --model M [--mpp X | --level L] [--context auto|whole|tiled] [--device auto|cpu|webgpu|cuda] [--mask auto|off|brightfield|fluorescence] [--batch N] [--threads T] [--image ID] [--activate]\n' +
    '       [--channels per-channel|channels] [--shard I/N] [--images-from FILE]\n\n' +
    'Features go to P/cache/features/<model>-<resolution>/<image>.zarr (Zarr v3, float16) and its index/.\n' +
    '--mpp X: an image that states no µm/px is extracted at level 0 (its own pixels) when another image of the\n' +
    'project states its own (a warning, and fallbackLevel in its summary, say so); refused when none does.\n' +
    '--context whole: one forward pass per image (exact whole-image context; refused for an image too large);\n' +
    'tiled: tiles with context margins (any size); auto (default): whole if every image fits, else tiled.\n' +
    'Background tiles (no tissue on the thumbnail) are skipped when tiled. Interrupted runs resume where they stopped.\n' +
    '--device auto (default): the GPU the hardware probe finds (cuda, webgpu), else cpu; cpu: never probes; webgpu|cuda:\n' +
    'that provider, or cpu with a warning when it is not available. --batch defaults to 8 tiles on cpu, 32 on a GPU.\n' +
    "The set becomes the project's active feature set when the run completes if none is active, or with --activate\n" +
    '(dinoscope sets lists and chooses sets).\n' +
    "--mask: which patches are foreground, indexed for search and clusters (each image's share is in the summary;\n" +
    'a share under half is also said on stderr):\n' +
    MASK_SETTINGS.map((m) => `  ${m}${m === 'auto' ? ' (default)' : ''}: ${MASK_EXPLAINED[m]}\n`).join('') +
    "--channels: how multi-channel (fluorescence) images reach the model (default: the model's own: an RGB model\n" +
    'takes per-channel, a model of the panel channels); a model that cannot take the one asked is refused:\n' +
    EXTRACT_CHANNEL_ROUTES.map((r) => `  ${r}: ${EXTRACT_CHANNEL_EXPLAINED[r]}\n`).join('') +
    '--shard I/N (0 ≤ I < N): only the images whose id hashes to shard I of N; --images-from FILE: only the images\n' +
    'FILE names (an image path, file name or id a line; # comments). Shards may run at once, on several machines\n' +
    'sharing the project folder (a lock per image); they build no search index: run dinoscope index once they are\n' +
    'all done (docs/cluster.md).\n' +
    'Prints a JSON summary on stdout.',
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv, ['activate']);
    for (const k of flags.keys())
      if (!KNOWN.has(k)) throw new DinoscopeError('BAD_INPUT', `unknown option --${k} (see dinoscope extract --help).`);
    if (positional.length) throw new DinoscopeError('BAD_INPUT', `unexpected argument "${positional[0]}".`);
    const projectArg = flagValue(flags, 'project');
    const modelId = flagValue(flags, 'model');
    if (!projectArg) throw new DinoscopeError('BAD_INPUT', 'needs --project P (a project folder).');
    if (!modelId) throw new DinoscopeError('BAD_INPUT', 'needs --model M (a model id; see dinoscope models list).');
    const projectDir = resolve(projectArg);
    if (!(await Project.exists(projectDir)))
      throw new DinoscopeError('BAD_INPUT', `${projectDir} is not a Dinoscope project (no project.json).`);
    const options: ExtractOptions = { modelId };
    if (typeof flags.get('activate') === 'string') throw new DinoscopeError('BAD_INPUT', '--activate takes no value.');
    if (flags.get('activate') === true) options.activate = true;
    const mpp = flagNumber(flags, 'mpp', false);
    const level = flagNumber(flags, 'level', true);
    const batch = flagNumber(flags, 'batch', true);
    const threads = flagNumber(flags, 'threads', true);
    if (mpp !== undefined) options.mpp = mpp;
    if (level !== undefined) options.level = level;
    if (batch !== undefined) options.batch = batch;
    const context = flagValue(flags, 'context');
    if (context !== undefined) {
      const c = CONTEXTS.find((x) => x === context);
      if (!c) throw new DinoscopeError('BAD_INPUT', `--context must be auto, whole or tiled, got "${context}".`);
      options.context = c;
    }
    const device = flagValue(flags, 'device');
    if (device !== undefined) {
      const d = EXTRACT_DEVICES.find((x) => x === device);
      if (!d) throw new DinoscopeError('BAD_INPUT', `--device must be auto, cpu, webgpu or cuda, got "${device}".`);
      options.device = d;
    }
    const mask = flagValue(flags, 'mask');
    if (mask !== undefined) {
      const m = MASK_SETTINGS.find((x) => x === mask);
      if (!m) throw new DinoscopeError('BAD_INPUT', `--mask must be auto, off, brightfield or fluorescence, got "${mask}".`);
      options.mask = m;
    }
    const channels = flagValue(flags, 'channels');
    if (channels !== undefined) {
      const c = EXTRACT_CHANNEL_ROUTES.find((x) => x === channels);
      if (!c) throw new DinoscopeError('BAD_INPUT', `--channels must be ${EXTRACT_CHANNEL_ROUTES.join(' or ')}, got "${channels}".`);
      options.channels = c;
    }
    const image = flagValue(flags, 'image');
    if (image !== undefined) options.imageIds = [image];
    if (threads !== undefined && threads < 1) throw new DinoscopeError('BAD_INPUT', `--threads must be at least 1, got ${threads}.`);
    const project = await Project.open(projectDir);
    const part = await shardPart(project, flags, image);
    if (part) {
      io.stderr(`extract: ${part.line}; the search index is left to dinoscope index.\n`);
      if (part.imageIds.length === 0) {
        io.stdout(JSON.stringify({ images: [], patches: 0, seconds: 0 }, null, 2) + '\n');
        return 0;
      }
      options.imageIds = part.imageIds;
    }
    const models = new ModelManager({ projectDir: () => projectDir, jobs: new JobRegistry() });
    await models.find(modelId).catch((e: unknown) => {
      throw new DinoscopeError('BAD_INPUT', e instanceof Error ? e.message : String(e));
    });
    let last = 0;
    const eta = new EtaEstimator(); // the ETA every job shows (core/jobs/eta.ts)
    const summary = await extractFeatures(project, models, options, {
      signal: io.signal,
      threads,
      ...part?.hooks,
      log: (line) => io.stderr(`${line}\n`),
      progress: (done, total, message) => {
        const t = performance.now();
        eta.add(t, done);
        if (t - last < 1000 && done < total) return;
        last = t;
        const left = total > 0 ? eta.eta(total) : null;
        io.stderr(
          `extract: ${done}/${total} tiles (${total ? Math.floor((100 * done) / total) : 100}%) ${message}${left !== null && done < total ? `, ${Math.ceil(left)} s left` : ''}\n`,
        );
      },
    });
    // Where the set will be searched from (in memory, or LanceDB beyond RAM: dinoscope index).
    const indexStore = await describeStore(join(summary.dir, 'index')).catch(() => null); // null: no index (no patches)
    if (indexStore) io.stderr(`extract: search index: ${indexStore.reason}.\n`);
    io.stdout(JSON.stringify(indexStore ? { ...summary, indexStore } : summary, null, 2) + '\n');
    return 0;
  },
};
