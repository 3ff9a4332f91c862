// `dinoscope models list|catalogue|import|download|delete|export`: the model manager from the command line.
// Results as JSON on stdout; download/import progress on stderr.
import { copyFile, mkdir } from 'node:fs/promises';
import { replaceAtomic } from '../../io/atomic.js';
import { join, resolve } from 'node:path';
import type { JobProgress, ModelImportOptions } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import { JobRegistry } from '../../jobs/registry.js';
import { ModelManager } from '../../model/manager/manager.js';
import { Project } from '../../project/project.js';
import { exportWeights } from '../../model/weights/export.js';
import { exportOnnx } from '../../model/weights/onnx-export.js';
import { attachDinoTxt, DINOTXT_DIR, readAttachedDinoTxt } from '../../model/text/attached.js';
import { exportTextOnnx, exportVisionOnnx } from '../../model/text/graphs.js';
import { hostTensor } from '../../graph/tensor.js';
import { type ViTConfig, type ViTOverrides, type ViTSize, VIT_SIZES, vitConfig } from '../../model/config.js';
import { type PresetName, PRESET_INFO, scratchViT, trainConfig } from '../../train/config.js';
import { flagNumber, parseArgs, type CliIo, type Command } from '../command.js';

const USAGE = `usage: dinoscope models <action> [options]

actions:
  list                         models in the user's models folder (and --project's models/), as JSON
  catalogue                    well-known checkpoints downloadable by id (gated ones say so)
  init                         a freshly initialised (untrained) model: the baseline a trained model is
                               judged against; --preset quick|standard (the architecture that preset
                               trains, default quick) or --size tiny|small|base|large with --arch
                               dinov2|dinov3, --patch P, --registers R, --layerscale G; --seed S (default 0)
  import <file|folder>         copy a .safetensors or PyTorch .pth (config.json beside it) or a model folder in
  download <id|url>            a catalogue id or an http(s) URL of a .safetensors file
  delete <id>                  remove a model folder
  attach-text <id> --weights <file> --vocab <file>
                               attach a dino.txt text tower and vision head (the official
                               ..._dinotxt_vision_head_and_text_encoder .pth or its keys in .safetensors;
                               heads from a config.json beside it, else 64-wide) and its BPE vocabulary
                               (bpe_simple_vocab_16e6.txt.gz for the released model) to the backbone it was
                               trained on; features extracted with the model then answer text queries
                               (dinoscope search --text)
  export <id> --out <dir>      write the weights in --format hf (default; + config.json), original or timm,
                               or --format onnx: a standalone inference model (model.onnx), input 'images'
                               (B, 3, H, W) with dynamic batch, height and width (H, W multiples of the
                               patch size); --batch B and/or --size H[xW] fix those dims instead; a model
                               with a dino.txt text tower also gets text.onnx ('tokens' (B, C) int64 →
                               'text' (B, E)), vision.onnx (backbone + head: 'cls', 'patches', 'image')
                               and vocab.txt.gz

options:
  --project <dir>              also use <dir>/models (listed first; where --location project puts models)
  --location user|project      where import/download put the model (default user)
  --name <name>                the model's name (its id is made from it)
  --token <token>              access token for gated downloads (default: $HF_TOKEN)
  --sha256 <hex>               expected checksum of a URL download
  --dtype F32|F16|BF16         export precision (default F32)

The user's models folder is $DINOSCOPE_HOME/models, else ~/.local/share/dinoscope/models.`;

const KNOWN = new Set([
  'project',
  'location',
  'name',
  'token',
  'sha256',
  'out',
  'format',
  'dtype',
  'batch',
  'size',
  'preset',
  'arch',
  'patch',
  'registers',
  'layerscale',
  'seed',
  'weights',
  'vocab',
]);

function str(flags: Map<string, string | true>, name: string): string | undefined {
  const v = flags.get(name);
  if (v === true) throw new DinoscopeError('BAD_INPUT', `--${name} needs a value.`);
  return v;
}

function progressPrinter(io: CliIo): (p: JobProgress) => void {
  return (p) => {
    if (p.state === 'failed' || (p.state === 'running' && p.done === 0)) return; // the error line says why it failed
    if (p.state === 'running') {
      const pct = p.total > 0 ? `${Math.min(100, Math.round((100 * p.done) / p.total))}%` : `${(p.done / 1e6).toFixed(1)} MB`;
      io.stderr(`${p.label}: ${pct}${p.message ? ` (${p.message})` : ''}\n`);
    } else io.stderr(`${p.label}: ${p.state}${p.message ? ` (${p.message})` : ''}\n`);
  };
}

