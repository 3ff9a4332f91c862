// The explicit command registry: no discovery by file name.
import type { Command } from './command.js';

export const commands: readonly Command[] = [];
