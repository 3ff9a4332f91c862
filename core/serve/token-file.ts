// A serve token kept in a file, so a link handed to a team keeps working after the host restarts: the
// file's token when it exists, else a new random one written there (owner-only, atomically). Without a
// file the host makes fresh tokens each start, and yesterday's links stop working.
import { readFile, writeFile } from 'node:fs/promises';
import { describeFsError } from '../io/fs-errors.js';
import { replaceAtomic } from '../io/atomic.js';
import { FieldError } from '../common/errors.js';
import { newToken } from './auth.js';

/** URL-safe characters only (the token travels in ?token= and a cookie), long enough not to be guessed. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{22,512}$/;

/**
 * The token in `path` (surrounding white space ignored), or a new one written to `path` when the file does
 * not exist. `flag` names the option in errors (e.g. 'viewer-token-file'). Resolves to the token and
 * whether it was created now.
 */
export async function loadOrCreateToken(path: string, flag: string): Promise<{ token: string; created: boolean }> {
  let text: string | null = null;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new FieldError(flag, `cannot read the token file: ${describeFsError(err) ?? `${path}: ${String(err)}`}`);
  }
  if (text !== null) {
    const token = text.trim();
    if (!TOKEN_PATTERN.test(token))
      throw new FieldError(
        flag,
        `${path} does not hold a token (22 to 512 letters, digits, '-' or '_'): delete it to have a new one written there.`,
      );
    return { token, created: false };
  }
  const token = newToken();
  try {
    await replaceAtomic(path, (tmp) => writeFile(tmp, token + '\n', { mode: 0o600 }));
  } catch (err) {
    throw new FieldError(flag, `cannot write the token file: ${describeFsError(err) ?? `${path}: ${String(err)}`}`);
  }
  return { token, created: true };
}
