// The training configuration: one strict object with every default in this file and a comment per key
// (recipe §2, §3, §5; the dinov2 ssl_default_config.yaml keys it mirrors are named). A run is a preset plus
// strict overrides: unknown keys and wrong types are BAD_INPUT. The merged config is saved with every
// checkpoint. A checked config is deeply frozen: what was validated is what trains.
import { DinoscopeError } from '../common/errors.js';
import { deepFreeze } from '../common/freeze.js';
import { DEVICE_REQUESTS, type DeviceRequest } from '../hardware/device.js';
import { PRECISION_REQUESTS, type PrecisionRequest } from './precision.js';
import { type ViTConfig, type ViTOverrides, type ViTSize, VIT_SIZES, vitConfig } from '../model/config.js';
import { type HeadConfig } from './heads.js';
import { type GramRefreshRule, type GramWeightSchedule } from './gram/schedule.js';
import { type Replan, validateReplans } from './schedule-plan.js';
import { type SizeEntry, SIZE_PRESETS, fitToPatch, validateSizeTable } from './gram/sizes.js';

export type PresetName = 'quick' | 'standard' | 'adapt-cpu' | 'adapt-gpu' | 'capi';
/** 'dino': DINO + iBOT + KoLeo self-distillation; 'capi': CAPI clustering-based masked image modelling (capi/README.md). */
export type TrainObjective = 'dino' | 'capi';
/** 'pretrain': DINO + iBOT + KoLeo (Gram optional); 'adapt': high-resolution adaptation of a model (recipe §4). */
export type TrainStage = 'pretrain' | 'adapt';

