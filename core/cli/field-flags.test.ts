// The CLI words a core FieldError with its flags; the app keeps the field names.
import { describe, expect, it } from 'vitest';
import { FieldError } from '../common/errors.js';
import { cliMessage } from './field-flags.js';

describe('cliMessage', () => {
  const flags = new Set(['steps', 'minutes', 'checkpoint-minutes', 'run', 'model', 'overrides']);

  it('names the flag of the field and of each field the problem refers to', () => {
    const both = new FieldError('minutes', 'give either {steps} or {minutes}, not both.');
    expect(both.message).toBe('minutes: give either steps or minutes, not both.');
    expect(cliMessage(both, flags)).toBe('--minutes: give either --steps or --minutes, not both.');
    expect(cliMessage(new FieldError('checkpointMinutes', 'must be positive, got 0.'), flags)).toBe(
      '--checkpoint-minutes: must be positive, got 0.',
    );
    expect(cliMessage(new FieldError('modelId', 'must be a non-empty string, got "".'), flags)).toBe(
      '--model: must be a non-empty string, got "".',
    );
  });

  it("uses the command's own names, keeps where the error is, and leaves fields no flag sets as they are", () => {
    expect(cliMessage(new FieldError('name', '"a b": use letters.'), flags, { name: 'run' })).toBe('--run: "a b": use letters.');
    expect(cliMessage(new FieldError('level', '3 does not exist.', '/data/a.svs'), new Set(['level']))).toBe(
      '/data/a.svs: --level: 3 does not exist.',
    );
    expect(cliMessage(new FieldError('crops.localSize', 'must be a positive integer, got 0.'), flags)).toBe(
      'crops.localSize: must be a positive integer, got 0.',
    );
    expect(cliMessage(new FieldError('level', 'no such level.'), flags)).toBe('level: no such level.');
  });
});
