// The explicit command registry: no discovery by file name.
import type { Command } from './command.js';
import { adaptCommand } from './commands/adapt.js';
import { curateCommand } from './commands/curate.js';
import { alignCommand } from './commands/align.js';
import { demoCommand } from './commands/demo.js';
import { distilCommand } from './commands/distil.js';
import { exportCommand } from './commands/export.js';
import { exportTrainingCommand } from './commands/export-training.js';
import { extractCommand } from './commands/extract.js';
import { hardwareCommand } from './commands/hardware.js';
import { indexCommand } from './commands/index.js';
import { importCommand } from './commands/import.js';
import { imagesCommand } from './commands/images.js';
import { infoCommand } from './commands/info.js';
import { modelsCommand } from './commands/models.js';
import { pcaCommand } from './commands/pca.js';
import { pretrainCommand } from './commands/pretrain.js';
import { runsCommand } from './commands/runs.js';
import { searchCommand } from './commands/search.js';
import { segmentCommand } from './commands/segment.js';
import { serveCommand } from './commands/serve.js';
import { setsCommand } from './commands/sets.js';

export const commands: readonly Command[] = [
  adaptCommand,
  curateCommand,
  alignCommand,
  demoCommand,
  distilCommand,
  exportCommand,
  exportTrainingCommand,
  extractCommand,
  hardwareCommand,
  importCommand,
  imagesCommand,
  indexCommand,
  infoCommand,
  modelsCommand,
  pcaCommand,
  pretrainCommand,
  runsCommand,
  searchCommand,
  segmentCommand,
  serveCommand,
  setsCommand,
];