export interface TrainConfig {
  /** The preset this config started from (informational). */
  preset: PresetName;
  /** Pretraining, or high-resolution adaptation (needs model.from; the Gram teacher is that model). */
  stage: TrainStage;
  /** What the run optimises: DINO + iBOT + KoLeo, or CAPI (core/train/capi: its own trainer, the `capi` keys). */
  objective: TrainObjective;
  /** Seeds parameter init, crops, masks and RoPE augmentation; the whole run is a function of it. */
  seed: number;
  /** Total optimiser steps: the horizon of every schedule. */
  steps: number;
  /** Changes of `steps` after the run started, in order (schedule-plan.ts): a minutes budget re-estimating its
   * step count, a run extended by more steps or minutes. Written by the run; [] for a run of fixed length. */
  replans: Replan[];
  /** B: tiles per step (each gives 2 global + nLocal local crops). Also scales the lr (√(B/1024)). */
  batchSize: number;
  model: {
    /** Named size (tiny, small, base, large) when training from scratch. */
    size: ViTSize;
    /** ViTConfig overrides (arch, patchSize, registers, depth, dim, …), checked by core/model vitConfig. */
    vit: ViTOverrides;
    /** A model folder or .safetensors file to start from (continued pretraining), or null: from scratch. */
    from: string | null;
    /**
     * null: RGB images (3 input channels, the default). C: the images are a C-channel fluorescence panel (their
     * channels in file order, core/data/channel-scaling.ts): from scratch the backbone takes C input channels;
     * from an RGB model (model.from) its patch embedding is inflated to C channels (core/model/inflate.ts).
     */
    channels: number | null;
  };
  crops: {
    /** Global crop side (px); must divide by the patch size. */
    globalSize: number;
    /** Local crop side (px); must divide by the patch size. */
    localSize: number;
    /** Local crops per tile (reference 8). 0 turns multi-crop off. */
    localCrops: number;
    /**
     * The photometric augmentations of RGB crops (dinov2 DataAugmentationDINO): colour jitter probability,
     * its strength as a multiple of the reference's ColorJitter(0.4, 0.4, 0.2, 0.1), grayscale probability
     * and global crop 2's solarize probability. Reference 0.8, 1, 0.2, 0.2 (every preset). They make the
     * features invariant to colour, which separates stains and tissue classes; all off measured slightly better
     * after 40 Quick steps (demo textures p@10 0.742 vs 0.705, held-out 0.545 over 3 seeds), not yet enough to
     * change a preset (README "Short runs", colour augmentations).
     */
    colour: { jitterP: number; jitterStrength: number; grayscaleP: number; solarizeP: number };
  };
  data: {
    /** Target resolution of training tiles in µm per pixel; null: pyramid level `level` of every image. */
    mpp: number | null;
    /** Pyramid level sampled when mpp is null or an image does not state its resolution. */
    level: number;
    /** 'image': every image equally likely; 'area': weighted by tissue area. */
    balance: 'image' | 'area';
    /** Microscopy augmentations (off by default): vertical flips, 90° rotations, HED stain jitter σ (0 = off). */
    microscopy: { vflip: boolean; rot90: boolean; hedSigma: number };
    /**
     * A curated tile list of the project to sample from (`dinoscope curate`: cache/curation/NAME.json, made by
     * core/features/curation); null: points drawn uniformly from each image's tissue.
     */
    tiles: string | null;
  };
  masking: {
    /** Fraction of global crops that get iBOT masks (ibot.mask_sample_probability 0.5). */
    maskProbability: number;
    /** Masked fraction range of a masked crop (ibot.mask_ratio_min_max [0.1, 0.5]). */
    ratio: [number, number];
    /** DINOv3's exact mask counts. */
    exact: boolean;
  };
  head: {
    /** K prototypes of the DINO and iBOT heads (reference 65536; small data and CPUs want far fewer). */
    prototypes: number;
    /** Hidden width (reference 2048). */
    hidden: number;
    /**
     * Bottleneck width (reference 256). The DINO / iBOT logits are cosines of the unit bottleneck vector with
     * weight-normalised prototypes, spread 1/√bottleneck at init: at 256 the Quick preset's DINO CLS loss sits at
     * ln K through a 260-step run, at 64 it leaves ln K within 12 steps, but held-out p@10 did not follow after
     * 40 steps (README "Short runs", bottleneck): not yet a preset change.
     */
    bottleneck: number;
    /** 'auto': weight-normalised last layer for dinov2, plain for dinov3. */
    lastLayer: 'auto' | HeadConfig['lastLayer'];
  };
  loss: {
    /** τ_s (dino.student_temp 0.1). */
    studentTemp: number;
    dinoWeight: number;
    ibotWeight: number;
    /** dino.koleo_loss_weight 0.1 (applied to the sum over the two global crops). */
    koleoWeight: number;
    /** Weight of the local-crop DINO pairs (1; DINOv3 high-res adaptation 0.5); the pair count still normalises. */
    localWeight: number;
    /** KoLeo nearest neighbours only within groups of this many consecutive samples (DINOv3 16); 0 = whole batch. */
    koleoGroup: number;
    /**
     * Distillation only: weight of the patch-similarity term, the mean squared difference between the student's
     * and the frozen teacher's per-image Gram matrices of L2-normalised patch tokens (gram/loss.ts, the teacher in
     * the Gram teacher's place); 0 = off, the default (pretraining ignores it). core/train/distill/README.md gives
     * its measured effect on the quality fixture.
     */
    patchSim: number;
    /**
     * Distillation only: weight of the feature-regression term, the mean cosine distance between each student
     * patch token and the frozen teacher's token at the same position, the teacher's tokens centred, projected
     * and whitened on their top principal components (distill/feature-loss.ts); 0 = off, the default here
     * (pretraining ignores it); distillation's default is 5 (distill/config.ts DISTIL_OVERRIDES).
     */
    featureDistil: number;
  };
  /**
   * CAPI (objective 'capi'; capi/default_pretrain_config.yaml keys named). The student's optimiser uses optim.*
   * (baseLr unscaled by the batch, as the official run; no clipping), the EMA teacher teacher.momentum /
   * momentumHorizon; the images of a step are the 2B global crops.
   */
  capi: {
    /** K clusters of the online clustering head (capi.num_clusters 16384). */
    prototypes: number;
    /** τ of the student's prediction (capi.student_temp 0.12). */
    studentTemp: number;
    /** τ of the Sinkhorn-Knopp targets (clustering_kwargs.target_temp 0.06). */
    targetTemp: number;
    /** τ of the clustering head's own loss (clustering_kwargs.pred_temp 0.12). */
    predTemp: number;
    /** Sinkhorn-Knopp iterations (clustering_kwargs.n_sk_iter 3). */
    sinkhornIterations: number;
    /** Masked fraction of the patches; the visible rest is one wrapped block (data.mask_ratio 0.65). */
    maskRatio: number;
    /** Fraction of the masked patches that are predicted (data.prediction_subsampling 0.05). */
    predictFraction: number;
    /** Cross-attention predictor blocks (model.decoder_kwargs.depth 12 for ViT-L/24). */
    predictorDepth: number;
    /** The clustering head's own AdamW: peak lr (clustering_optimizer.lr_schedule.base_value 5e-4) and weight decay (torch's AdamW default 0.01). */
    clusteringLr: number;
    clusteringWeightDecay: number;
    /** Fraction of the cosine run (lr_schedule.truncate_cos 0.8): the lr stops above its final value. */
    truncateCos: number;
    /** Weight-decay multiplier of norm weights (optim.layernorm_wd_mult 0.1). */
    normWdMult: number;
  };
  gram: {
    /** Gram anchoring (recipe §3): the student's global patch tokens against a frozen Gram teacher's. */
    enabled: boolean;
    /** Loss weight once ramped in (Gram stage 2.0, high-res adaptation 1.5). */
    weight: number;
    /** Cosine ramp-in of the weight over this many steps from startStep (0: constant). */
    rampSteps: number;
    /** First step of the Gram stage (weight 0 before; the 'ema' teacher is copied here). */
    startStep: number;
    /** 'start': the model the run starts from (fine-tuning, adaptation); 'ema': a copy of the EMA teacher. */
    teacher: 'start' | 'ema';
    /** Refresh the 'ema' Gram teacher every this many steps after startStep (reference 10k; 0 = never). */
    refreshEvery: number;
    /** At most this many refreshes (reference 3). */
    maxRefreshes: number;
    /** Gram crop side = scale × the global side (rounded to the patch) when no size table is used (reference 2). */
    scale: number;
    /** Per-step (global, local, gram) size table (high-res adaptation): a preset of core/train/gram/sizes.ts or 'none'. */
    sizes: 'none' | 'cpu' | 'gpu' | 'reference';
    /** An explicit size table (overrides `sizes` when non-empty); sides are rounded to the patch size. */
    sizeTable: SizeEntry[];
  };
  health: {
    /** Dense-feature health of the teacher on the fixed probe tiles every this many steps (and first/last step); 0 = off. */
    every: number;
    /** Probe tiles (the first batch's first global crops, kept in the checkpoint). */
    tiles: number;
    /** Probe patches per tile. */
    perImage: number;
    /** Locality radius in patches. */
    radius: number;
  };
  teacher: {
    /** EMA momentum at step 0; cosine to 1 at the end (teacher.momentum_teacher 0.992). */
    momentum: number;
    /**
     * Short runs: the EMA horizon 1/(1 − m₀) is at most this fraction of the run, m₀ = min(momentum,
     * 1 − 1/(fraction · steps)); 0 = off (m₀ = momentum, the reference). See schedule.ts startMomentum.
     */
    momentumHorizon: number;
    /** Teacher temperature at step 0 (teacher.warmup_teacher_temp 0.04). */
    tempStart: number;
    /** Teacher temperature after warmup (teacher.teacher_temp 0.07). */
    temp: number;
    /** Fraction of the run over which τ_t warms up linearly (30 of 100 epochs = 0.3). */
    tempWarmupFraction: number;
    /** 'ema' centering (v2 default), 'sinkhorn' (v2 L/g, v3), 'auto': by arch. */
    centering: 'auto' | 'ema' | 'sinkhorn';
    /** EMA momentum of the centers (dino.center_momentum 0.9). */
    centerMomentum: number;
    /** Sinkhorn-Knopp iterations (3). */
    sinkhornIterations: number;
  };
  optim: {
    /** lr before the √(B/1024) scaling (optim.base_lr 0.004). */
    baseLr: number;
    /** Final lr of the cosine (optim.min_lr 1e-6). */
    minLr: number;
    /** Linear warmup as a fraction of the run (10 of 100 epochs = 0.1). */
    warmupFraction: number;
    /** Weight decay at step 0 (optim.weight_decay 0.04), cosine to weightDecayEnd (0.4). */
    weightDecay: number;
    weightDecayEnd: number;
    /** Layer-wise lr decay rate (optim.layerwise_decay 0.9). */
    layerDecay: number;
    /** lr multiplier of the patch embedding (optim.patch_embed_lr_mult 0.2). */
    patchEmbedLrMult: number;
    /** Global-norm gradient clip per submodule: backbone, dino head, ibot head (optim.clip_grad 3.0). */
    clipGrad: number;
    /** Fraction of the run with the heads' last layers frozen (1 of 100 epochs = 0.01). */
    freezeLastLayerFraction: number;
    /** AdamW betas (optim.adamw_beta1/2). */
    beta1: number;
    beta2: number;
  };
  runtime: {
    /**
     * Where the run's graphs run (core/hardware/device.ts, as extraction's device): 'cpu'; 'auto' the hardware
     * probe's pick (cuda, webgpu, else cpu); 'webgpu' / 'cuda', or the CPU with a plain-words warning when the
     * probe did not find it. Presets sized for a GPU default to 'auto', those for the CPU to 'cpu'.
     */
    device: DeviceRequest;
    /**
     * 'mixed': float16 matrix products on float32 master weights with dynamic loss scaling (core/graph/amp.ts);
     * 'fp32'; 'auto' (every preset): mixed where the device runs float16 (CUDA, WebGPU with shader-f16), fp32
     * on the CPU (core/train/precision.ts). Mixed where it cannot run trains in fp32 with a warning.
     */
    precision: PrecisionRequest;
    /** onnxruntime intra-op threads (0: onnxruntime's default). */
    threads: number;
    /** Recompute attention softmaxes in the backward (less memory, more time). */
    remat: boolean;
  };
}

