// Core errors name fields ("mpp: must be a positive number"), as the app shows them; the CLI prints the
// flag a person typed instead ("--mpp: must be a positive number"). Most flags are the field's name in
// kebab case; the others are listed here, and a command may list its own (Command.fields).
import { FieldError } from '../common/errors.js';

/** Fields whose flag is not their kebab-case name. */
const FIELD_FLAGS: Readonly<Record<string, string>> = {
  modelId: 'model',
  featureSet: 'set',
  imageIds: 'image',
};

/** "checkpointMinutes" → "checkpoint-minutes". */
function kebab(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * The error's message with each field as the flag that sets it, when the command has one (`flags`: the
 * flag names it accepts; `fields`: its own field → flag names). Fields no flag sets (a config key inside
 * --overrides) keep their names.
 */
export function cliMessage(err: FieldError, flags: ReadonlySet<string>, fields: Readonly<Record<string, string>> = {}): string {
  return err.worded((field) => {
    const flag = fields[field] ?? FIELD_FLAGS[field] ?? kebab(field);
    return flags.has(flag) ? `--${flag}` : field;
  });
}
