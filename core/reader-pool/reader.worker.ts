// Reader worker entry (worker_threads): opens images with core/data's reader registry and answers the
// pool's requests (protocol.ts), so that decoding a file (LZW in JavaScript, huge headers, hostile
// metadata) never runs on the host's event loop. Open readers are kept by key until the pool says their
// RemoteReader was closed ('drop'), at most MAX_OPEN of them (an evicted one is opened again on demand). Bundled as dist/cli/reader.worker.js by
// scripts/build.mjs; in the source tree the pool boots it through tsx.
import { type MessagePort, parentPort } from 'node:worker_threads';
import { DinoscopeError, toEnvelope } from '../common/errors.js';
import type { ChannelImage, ImageReader, RgbImage } from '../data/reader.js';
import { openImage } from '../data/readers/registry.js';
import type { FromReaderWorker, OpenReply, ReaderRequest, ToReaderWorker } from './protocol.js';

function workerPort(): MessagePort {
  if (!parentPort) throw new Error('reader.worker.ts must run in a worker thread');
  return parentPort;
}
const port = workerPort();

/** Readers beyond this are closed oldest first (the pool drops them long before, normally). */
const MAX_OPEN = 32;
const readers = new Map<string, Promise<ImageReader>>();

interface JpegTileReader extends ImageReader {
  jpegTile(level: number, tx: number, ty: number): Promise<{ bytes: Uint8Array; tileWidth: number; tileHeight: number } | null>;
}
const hasJpegTiles = (r: ImageReader): r is JpegTileReader => typeof (r as Partial<JpegTileReader>).jpegTile === 'function';

function reader(key: string, path: string): Promise<ImageReader> {
  let r = readers.get(key);
  if (r) {
    readers.delete(key); // most recently used last
    readers.set(key, r);
    return r;
  }
  r = openImage(path);
  readers.set(key, r);
  r.catch(() => readers.get(key) === r && readers.delete(key));
  while (readers.size > MAX_OPEN) drop(readers.keys().next().value as string);
  return r;
}

function drop(key: string): void {
  const r = readers.get(key);
  if (!r) return;
  readers.delete(key);
  r.then((open) => open.close()).catch(() => undefined);
}

/** A buffer of its own (transferable without taking a shared pool slab along). */
function own(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
    ? bytes
    : bytes.slice();
}

async function answer(req: ReaderRequest): Promise<{ value: unknown; transfer: ArrayBuffer[] }> {
  const r = await reader(req.key, req.path);
  switch (req.op) {
    case 'open': {
      const reply: OpenReply = { meta: r.meta, jpegTiles: hasJpegTiles(r) };
      return { value: reply, transfer: [] };
    }
    case 'read': {
      const img = await r.readRegion(req.level, req.x, req.y, req.width, req.height);
      const data = own(img.data);
      const value: RgbImage = { data, width: img.width, height: img.height };
      return { value, transfer: [data.buffer as ArrayBuffer] };
    }
    case 'channels': {
      if (!r.readChannels) throw new DinoscopeError('BAD_INPUT', `${req.path}: not a multi-channel image; it has no channels to read.`);
      const img = await r.readChannels(req.level, req.x, req.y, req.width, req.height);
      const data = img.data.byteOffset === 0 && img.data.byteLength === img.data.buffer.byteLength ? img.data : img.data.slice();
      const value: ChannelImage = { data, width: img.width, height: img.height, channels: img.channels };
      return { value, transfer: [data.buffer as ArrayBuffer] };
    }
    case 'jpegTile': {
      const tile = hasJpegTiles(r) ? await r.jpegTile(req.level, req.tx, req.ty) : null;
      if (!tile) return { value: null, transfer: [] };
      const bytes = own(tile.bytes);
      return { value: { ...tile, bytes }, transfer: [bytes.buffer as ArrayBuffer] };
    }
  }
}

port.on('message', (msg: ToReaderWorker) => {
  if (msg.op === 'drop') return drop(msg.key);
  answer(msg).then(
    ({ value, transfer }) => port.postMessage({ id: msg.id, ok: value } satisfies FromReaderWorker, transfer),
    (err: unknown) => port.postMessage({ id: msg.id, error: toEnvelope(err) } satisfies FromReaderWorker),
  );
});
port.postMessage({ ready: true } satisfies FromReaderWorker);