/** The reference's photometric augmentations (dinov2/data/augmentations.py). */
export const REFERENCE_COLOUR: TrainConfig['crops']['colour'] = { jitterP: 0.8, jitterStrength: 1, grayscaleP: 0.2, solarizeP: 0.2 };

const base: Omit<TrainConfig, 'preset'> = {
  stage: 'pretrain',
  objective: 'dino',
  seed: 0,
  steps: 1000,
  replans: [],
  batchSize: 32,
  model: { size: 'tiny', vit: { arch: 'dinov2', patchSize: 16, registers: 4 }, from: null, channels: null },
  crops: { globalSize: 112, localSize: 48, localCrops: 6, colour: REFERENCE_COLOUR },
  data: { mpp: null, level: 0, balance: 'image', microscopy: { vflip: false, rot90: false, hedSigma: 0 }, tiles: null },
  masking: { maskProbability: 0.5, ratio: [0.1, 0.5], exact: false },
  head: { prototypes: 4096, hidden: 1024, bottleneck: 256, lastLayer: 'auto' },
  loss: { studentTemp: 0.1, dinoWeight: 1, ibotWeight: 1, koleoWeight: 0.1, localWeight: 1, koleoGroup: 0, patchSim: 0, featureDistil: 0 },
  capi: {
    prototypes: 16384,
    studentTemp: 0.12,
    targetTemp: 0.06,
    predTemp: 0.12,
    sinkhornIterations: 3,
    maskRatio: 0.65,
    predictFraction: 0.05,
    predictorDepth: 12,
    clusteringLr: 5e-4,
    clusteringWeightDecay: 0.01,
    truncateCos: 0.8,
    normWdMult: 0.1,
  },
  gram: {
    enabled: false,
    weight: 2,
    rampSteps: 0,
    startStep: 0,
    teacher: 'ema',
    refreshEvery: 10_000,
    maxRefreshes: 3,
    scale: 2,
    sizes: 'none',
    sizeTable: [],
  },
  health: { every: 100, tiles: 4, perImage: 16, radius: 2 },
  teacher: {
    momentum: 0.992,
    momentumHorizon: 0,
    tempStart: 0.04,
    temp: 0.07,
    tempWarmupFraction: 0.3,
    centering: 'auto',
    centerMomentum: 0.9,
    sinkhornIterations: 3,
  },
  optim: {
    baseLr: 0.004,
    minLr: 1e-6,
    warmupFraction: 0.1,
    weightDecay: 0.04,
    weightDecayEnd: 0.4,
    layerDecay: 0.9,
    patchEmbedLrMult: 0.2,
    clipGrad: 3.0,
    freezeLastLayerFraction: 0.01,
    beta1: 0.9,
    beta2: 0.999,
  },
  runtime: { device: 'cpu', precision: 'auto', threads: 0, remat: false },
};

/** The recipe's layer-wise lr decay and patch-embedding lr multiplier (§5; the defaults above), for the runs
 * that keep them where the Quick preset turns them off: continued pretraining, distillation, and the quality
 * runs that were measured with them. */
export const RECIPE_LAYER_LR = { layerDecay: base.optim.layerDecay, patchEmbedLrMult: base.optim.patchEmbedLrMult } as const;

