// Messages between the reader pool (pool.ts) and its worker threads (reader.worker.ts). A request carries
// an id that its reply repeats; 'drop' has no reply. `key` names one openImage of `path` (one
// RemoteReader): each thread that serves it opens its own reader of the file under that key, so every
// openImage sees the file as it is then, as a reader on the calling thread would. Pixels and JPEG bytes
// come back as transferred buffers (no copy).
import type { ImageMetadata } from '../common/api.js';
import type { ErrorEnvelope } from '../common/errors.js';

export type ReaderRequest =
  /** Open the file (or reuse the worker's open reader of it): its metadata, and whether it can hand out stored JPEG tiles. */
  | { op: 'open'; key: string; path: string }
  /** ImageReader.readRegion of the file. */
  | { op: 'read'; key: string; path: string; level: number; x: number; y: number; width: number; height: number }
  /** ImageReader.readChannels of a multi-channel file (planar float samples). */
  | { op: 'channels'; key: string; path: string; level: number; x: number; y: number; width: number; height: number }
  /** The tiled TIFF reader's jpegTile: one stored JPEG tile's bytes, or null. */
  | { op: 'jpegTile'; key: string; path: string; level: number; tx: number; ty: number };

export type ToReaderWorker = (ReaderRequest & { id: number }) | { op: 'drop'; key: string };

export interface OpenReply {
  meta: ImageMetadata;
  jpegTiles: boolean;
}

export type FromReaderWorker = { ready: true } | { id: number; ok: unknown } | { id: number; error: ErrorEnvelope };
