// `dinoscope extract` bad input: exit 2 with one line naming the problem (the happy path runs through the
// same extractFeatures as core/features/extract/project.test.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Project } from '../../project/project.js';
import { runCli } from '../main.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dinoscope-cli-extract-'));
  process.env.DINOSCOPE_HOME = join(dir, 'home');
  await Project.create(join(dir, 'p'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; err: string; out: string }> {
  let err = '';
  let out = '';
  const code = await runCli(['extract', ...argv], {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    signal: new AbortController().signal,
  });
  return { code, err, out };
}

describe('dinoscope extract', () => {
  it.each([
    [['--model', 'm'], /needs --project/],
    [['--project', '/nonexistent-dinoscope'], /needs --model/],
    [['--project', '/nonexistent-dinoscope', '--model', 'm'], /nonexistent-dinoscope is not a Dinoscope project/],
    [['--project', 'P', '--model', 'm', '--mpp', 'abc'], /--mpp must be a number/],
    [['--project', 'P', '--model', 'nope'], /No model "nope"/],
    [['--project', 'P', '--model', 'm', '--frobnicate'], /unknown option --frobnicate/],
    [['--project', 'P', '--model', 'nope', '--context', 'whole'], /No model "nope"/], // a known context passes the parse
    [['--project', 'P', '--model', 'm', '--context', 'global'], /--context must be auto, whole or tiled, got "global"/],
    [['--project', 'P', '--model', 'nope', '--device', 'webgpu'], /No model "nope"/], // a known device passes the parse
    [['--project', 'P', '--model', 'm', '--device', 'gpu'], /--device must be auto, cpu, webgpu or cuda, got "gpu"/],
    [['--project', 'P', '--model', 'nope', '--mask', 'off'], /No model "nope"/], // a known mask passes the parse
    [['--project', 'P', '--model', 'm', '--mask', 'tissue'], /--mask must be auto, off, brightfield or fluorescence, got "tissue"/],
  ])('%j exits 2 with one line', async (argv, message) => {
    const r = await cli(...argv.map((a) => (a === 'P' ? join(dir, 'p') : a)));
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(message);
  });
});