/** Overrides each preset applies to the defaults above. */
const presets: Record<PresetName, Overrides> = {
  // Quick — CPU: ViT-Tiny/16 with 6 blocks and 4 registers, 2 × 112 px globals + 6 × 48 px locals, B 16, K 1024.
  // Three deviations for short CPU runs (hundreds to a few thousand steps), each measured with the per-step
  // probe (core/train/quality/dino-probe.ts; numbers in README.md "Short runs"): with the recipe's values the DINO
  // CLS loss sits at ln K and the teacher targets are uniform for the whole run.
  quick: {
    // More steps a minute (README.md "Eight minutes by the clock", measured on the held-out collections): half
    // ViT-Tiny's 12 blocks and half the batch buy about 3.5 × the steps in the same minutes, and in runs this
    // short the steps count for more than the depth. The features are 6 blocks deep: extraction does half the
    // work. With the half batch, measured as one change ("C1", README.md "Eight minutes on the held-out
    // photographs", +0.014 / +0.023 p@10 on two seeds): K 1024 and a 64-wide bottleneck (reference 65536 and
    // 256), no layer-wise lr decay and the patch embedding at the full lr (recipe §5: 0.9 and × 0.2, meant to
    // keep a deep network's early layers stable over 125k iterations; these two alone: +0.017).
    batchSize: 16,
    head: { prototypes: 1024, bottleneck: 64 },
    optim: { layerDecay: 1, patchEmbedLrMult: 1 },
    // LayerScale init 1 (recipe §1: 1e-5, from CaiT, meant for 125k-iteration runs of deep models; DINO v1
    // trained ViT-S/B from scratch with no LayerScale, i.e. γ ≡ 1). At 1e-5 the blocks add ~1e-5 of their
    // output to the residual stream, so the CLS token is cls_token + pos_embed[0] for every image: the
    // teacher's CLS differs across crops by 7e-5 of its size (ViT-Tiny, 8e-6 at depth 2) and its DINO logits
    // by 4e-6, ≪ τ_t, so the centred targets are exactly uniform; Adam grows γ by ~lr per step, too slowly
    // for a short run (relative spread still 3e-3 after 100 steps). γ stays trainable, without weight decay.
    model: { vit: { depth: 6, layerScale: { init: 1 } } },
    // τ_t 0.04 throughout (recipe §3: warm-up 0.04 → 0.07 over 30 % of the run; DINO v1's default is 0.04
    // constant). Cross-view pairs amplify the view-invariant part of the teacher's per-crop logits by
    // 1/τ_t − 1/τ_s and damp the view-specific part by 1/τ_s: 15 vs 10 at 0.04, 4.3 vs 10 at 0.07. A random
    // network's CLS varies mostly with colour jitter (view-specific), so at 0.07 the targets flatten out.
    // Also sets the iBOT teacher temperature (one schedule, as the reference).
    teacher: { temp: 0.04, momentumHorizon: 0.1 },
    // teacher.momentumHorizon 0.1 (recipe §5: m₀ 0.992 whatever the run length, a horizon of 0.1 % of the
    // reference's 125k iterations): m₀ = min(0.992, 1 − 10/steps), so 0.9 for 100 steps, 0.99 for 1000 and
    // the reference from 1250 on. At 0.992 the teacher of a 100-step run is still 67 % its random init
    // (schedule.ts startMomentum) — and the teacher is the model a run produces.
  },
  // Standard — GPU: ViT-S/16 with 4 registers, 2 × 224 px + 8 × 96 px, K 16384, hidden 2048.
  standard: {
    batchSize: 64,
    model: { size: 'small' },
    crops: { globalSize: 224, localSize: 96, localCrops: 8 },
    head: { prototypes: 16384, hidden: 2048, bottleneck: 256 },
    runtime: { device: 'auto' },
  },
  // High-resolution adaptation (recipe §4) of an existing model (model.from): per-step size triples, Gram
  // teacher = the starting model (never refreshed), weight 1.5, small batches, KoLeo in groups of 16,
  // local-loss weight 0.5, a short low-lr fine-tune. CPU: the CPU size table (224–320 px), B 4.
  'adapt-cpu': {
    stage: 'adapt',
    steps: 200,
    batchSize: 4,
    crops: { globalSize: 224, localSize: 64, localCrops: 4 },
    loss: { localWeight: 0.5, koleoGroup: 16 },
    gram: { enabled: true, weight: 1.5, rampSteps: 0, teacher: 'start', refreshEvery: 0, maxRefreshes: 0, sizes: 'cpu' },
    optim: { baseLr: 0.001, warmupFraction: 0.05, freezeLastLayerFraction: 0 },
    teacher: { momentum: 0.999, tempStart: 0.07 },
    runtime: { remat: true },
  },
  // One GPU: the GPU size table (384–512 px globals, 576–768 px Gram crops), B 8.
  'adapt-gpu': {
    stage: 'adapt',
    steps: 2000,
    batchSize: 8,
    model: { size: 'small' },
    crops: { globalSize: 512, localSize: 96, localCrops: 8 },
    head: { prototypes: 16384, hidden: 2048, bottleneck: 256 },
    loss: { localWeight: 0.5, koleoGroup: 16 },
    gram: { enabled: true, weight: 1.5, rampSteps: 0, teacher: 'start', refreshEvery: 0, maxRefreshes: 0, sizes: 'gpu' },
    optim: { baseLr: 0.001, warmupFraction: 0.05, freezeLastLayerFraction: 0 },
    teacher: { momentum: 0.999, tempStart: 0.07 },
    runtime: { device: 'auto', remat: true },
  },
  // CAPI — CPU: ViT-Tiny/16 (all 12 blocks, 4 registers, 112 px) trained by CAPI (capi/README.md): the
  // official optimiser (AdamW β₂ 0.95, lr 1e-3 unscaled, warm-up 10 %, cosine truncated at 0.8, wd 0.1 constant,
  // patch embedding ×0.2, no clipping, no layer decay), EMA teacher 0.999 → 1 with the Quick preset's short-run
  // horizon (m₀ ≤ 1 − 10/steps); K 4096 clusters and 4 predictor blocks (official: 16384 and 12 for ViT-L) for
  // the CPU. No local crops: CAPI trains on one view per image (the 2B global crops of a step).
  // Predicted fraction 0.5 of the masked patches (official 0.05): the official 5 % of a 224 px / 14 grid's 166
  // masked patches is 8 an image, but of this grid's 31 it is 1, and the loss has next to no signal. Measured
  // on the quality test's tuning mosaics (core/train/quality/pretrain-quality.test.ts, seed 0, 320 steps, lr
  // 0.01, momentum 0.8): 2 predicted of 41 masked left the teacher at random-init retrieval (p@10 0.551 vs
  // 0.535), half (20) gave 0.685, all (41) 0.717. 0.5 predicts 15 an image here for 6.6 % more work a step
  // (capi/estimate.ts: 199 GFLOP against 187; all 31: 213) and 12 % more memory (843 MB against 750). The quality test's other short-run values (lr, momentum, K)
  // stay in the test: capi/README.md "Short runs".
  capi: {
    objective: 'capi',
    model: { vit: { layerScale: { init: 1 } } },
    crops: { localCrops: 0 },
    capi: { prototypes: 4096, predictorDepth: 4, predictFraction: 0.5 },
    optim: {
      baseLr: 0.001,
      minLr: 0,
      warmupFraction: 0.1,
      weightDecay: 0.1,
      weightDecayEnd: 0.1,
      layerDecay: 1,
      clipGrad: 0,
      freezeLastLayerFraction: 0,
      beta2: 0.95,
    },
    teacher: { momentum: 0.999, momentumHorizon: 0.1 },
  },
};

