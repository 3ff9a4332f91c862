// Browser drag-and-drop uploads: the request body streams into <project>/images/<safe name> through a
// temp file and a rename; an existing name gets a " (n)" suffix instead of being overwritten.
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DinoscopeError } from '../common/errors.js';
import { tempPathFor } from '../io/atomic.js';

/** A file name safe on every platform: no separators, control or reserved characters, no leading dots. */
export function safeFileName(name: string): string {
  const base = name.split(/[/\\]/).pop() ?? '';
  let s = [...base]
    .map((c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f || '<>:"|?*'.includes(c) ? '_' : c))
    .join('')
    .replace(/^[.\s]+/, '')
    .replace(/[.\s]+$/, '')
    .slice(0, 200);
  if (/^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i.test(s)) s = '_' + s;
  return s || 'upload';
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function uniquePath(dir: string, name: string): Promise<string> {
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  let candidate = join(dir, name);
  for (let n = 1; await exists(candidate); n++) candidate = join(dir, `${stem} (${n})${ext}`);
  return candidate;
}

/** Streams the request body into `dir`; resolves to the stored file's absolute path. */
export async function receiveUpload(req: IncomingMessage, dir: string, rawName: string | null): Promise<string> {
  if (!rawName) throw new DinoscopeError('BAD_INPUT', 'Upload needs ?name=<file name>.');
  const name = safeFileName(rawName);
  await mkdir(dir, { recursive: true });
  const tmp = tempPathFor(join(dir, name));
  try {
    await pipeline(req, createWriteStream(tmp, { flags: 'wx' }));
    if (!req.complete) throw new DinoscopeError('BAD_INPUT', `The upload of ${name} was interrupted.`);
    const target = await uniquePath(dir, name);
    await rename(tmp, target);
    return target;
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
