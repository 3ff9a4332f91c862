// Dropped files and folders, flattened for upload: folders are walked with webkitGetAsEntry (the only
// way a browser exposes a dropped folder's contents), keeping each file's path inside the drop.
import type { DroppedFile } from '../api/client.js';

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/** A directory reader returns its entries in batches until an empty one. */
async function childrenOf(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  while (true) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

async function walk(entry: FileSystemEntry, prefix: string, out: DroppedFile[]): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    if (!entry.name.startsWith('.')) out.push({ file: await fileOf(entry as FileSystemFileEntry), relativePath: path });
  } else if (entry.isDirectory) {
    for (const child of await childrenOf(entry as FileSystemDirectoryEntry)) await walk(child, path, out);
  }
}

/** Every file of a drop, folders expanded recursively. */
export async function expandDrop(dt: DataTransfer): Promise<DroppedFile[]> {
  // Entries must be taken synchronously, before the first await: the DataTransfer empties after the event.
  const entries = Array.from(dt.items)
    .map((item) => (item.kind === 'file' ? item.webkitGetAsEntry() : null))
    .filter((e): e is FileSystemEntry => e !== null);
  const loose = entries.length === 0 ? Array.from(dt.files) : [];
  const out: DroppedFile[] = loose.map((file) => ({ file, relativePath: file.name }));
  for (const e of entries) await walk(e, '', out);
  return out;
}

/** The top-level items of a drop (files and folders as File objects), for hosts that import by path. */
export function topLevelDrop(dt: DataTransfer): DroppedFile[] {
  return Array.from(dt.files).map((file) => ({ file, relativePath: file.name }));
}