/**
 * Continued pretraining: a pretrain run that starts from a foundation model's weights (model.from) takes
 * these over its preset, under the user's own overrides. The official repos publish no continued-pretraining
 * config; these follow their settings for the runs that start from trained weights (dinov3 high-resolution
 * adaptation and distillation, recipe §3, §4, §7) and this repo's adapt presets:
 * - Teacher = the same weights as the student at step 0 (initial.ts, as dinov2 for any run). Heads fresh:
 *   released checkpoints (torch hub, Hugging Face, timm) carry the backbone only, and a run's own checkpoint
 *   is continued with its heads by `--resume NAME --steps N` instead.
 * - lr 0.001 before the √(B/1024) scaling (a quarter of the from-scratch 0.004, the adapt presets' value):
 *   the backbone should move towards the project's images, not forget what it learnt; layer-wise decay 0.9 and
 *   the patch embedding's ×0.2 (recipe §5, which the Quick preset turns off for runs from scratch) keep the
 *   early layers closest to the foundation model.
 * - Warm-up 5 % of the run (from-scratch 10 %): the weights need no long warm-up; the fresh heads still get
 *   one (and their last layers the recipe's 1 % freeze) before large gradients reach the backbone.
 * - τ_t 0.07 from the first step (recipe §7, dinov3 distillation, which also starts from a trained teacher):
 *   the warm-up from 0.04 guards a random teacher against collapse, and the Quick preset's 0.04 throughout
 *   exists because a random network's CLS varies mostly with the colour jitter (README "Short runs"); a
 *   trained teacher's CLS varies with the content.
 * - Teacher momentum: the recipe's 0.992 → 1 (the Quick preset's short horizon is turned off): the teacher
 *   is the model a run produces, and here it starts as the foundation model; a short horizon would let the
 *   student's first steps through random heads pull it away from those weights. A deviation for short runs
 *   (a 100-step run's teacher stays about 2/3 the foundation model), chosen to keep the start's quality.
 * LayerScale init does not apply (the weights bring their own γ); crop sizes are fitted to the model's patch
 * size by the caller (core/train/route.ts), which knows the weights.
 */
export const CONTINUED_OVERRIDES: Overrides = {
  optim: { baseLr: 0.001, warmupFraction: 0.05, ...RECIPE_LAYER_LR },
  teacher: { tempStart: 0.07, temp: 0.07, momentum: 0.992, momentumHorizon: 0 },
};

/** What a preset is, for lists (the job host's trainPresets, `dinoscope adapt --help`). */
export interface PresetInfo {
  name: PresetName;
  stage: TrainStage;
  sizedFor: 'cpu' | 'gpu';
  label: string;
  description: string;
}

/** Every preset with its stage, in display order (the Train panel's cards: the description is their one line). */
export const PRESET_INFO: readonly PresetInfo[] = [
  {
    name: 'quick',
    stage: 'pretrain',
    sizedFor: 'cpu',
    label: 'Quick (CPU)',
    description: 'ViT-Tiny/16 with 6 blocks, 4 registers, 2 × 112 px + 6 × 48 px crops, B 16, K 1024.',
  },
  {
    name: 'standard',
    stage: 'pretrain',
    sizedFor: 'gpu',
    label: 'Standard (GPU)',
    description: 'ViT-S/16, 4 registers, 2 × 224 px + 8 × 96 px crops, K 16384.',
  },
  {
    name: 'capi',
    stage: 'pretrain',
    sizedFor: 'cpu',
    label: 'CAPI (CPU)',
    description:
      'Instead of DINO + iBOT: learns by predicting the clusters of hidden patches from the visible ones (CAPI). ViT-Tiny/16, 112 px.',
  },
  {
    name: 'adapt-cpu',
    stage: 'adapt',
    sizedFor: 'cpu',
    label: 'Adapt to high resolution (CPU)',
    description: 'Gram-anchored high-resolution adaptation: 224–320 px globals, Gram teacher at 1.5–2×, B 4.',
  },
  {
    name: 'adapt-gpu',
    stage: 'adapt',
    sizedFor: 'gpu',
    label: 'Adapt to high resolution (GPU)',
    description: 'Gram-anchored high-resolution adaptation: 384–512 px globals, Gram teacher at 576–768 px, B 8.',
  },
];

/** The high-resolution adaptation presets (stage 'adapt'). */
export function adaptPresets(): PresetInfo[] {
  return PRESET_INFO.filter((p) => p.stage === 'adapt');
}

/** A deep partial of TrainConfig (what a user, the CLI or a test may override). */
export type Overrides = {
  [K in keyof TrainConfig]?: TrainConfig[K] extends unknown[]
    ? TrainConfig[K]
    : TrainConfig[K] extends object
      ? Partial<TrainConfig[K]>
      : TrainConfig[K];
};

function bad(msg: string): never {
  throw new DinoscopeError('BAD_INPUT', `Training config: ${msg}.`);
}

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Values taken whole (checked elsewhere): the ViT overrides. */
const OPAQUE = new Set(['model.vit']);

