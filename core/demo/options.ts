// DemoOptions (from the API, JSON) and the CLI's flags to a checked DemoPlan.
import { isAbsolute, join } from 'node:path';
import { TINY_OVERRIDES } from '../train/config.js';
import type { DemoOptions } from '../common/api.js';
import { DinoscopeError } from '../common/errors.js';
import { FULL_SPEC, TINY_SPEC } from './generate.js';
import type { DemoPlan } from './pipeline.js';

/** Training minutes when none are given. */
export const DEFAULT_MINUTES = 3;

export function defaultDemoDir(home: string): string {
  return join(home, 'Dinoscope', 'demo');
}

/** The plan for `options`; `steps` (CLI tests) fixes the step count instead of minutes. */
export function demoPlan(options: DemoOptions | undefined | null, home: string, steps?: number): DemoPlan {
  const o: DemoOptions = options ?? {};
  if (typeof o !== 'object') throw new DinoscopeError('BAD_INPUT', 'Demo options must be an object.');
  if (o.minutes !== undefined && !(typeof o.minutes === 'number' && Number.isFinite(o.minutes) && o.minutes > 0))
    throw new DinoscopeError('BAD_INPUT', `Demo: minutes must be a positive number, got ${JSON.stringify(o.minutes)}.`);
  if (o.dir !== undefined && !(typeof o.dir === 'string' && isAbsolute(o.dir)))
    throw new DinoscopeError('BAD_INPUT', `Demo: dir must be an absolute folder path, got ${JSON.stringify(o.dir)}.`);
  if (o.tiny !== undefined && typeof o.tiny !== 'boolean')
    throw new DinoscopeError('BAD_INPUT', `Demo: tiny must be true or false, got ${JSON.stringify(o.tiny)}.`);
  const plan: DemoPlan = { dir: o.dir ?? defaultDemoDir(home), spec: o.tiny ? TINY_SPEC : FULL_SPEC };
  if (steps !== undefined) plan.steps = steps;
  else plan.minutes = o.minutes ?? DEFAULT_MINUTES;
  if (o.tiny) {
    plan.overrides = TINY_OVERRIDES;
    plan.scratchBecause = 'the smoke-test demo (tiny) trains its minute model from random weights';
  }
  return plan;
}