export const modelsCommand: Command = {
  name: 'models',
  summary: 'list, import, download, delete and export ViT models (JSON out)',
  usage: USAGE,
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv);
    for (const k of flags.keys())
      if (!KNOWN.has(k)) throw new DinoscopeError('BAD_INPUT', `unknown option --${k} (see dinoscope models --help).`);
    const [action, arg, ...extra] = positional;
    if (extra.length) throw new DinoscopeError('BAD_INPUT', `unexpected argument "${extra[0]}".`);
    const projectArg = str(flags, 'project');
    const projectDir = projectArg ? resolve(projectArg) : null;
    if (projectDir && !(await Project.exists(projectDir)))
      throw new DinoscopeError('BAD_INPUT', `${projectDir} is not a Dinoscope project (no project.json).`);
    const location = str(flags, 'location');
    if (location !== undefined && location !== 'user' && location !== 'project')
      throw new DinoscopeError('BAD_INPUT', `--location must be user or project (got ${location}).`);
    const opts: ModelImportOptions = { ...(location ? { location } : {}), ...(str(flags, 'name') ? { name: str(flags, 'name') } : {}) };
    const jobs = new JobRegistry();
    const off = jobs.on(progressPrinter(io));
    const onAbort = (): void => {
      for (const j of jobs.running()) jobs.get(j.jobId)?.cancel();
    };
    io.signal.addEventListener('abort', onAbort);
    const manager = new ModelManager({ projectDir: () => projectDir, jobs });
    const out = (v: unknown): number => {
      io.stdout(`${JSON.stringify(v, null, 2)}\n`);
      return 0;
    };
    const needArg = (what: string): string => {
      if (!arg) throw new DinoscopeError('BAD_INPUT', `models ${action} needs ${what} (see dinoscope models --help).`);
      return arg;
    };
    try {
      switch (action) {
        case 'list': {
          const list = await manager.list();
          for (const p of manager.problems) io.stderr(`dinoscope models: skipped ${p}\n`);
          return out(list);
        }
        case 'catalogue':
          return out(await manager.catalogue());
        case 'init':
          if (arg !== undefined)
            throw new DinoscopeError('BAD_INPUT', `models init takes no argument (got "${arg}"); name the model with --name.`);
          return out(await manager.initRandom(initConfig(flags), flagNumber(flags, 'seed', true) ?? 0, opts));
        case 'import':
          return out(await manager.importAsJob(resolve(needArg('a .safetensors or .pth file or a model folder')), opts));
        case 'download': {
          const token = str(flags, 'token');
          const sha256 = str(flags, 'sha256');
          return out(
            await manager.downloadAsJob(needArg('a catalogue id or a URL'), {
              ...opts,
              ...(token ? { token } : {}),
              ...(sha256 ? { sha256 } : {}),
            }),
          );
        }
        case 'delete': {
          const m = await manager.find(needArg('a model id'));
          await manager.remove(m.id);
          return out({ deleted: m.id, path: m.path });
        }
        case 'attach-text': {
          const weights = str(flags, 'weights');
          const vocab = str(flags, 'vocab');
          if (!weights || !vocab) throw new DinoscopeError('BAD_INPUT', 'models attach-text needs --weights <file> and --vocab <file>.');
          const m = await manager.find(needArg('a model id'));
          const loaded = await manager.load(m.id);
          io.stderr(`models: checking ${weights} against ${m.id}…\n`);
          const r = await attachDinoTxt(m.path, loaded.config, resolve(weights), resolve(vocab));
          return out({ model: m.id, path: join(m.path, DINOTXT_DIR), ...r });
        }
        case 'export': {
          const dir = str(flags, 'out');
          if (!dir) throw new DinoscopeError('BAD_INPUT', 'models export needs --out <dir>.');
          const format = str(flags, 'format') ?? 'hf';
          if (format === 'onnx') return out(await exportOnnxCommand(manager, needArg('a model id'), resolve(dir), flags));
          if (format !== 'hf' && format !== 'original' && format !== 'timm')
            throw new DinoscopeError('BAD_INPUT', `--format must be hf, original, timm or onnx (got ${format}).`);
          const dtype = str(flags, 'dtype') ?? 'F32';
          if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16')
            throw new DinoscopeError('BAD_INPUT', `--dtype must be F32, F16 or BF16 (got ${dtype}).`);
          const loaded = await manager.load(needArg('a model id'));
          const r = await exportWeights(resolve(dir), loaded.config, loaded.tensors, format, {
            dtype,
            metadata: { dinoscope_model: loaded.model.id },
          });
          for (const n of r.notes) io.stderr(`note: ${n}\n`);
          return out(r);
        }
        default:
          throw new DinoscopeError(
            'BAD_INPUT',
            action
              ? `unknown action "${action}" (list, catalogue, init, import, download, delete, attach-text, export).`
              : 'needs an action: list, catalogue, init, import, download, delete, attach-text or export.',
          );
      }
    } finally {
      off();
      io.signal.removeEventListener('abort', onAbort);
    }
  },
};