function merge(into: Record<string, unknown>, over: Record<string, unknown>, path: string): void {
  for (const [k, v] of Object.entries(over)) {
    const key = path ? `${path}.${k}` : k;
    if (!(k in into)) bad(`unknown key ${key}`);
    const cur = into[k];
    if (v === undefined) continue;
    if (OPAQUE.has(key)) {
      if (!isPlain(v)) bad(`${key} must be an object`);
      into[k] = { ...(cur as object), ...v };
    } else if (isPlain(cur)) {
      if (!isPlain(v)) bad(`${key} must be an object`);
      merge(cur, v, key);
    } else if (cur !== null && typeof cur !== typeof v)
      bad(`${key} must be a ${Array.isArray(cur) ? 'list' : typeof cur}, got ${JSON.stringify(v)}`);
    else if (Array.isArray(cur) !== Array.isArray(v)) bad(`${key} must be a list`);
    else into[k] = structuredClone(v);
  }
}

/** The config of `preset` with `overrides` applied (strict: unknown keys or wrong types → BAD_INPUT). */
export function trainConfig(preset: PresetName = 'quick', overrides: Overrides | Record<string, unknown> = {}): TrainConfig {
  if (!(preset in presets)) bad(`unknown preset ${String(preset)} (${Object.keys(presets).join(', ')})`);
  const c = structuredClone({ preset, ...base }) as unknown as Record<string, unknown>;
  merge(c, presets[preset] as Record<string, unknown>, '');
  if (isContinued(c, overrides as Record<string, unknown>)) merge(c, CONTINUED_OVERRIDES as Record<string, unknown>, '');
  merge(c, overrides as Record<string, unknown>, '');
  const cfg = c as unknown as TrainConfig;
  validateTrainConfig(cfg);
  return deepFreeze(cfg);
}

/** A pretrain run from weights (model.from set, stage pretrain) once `over` is applied to `c`: continued pretraining. */
function isContinued(c: Record<string, unknown>, over: Record<string, unknown>): boolean {
  const stage = over.stage ?? c.stage;
  const model = isPlain(over.model) && 'from' in over.model ? over.model : (c.model as Record<string, unknown>);
  return stage === 'pretrain' && typeof model.from === 'string';
}

/** The config with another step count (a minutes budget fixes it from the measured speed): a new checked,
 * frozen config; `c` itself is never changed. */
export function withSteps(c: TrainConfig, steps: number): TrainConfig {
  return revisedConfig({ ...c, steps });
}

/** A run's config replaced as a whole (a new length, re-planned schedules): checked, copied and frozen. */
export function revisedConfig(next: TrainConfig): TrainConfig {
  const c = structuredClone(next);
  validateTrainConfig(c);
  return deepFreeze(c);
}

const posInt = (v: number): boolean => Number.isInteger(v) && v > 0;

/** A config read back from a checkpoint, with keys added since it was written filled from its preset's defaults. */
export function completeConfig(saved: TrainConfig): TrainConfig {
  const { preset, ...rest } = saved;
  // Keys that change the dynamics take the behaviour the run was started with, not today's preset value:
  // a config saved before teacher.momentumHorizon existed ran the reference momentum schedule (off).
  const teacher = { momentumHorizon: 0, ...(rest.teacher as Partial<TrainConfig['teacher']> | undefined) };
  // One saved before crops.colour existed trained with the reference's photometric augmentations.
  const savedCrops = rest.crops as Partial<TrainConfig['crops']> | undefined;
  const crops = { ...savedCrops, colour: { ...REFERENCE_COLOUR, ...savedCrops?.colour } };
  return trainConfig(preset in presets ? preset : 'quick', {
    ...rest,
    teacher,
    crops,
    ...(rest.model ? { model: savedModel(rest.model) } : {}),
    runtime: savedRuntime(rest.runtime),
  } as Record<string, unknown>);
}

/**
 * A saved config's model. model.vit holds only the keys a preset or the user set, and the rest come from
 * the size; one saved before the Quick preset set its depth (6) ran the size's own depth, so a saved
 * model.vit without a depth keeps that one. (A run's weights carry their full ViT config: this keeps the
 * config that describes them in step.)
 */
function savedModel(model: TrainConfig['model']): TrainConfig['model'] {
  if (model.from || !isPlain(model.vit) || 'depth' in model.vit) return model; // a run from weights takes their config
  const size = model.size in VIT_SIZES ? model.size : 'tiny';
  return { ...model, vit: { ...model.vit, depth: VIT_SIZES[size].depth } };
}

/**
 * A saved config's runtime. One written before runtime.device listed providers to try in order: cpu alone
 * is device 'cpu', a list that starts with a GPU provider tried them in the probe's order, i.e. 'auto'.
 * One written before runtime.precision existed is 'fp32'.
 */
function savedRuntime(saved: unknown): unknown {
  if (!isPlain(saved)) return saved;
  // One saved before runtime.precision existed trained in fp32: it resumes in fp32, whatever 'auto' now picks.
  const withPrecision = 'precision' in saved ? saved : { ...saved, precision: 'fp32' };
  if (!('providers' in withPrecision)) return withPrecision;
  const { providers, ...rest } = withPrecision;
  const first = Array.isArray(providers) ? (providers as unknown[])[0] : undefined;
  return { device: first === 'cpu' ? 'cpu' : 'auto', ...rest };
}

