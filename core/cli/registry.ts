// The explicit command registry: no discovery by file name.
import type { Command } from './command.js';
import { extractCommand } from './commands/extract.js';
import { importCommand } from './commands/import.js';
import { infoCommand } from './commands/info.js';
import { modelsCommand } from './commands/models.js';
import { serveCommand } from './commands/serve.js';

export const commands: readonly Command[] = [extractCommand, importCommand, infoCommand, modelsCommand, serveCommand];