/** `models export <id> --format onnx --out <dir> [--batch B] [--size H[xW]]`: dynamic dims unless fixed. */
async function exportOnnxCommand(manager: ModelManager, id: string, dir: string, flags: Map<string, string | true>): Promise<unknown> {
  const b = str(flags, 'batch');
  const size = str(flags, 'size');
  const m = size === undefined ? null : /^(\d+)(?:x(\d+))?$/.exec(size);
  if (size !== undefined && !m) throw new DinoscopeError('BAD_INPUT', `--size must be H or HxW in pixels (got ${size}).`);
  const fixed = {
    batch: b === undefined ? undefined : Number(b),
    height: m ? Number(m[1]) : undefined,
    width: m ? Number(m[2] ?? m[1]) : undefined,
  };
  const loaded = await manager.load(id);
  await mkdir(dir, { recursive: true });
  const backbone = await exportOnnx(join(dir, 'model.onnx'), loaded.config, loaded.tensors, fixed);
  const text = await readAttachedDinoTxt(loaded.model.path);
  if (!text) return backbone;
  // A dino.txt model also gets its text tower ('tokens' → 'text') and backbone + vision head ('images' →
  // 'cls', 'patches', 'image'), dynamic batch (and image size).
  const values = Object.fromEntries([...loaded.tensors].map(([k, t]) => [k, hostTensor('float32', t.shape, t.data)]));
  const textBytes = await exportTextOnnx(join(dir, 'text.onnx'), text.config, text.tensors);
  const visionBytes = await exportVisionOnnx(join(dir, 'vision.onnx'), loaded.config, values, text.config, text.tensors);
  await replaceAtomic(join(dir, 'vocab.txt.gz'), (tmp) => copyFile(join(text.dir, 'vocab.txt.gz'), tmp));
  return {
    ...backbone,
    dinotxt: {
      text: { path: join(dir, 'text.onnx'), bytes: textBytes },
      vision: { path: join(dir, 'vision.onnx'), bytes: visionBytes },
      vocab: join(dir, 'vocab.txt.gz'),
    },
  };
}

/** `models init`: the ViT config of --preset, or of --size with the architecture flags. */
function initConfig(flags: Map<string, string | true>): ViTConfig {
  const preset = str(flags, 'preset');
  const size = str(flags, 'size');
  const archFlags = ['arch', 'patch', 'registers', 'layerscale'].filter((f) => flags.has(f));
  if (preset !== undefined && (size !== undefined || archFlags.length))
    throw new DinoscopeError(
      'BAD_INPUT',
      `models init: --preset gives the whole architecture; leave out --${size !== undefined ? 'size' : archFlags[0]}.`,
    );
  if (size === undefined) {
    if (archFlags.length) throw new DinoscopeError('BAD_INPUT', `models init: --${archFlags[0]} needs --size tiny|small|base|large.`);
    const name = preset ?? 'quick';
    const info = PRESET_INFO.find((p) => p.name === name && p.stage === 'pretrain');
    if (!info)
      throw new DinoscopeError(
        'BAD_INPUT',
        `--preset must be one of ${PRESET_INFO.filter((p) => p.stage === 'pretrain')
          .map((p) => p.name)
          .join(', ')} (got ${name}).`,
      );
    return scratchViT(trainConfig(info.name as PresetName));
  }
  if (!(size in VIT_SIZES)) throw new DinoscopeError('BAD_INPUT', `--size must be tiny, small, base or large (got ${size}).`);
  const o: ViTOverrides = {};
  const arch = str(flags, 'arch');
  if (arch !== undefined) {
    if (arch !== 'dinov2' && arch !== 'dinov3') throw new DinoscopeError('BAD_INPUT', `--arch must be dinov2 or dinov3 (got ${arch}).`);
    o.arch = arch;
  }
  const patch = flagNumber(flags, 'patch', true);
  const registers = flagNumber(flags, 'registers', true);
  const gamma = flagNumber(flags, 'layerscale', false);
  if (patch !== undefined) o.patchSize = patch;
  if (registers !== undefined) o.registers = registers;
  if (gamma !== undefined) o.layerScale = { init: gamma };
  return vitConfig(size as ViTSize, o);
}