/** Checks values that merge cannot (also run on configs read back from a checkpoint). */
export function validateTrainConfig(c: TrainConfig): void {
  if (!posInt(c.steps)) bad(`steps must be a positive integer, got ${c.steps}`);
  const replans = validateReplans(c.replans, c.steps);
  if (replans) bad(replans);
  if (!Number.isInteger(c.batchSize) || c.batchSize < 2)
    bad(`batchSize must be an integer ≥ 2 (KoLeo needs a neighbour), got ${c.batchSize}`);
  if (!Number.isInteger(c.seed) || c.seed < 0) bad(`seed must be an integer ≥ 0, got ${c.seed}`);
  if (c.model.channels !== null && !posInt(c.model.channels))
    bad(`model.channels must be null (RGB) or a positive integer, got ${JSON.stringify(c.model.channels)}`);
  if (c.model.channels !== null && c.model.vit.inChans !== undefined && c.model.vit.inChans !== c.model.channels)
    bad(`model.vit.inChans ${c.model.vit.inChans} differs from model.channels ${c.model.channels}; set model.channels only`);
  if (!posInt(c.crops.globalSize) || !posInt(c.crops.localSize)) bad('crop sizes must be positive integers');
  if (!Number.isInteger(c.crops.localCrops) || c.crops.localCrops < 0)
    bad(`crops.localCrops must be an integer ≥ 0, got ${c.crops.localCrops}`);
  for (const k of ['jitterP', 'grayscaleP', 'solarizeP'] as const)
    if (!(c.crops.colour[k] >= 0 && c.crops.colour[k] <= 1)) bad(`crops.colour.${k} must be in [0, 1], got ${c.crops.colour[k]}`);
  // The hue factor is drawn from ±0.1 · strength and must stay within ±0.5.
  if (!(c.crops.colour.jitterStrength >= 0 && c.crops.colour.jitterStrength <= 5))
    bad(`crops.colour.jitterStrength must be in [0, 5], got ${c.crops.colour.jitterStrength}`);
  for (const k of ['prototypes', 'hidden', 'bottleneck'] as const)
    if (!posInt(c.head[k])) bad(`head.${k} must be a positive integer, got ${c.head[k]}`);
  if (!['auto', 'weight-norm', 'plain'].includes(c.head.lastLayer)) bad(`head.lastLayer must be auto, weight-norm or plain`);
  if (!['auto', 'ema', 'sinkhorn'].includes(c.teacher.centering)) bad(`teacher.centering must be auto, ema or sinkhorn`);
  if (!(c.loss.studentTemp > 0) || !(c.teacher.temp > 0) || !(c.teacher.tempStart > 0)) bad('temperatures must be positive');
  for (const [k, v] of Object.entries({
    warmupFraction: c.optim.warmupFraction,
    freezeLastLayerFraction: c.optim.freezeLastLayerFraction,
    tempWarmupFraction: c.teacher.tempWarmupFraction,
  })) {
    if (!(v >= 0 && v <= 1)) bad(`${k} must be in [0, 1], got ${v}`);
  }
  if (!(c.teacher.momentum >= 0 && c.teacher.momentum <= 1)) bad(`teacher.momentum must be in [0, 1], got ${c.teacher.momentum}`);
  if (!(c.teacher.momentumHorizon >= 0 && c.teacher.momentumHorizon <= 1))
    bad(`teacher.momentumHorizon must be in [0, 1], got ${c.teacher.momentumHorizon}`);
  if (c.masking.ratio.length !== 2 || !(c.masking.ratio[0] >= 0 && c.masking.ratio[0] <= c.masking.ratio[1] && c.masking.ratio[1] < 1))
    bad('masking.ratio must be [min, max] with 0 ≤ min ≤ max < 1');
  if (c.data.tiles !== null && !(typeof c.data.tiles === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(c.data.tiles)))
    bad(`data.tiles must be null or the name of a curated tile list (letters, digits, '.', '-', '_'), got ${JSON.stringify(c.data.tiles)}`);
  if (!(DEVICE_REQUESTS as readonly string[]).includes(c.runtime.device))
    bad(`runtime.device must be auto, cpu, webgpu or cuda, got ${JSON.stringify(c.runtime.device)}`);
  if (!(PRECISION_REQUESTS as readonly string[]).includes(c.runtime.precision))
    bad(`runtime.precision must be auto, fp32 or mixed, got ${JSON.stringify(c.runtime.precision)}`);
  if (c.objective !== 'dino' && c.objective !== 'capi') bad(`objective must be dino or capi, got ${JSON.stringify(c.objective)}`);
  if (c.objective === 'capi') validateCapi(c);
  if (c.stage !== 'pretrain' && c.stage !== 'adapt') bad(`stage must be pretrain or adapt, got ${JSON.stringify(c.stage)}`);
  if (!Number.isInteger(c.loss.koleoGroup) || c.loss.koleoGroup < 0 || c.loss.koleoGroup === 1)
    bad(`loss.koleoGroup must be 0 or an integer ≥ 2, got ${c.loss.koleoGroup}`);
  if (!(c.loss.localWeight >= 0)) bad(`loss.localWeight must be ≥ 0, got ${c.loss.localWeight}`);
  if (!(c.loss.patchSim >= 0)) bad(`loss.patchSim must be ≥ 0, got ${c.loss.patchSim}`);
  if (!(c.loss.featureDistil >= 0)) bad(`loss.featureDistil must be ≥ 0, got ${c.loss.featureDistil}`);
  const gm = c.gram;
  if (!['start', 'ema'].includes(gm.teacher)) bad(`gram.teacher must be start or ema`);
  if (!['none', 'cpu', 'gpu', 'reference'].includes(gm.sizes)) bad(`gram.sizes must be none, cpu, gpu or reference`);
  if (!(gm.weight >= 0) || !(gm.scale > 0)) bad('gram.weight must be ≥ 0 and gram.scale > 0');
  for (const [k, v] of Object.entries({
    'gram.rampSteps': gm.rampSteps,
    'gram.startStep': gm.startStep,
    'gram.refreshEvery': gm.refreshEvery,
    'gram.maxRefreshes': gm.maxRefreshes,
    'health.every': c.health.every,
  })) {
    if (!Number.isInteger(v) || v < 0) bad(`${k} must be an integer ≥ 0, got ${v}`);
  }
  for (const k of ['tiles', 'perImage'] as const)
    if (!posInt(c.health[k])) bad(`health.${k} must be a positive integer, got ${c.health[k]}`);
  if (!(c.health.radius > 0)) bad(`health.radius must be positive, got ${c.health.radius}`);
  if (gm.sizeTable.length) {
    try {
      validateSizeTable(gm.sizeTable);
    } catch (e) {
      bad(`gram.sizeTable: ${(e as Error).message}`);
    }
  }
  if (c.stage === 'adapt') {
    if (c.model.from === null) bad('stage adapt needs model.from (the model to adapt)');
    if (!gm.enabled) bad('stage adapt needs gram.enabled');
  }
  if (gm.enabled && gm.teacher === 'start' && c.model.from === null)
    bad("gram.teacher 'start' needs model.from (a run from scratch has no starting model; use 'ema')");
  if (c.model.from === null) {
    const v = vitConfig(c.model.size, c.model.vit); // throws BAD_INPUT on bad ViT overrides
    for (const s of [c.crops.globalSize, c.crops.localSize])
      if (s % v.patchSize) bad(`crop size ${s} is not a multiple of the patch size ${v.patchSize}`);
  }
}

