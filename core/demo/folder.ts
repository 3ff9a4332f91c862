// The demo's folder: <dir>/demo.json marks it as a demo (written before anything else), <dir>/slides/
// holds the generated images and <dir> itself is the project (project.json, cache/, runs/, models/).
// A folder is accepted when it is missing or empty (a new demo) or marked (a previous demo: the same spec
// resumes, another spec starts over after removing what the demo wrote). Anything else is refused.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DinoscopeError } from '../common/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { DemoSpec } from './generate.js';

export const MARKER = 'demo.json';
export const SLIDES = 'slides';
/** What a demo writes into its folder besides the marker (removed, and only these, when a demo starts over; the marker is then rewritten). */
const DEMO_ENTRIES = [SLIDES, 'project.json', 'cache', 'runs', 'models'];

interface Marker {
  kind: 'dinoscope-demo';
  version: 1;
  spec: DemoSpec;
  createdAt: string;
}

async function readMarker(dir: string): Promise<Marker | null> {
  let text: string;
  try {
    text = await readFile(join(dir, MARKER), 'utf8');
  } catch {
    return null;
  }
  try {
    const m = JSON.parse(text) as Partial<Marker>;
    return m.kind === 'dinoscope-demo' && m.version === 1 && typeof m.spec === 'object' && m.spec !== null ? (m as Marker) : null;
  } catch {
    return null;
  }
}

const sameSpec = (a: DemoSpec, b: DemoSpec): boolean => (Object.keys(b) as (keyof DemoSpec)[]).every((k) => a[k] === b[k]);

/** How the demo starts in `dir`: 'new' (empty or missing), 'resume' (a previous demo of this spec) or
 * 'restart' (a previous demo of another spec, now cleared). Refuses any other non-empty folder. */
export async function prepareDemoFolder(dir: string, spec: DemoSpec): Promise<'new' | 'resume' | 'restart'> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new DinoscopeError('BAD_INPUT', `${dir} is a file: the demo needs a folder.`);
    if (code !== 'ENOENT') throw new DinoscopeError('BAD_INPUT', `${dir}: cannot read the folder (${code ?? String(err)}).`);
    names = [];
  }
  const marker = names.length ? await readMarker(dir) : null;
  if (names.length && !marker) {
    throw new DinoscopeError(
      'BAD_INPUT',
      `${dir} is not empty and is not a previous Dinoscope demo (no ${MARKER}): choose an empty or new folder for the demo.`,
    );
  }
  let how: 'new' | 'resume' | 'restart' = 'new';
  if (marker && sameSpec(marker.spec, spec)) how = 'resume';
  else if (marker) {
    for (const n of DEMO_ENTRIES) await rm(join(dir, n), { recursive: true, force: true });
    how = 'restart';
  }
  await mkdir(join(dir, SLIDES), { recursive: true });
  if (how !== 'resume')
    await writeFileAtomic(
      join(dir, MARKER),
      JSON.stringify({ kind: 'dinoscope-demo', version: 1, spec, createdAt: new Date().toISOString() } satisfies Marker, null, 2) + '\n',
    );
  return how;
}
