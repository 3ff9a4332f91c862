// Browser drag-and-drop uploads: the request body streams into a hidden temp file in
// <project>/images/, then takes a name no other upload holds: the name is reserved by creating it
// exclusively (O_EXCL), so concurrent uploads of one name each get their own file (`name.tif`,
// `name (1).tif`, `name (2).tif`, …) and none is overwritten; the temp file is then renamed onto the
// reservation.
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DinoscopeError } from '../common/errors.js';

/** The longest file name most file systems store (ext4, APFS, NTFS: 255 bytes or UTF-16 units). */
export const MAX_NAME_BYTES = 255;

const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/** The name's code points with the stem shortened until `stem + suffix + ext` fits MAX_NAME_BYTES. */
function fitName(stem: string, suffix: string, ext: string): string {
  const chars = [...stem];
  while (chars.length > 0 && utf8Bytes(chars.join('') + suffix + ext) > MAX_NAME_BYTES) chars.pop();
  return chars.join('') + suffix + ext;
}

/** A file name safe on every platform: no separators, control or reserved characters, no leading dots. */
export function safeFileName(name: string): string {
  const base = name.split(/[/\\]/).pop() ?? '';
  let s = [...base]
    .map((c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f || '<>:"|?*'.includes(c) ? '_' : c))
    .join('')
    .replace(/^[.\s]+/, '')
    .replace(/[.\s]+$/, '');
  if (/^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i.test(s)) s = '_' + s;
  s = fitName(s, '', ''); // the reserved-name prefix may push a 255-byte name over
  return s || 'upload';
}

/** Checks the name the browser sent: present, and short enough for a file system to store. */
function checkName(rawName: string | null): string {
  if (!rawName) throw new DinoscopeError('BAD_INPUT', 'Upload needs ?name=<file name>.');
  const base = rawName.split(/[/\\]/).pop() ?? '';
  const bytes = utf8Bytes(base);
  if (bytes > MAX_NAME_BYTES) {
    throw new DinoscopeError(
      'BAD_INPUT',
      `The file name "${[...base].slice(0, 40).join('')}…" is ${bytes} bytes long; file names can be at most ${MAX_NAME_BYTES} bytes: rename the file and upload it again.`,
    );
  }
  return safeFileName(base);
}

/** Creates `name`, or `stem (n)ext` for the first n free, exclusively (O_EXCL); resolves to its path. */
async function reserveName(dir: string, name: string): Promise<string> {
  let ext = extname(name);
  if (utf8Bytes(ext) > 32) ext = ''; // a long "extension" is part of the name
  const stem = name.slice(0, name.length - ext.length);
  for (let n = 0; n < 100_000; n++) {
    const candidate = join(dir, n === 0 ? name : fitName(stem, ` (${n})`, ext));
    try {
      await (await open(candidate, 'wx')).close();
      return candidate;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new DinoscopeError('BAD_INPUT', `${dir} already holds 100,000 files named like ${name}: rename the file and upload it again.`);
}

/** Streams the request body into `dir`; resolves to the stored file's absolute path. */
export async function receiveUpload(req: IncomingMessage, dir: string, rawName: string | null): Promise<string> {
  const name = checkName(rawName);
  await mkdir(dir, { recursive: true });
  // Short and hidden whatever the name's length, so a 255-byte name never makes it too long.
  const tmp = join(dir, `.upload-${randomBytes(8).toString('hex')}.part`);
  let target: string | null = null;
  try {
    await pipeline(req, createWriteStream(tmp, { flags: 'wx' }));
    if (!req.complete) throw new DinoscopeError('BAD_INPUT', `The upload of ${name} was interrupted.`);
    target = await reserveName(dir, name);
    await rename(tmp, target);
    return target;
  } catch (err) {
    await rm(tmp, { force: true });
    if (target) await rm(target, { force: true }); // the empty reservation
    throw err;
  }
}
