// Image ids: a short stable hash of the absolute path, safe in URLs (lowercase hex only).
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';

export const IMAGE_ID_PATTERN = /^[0-9a-f]{16}$/;

export function imageIdFor(path: string): string {
  return createHash('sha256').update(resolve(path)).digest('hex').slice(0, 16);
}