/** The CAPI keys, and what CAPI's trainer does not do (checked only for objective 'capi'). */
function validateCapi(c: TrainConfig): void {
  const k = c.capi;
  for (const n of ['prototypes', 'sinkhornIterations', 'predictorDepth'] as const)
    if (!posInt(k[n])) bad(`capi.${n} must be a positive integer, got ${k[n]}`);
  for (const n of ['studentTemp', 'targetTemp', 'predTemp'] as const) if (!(k[n] > 0)) bad(`capi.${n} must be positive, got ${k[n]}`);
  if (!(k.maskRatio > 0 && k.maskRatio < 1)) bad(`capi.maskRatio must be in (0, 1), got ${k.maskRatio}`);
  if (!(k.predictFraction > 0 && k.predictFraction <= 1)) bad(`capi.predictFraction must be in (0, 1], got ${k.predictFraction}`);
  if (!(k.truncateCos > 0 && k.truncateCos <= 1)) bad(`capi.truncateCos must be in (0, 1], got ${k.truncateCos}`);
  for (const n of ['clusteringLr', 'clusteringWeightDecay', 'normWdMult'] as const) if (!(k[n] >= 0)) bad(`capi.${n} must be ≥ 0`);
  if (c.stage !== 'pretrain') bad('objective capi is a pretraining objective (stage pretrain)');
  if (c.gram.enabled) bad('objective capi does not combine with Gram anchoring (gram.enabled)');
  if (c.crops.localCrops !== 0) bad('objective capi trains on the global crops only: set crops.localCrops to 0');
}

/** The ViT config of a from-scratch run (an imported run takes the config of its weights). */
export function scratchViT(c: TrainConfig): ViTConfig {
  return vitConfig(c.model.size, c.model.channels === null ? c.model.vit : { ...c.model.vit, inChans: c.model.channels });
}

/** The head config, resolved for the backbone's arch. */
export function headConfig(c: TrainConfig, vit: ViTConfig): HeadConfig {
  const lastLayer = c.head.lastLayer === 'auto' ? (vit.arch === 'dinov2' ? 'weight-norm' : 'plain') : c.head.lastLayer;
  return { prototypes: c.head.prototypes, hidden: c.head.hidden, bottleneck: c.head.bottleneck, lastLayer };
}

/** Centering resolved for the arch: EMA centering for dinov2, Sinkhorn-Knopp for dinov3. */
export function centering(c: TrainConfig, vit: ViTConfig): 'ema' | 'sinkhorn' {
  return c.teacher.centering === 'auto' ? (vit.arch === 'dinov2' ? 'ema' : 'sinkhorn') : c.teacher.centering;
}

/** The Gram loss weight schedule of the config (core/train/gram/schedule.ts). */
export function gramSchedule(c: TrainConfig): GramWeightSchedule {
  return { kind: 'ramp', weight: c.gram.weight, rampSteps: c.gram.rampSteps, startStep: c.gram.startStep }; // rampSteps 0: constant from startStep
}

/** The 'ema' Gram teacher's refresh rule (a 'start' teacher is never refreshed). */
export function gramRefresh(c: TrainConfig): GramRefreshRule {
  return c.gram.teacher === 'ema'
    ? { every: c.gram.refreshEvery, maxRefreshes: c.gram.maxRefreshes, startStep: c.gram.startStep }
    : { every: 0, maxRefreshes: 0 };
}

/** The per-step size table (sides rounded to `patch`), or null when every step uses crops.* and gram.scale. */
export function sizeTable(c: TrainConfig, patch: number): SizeEntry[] | null {
  if (!c.gram.enabled) return null;
  const t = c.gram.sizeTable.length ? c.gram.sizeTable : c.gram.sizes !== 'none' ? SIZE_PRESETS[c.gram.sizes] : null;
  return t ? fitToPatch(t, patch) : null;
}

/** The Gram crop side for a global side without a size table: scale × global, rounded to the patch. */
export function gramSide(c: TrainConfig, globalSize: number, patch: number): number {
  return Math.max(patch, Math.round((c.gram.scale * globalSize) / patch) * patch);
}

/** `--tiny`: a smoke-test model (ViT patch 8, dim 32, depth 1; 32 px crops; B 2; K 32) that steps in well under a second. */
/** The smoke-test model for a CAPI run (preset capi): TINY_OVERRIDES without local crops (CAPI trains on the
 * global crops only), K 32 clusters and one predictor block. */
export const TINY_CAPI_OVERRIDES: Record<string, unknown> = {
  batchSize: 2,
  model: { size: 'tiny', vit: { arch: 'dinov2', patchSize: 8, registers: 2, dim: 32, depth: 1, heads: 2, posEmbed: { gridSize: 4 } } },
  crops: { globalSize: 32, localSize: 16, localCrops: 0 },
  capi: { prototypes: 32, predictorDepth: 1 },
};

export const TINY_OVERRIDES: Record<string, unknown> = {
  batchSize: 2,
  model: { size: 'tiny', vit: { arch: 'dinov2', patchSize: 8, registers: 2, dim: 32, depth: 1, heads: 2, posEmbed: { gridSize: 4 } } },
  crops: { globalSize: 32, localSize: 16, localCrops: 2 },
  head: { prototypes: 32, hidden: 32, bottleneck: 16 },
};
