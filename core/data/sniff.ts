// Magic-number tests on a file's first bytes. Formats decide by content, never by file name.

export function startsWith(head: Uint8Array, bytes: readonly number[], at = 0): boolean {
  if (head.length < at + bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (head[at + i] !== bytes[i]) return false;
  return true;
}

export function isPng(head: Uint8Array): boolean {
  return startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
}

export function isJpeg(head: Uint8Array): boolean {
  return startsWith(head, [0xff, 0xd8, 0xff]);
}

export function isWebp(head: Uint8Array): boolean {
  return startsWith(head, [0x52, 0x49, 0x46, 0x46]) && startsWith(head, [0x57, 0x45, 0x42, 0x50], 8);
}

/** Classic TIFF (42) or BigTIFF (43), little- or big-endian. */
export function isTiff(head: Uint8Array): boolean {
  const ii = startsWith(head, [0x49, 0x49]) && (startsWith(head, [42, 0], 2) || startsWith(head, [43, 0], 2));
  const mm = startsWith(head, [0x4d, 0x4d]) && (startsWith(head, [0, 42], 2) || startsWith(head, [0, 43], 2));
  return ii || mm;
}
