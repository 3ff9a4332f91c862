// The ImageReader the pool hands out: metadata on this thread, every read a request to a worker thread.
// Readers of tiled TIFFs also offer jpegTile (the tile server's pass-through of stored JPEG tiles), readers of
// multi-channel images readChannels.
import type { ImageMetadata } from '../common/api.js';
import { DinoscopeError } from '../common/errors.js';
import type { ChannelImage, ImageReader, RgbImage } from '../data/reader.js';
import type { ReaderRequest } from './protocol.js';

/** What a remote reader needs from its pool. */
export interface ReaderChannel {
  request(req: ReaderRequest): Promise<unknown>;
  /** The reader `key` is closed: the threads close theirs. */
  release(key: string): void;
}

export class RemoteReader implements ImageReader {
  private closed = false;

  constructor(
    protected readonly channel: ReaderChannel,
    protected readonly key: string,
    readonly path: string,
    readonly meta: ImageMetadata,
  ) {}

  async readRegion(level: number, x: number, y: number, width: number, height: number): Promise<RgbImage> {
    this.checkOpen();
    return (await this.channel.request({ op: 'read', key: this.key, path: this.path, level, x, y, width, height })) as RgbImage;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channel.release(this.key);
  }

  protected checkOpen(): void {
    if (this.closed) throw new DinoscopeError('INTERNAL', `The reader of ${this.path} was used after it was closed.`);
  }
}

export class RemoteJpegTileReader extends RemoteReader {
  async jpegTile(level: number, tx: number, ty: number): Promise<{ bytes: Uint8Array; tileWidth: number; tileHeight: number } | null> {
    this.checkOpen();
    return (await this.channel.request({ op: 'jpegTile', key: this.key, path: this.path, level, tx, ty })) as {
      bytes: Uint8Array;
      tileWidth: number;
      tileHeight: number;
    } | null;
  }
}

export class RemoteChannelReader extends RemoteReader {
  async readChannels(level: number, x: number, y: number, width: number, height: number): Promise<ChannelImage> {
    this.checkOpen();
    return (await this.channel.request({ op: 'channels', key: this.key, path: this.path, level, x, y, width, height })) as ChannelImage;
  }
}
