// Where each frame of an instance lies in its file, found once at open without reading the frames:
// uncompressed frames follow one another; encapsulated (compressed) frames are items of the Pixel Data
// sequence, located by the Extended Offset Table when there is one, else by the Basic Offset Table, else
// by walking the item headers (8 bytes each; a frame that spans several fragments is told by its codec's
// start marker). A frame is then one read of its span and, when encapsulated, its fragments joined.
import { DinoscopeError } from '../../common/errors.js';
import { MAX_TILE_BYTES } from '../tiff/level.js';
import type { FileSource } from '../tiff/source.js';
import { Cursor } from './cursor.js';
import type { DicomInstance } from './instance.js';
import { MAX_FRAMES, T, tagName } from './parse.js';

/** Fragments the last frame of a Basic-Offset-Table instance may span. */
const MAX_LAST_FRAME_FRAGMENTS = 4096;

/** An item or delimiter header of encapsulated pixel data: tag and 4-byte length, no VR. */
async function itemHeader(c: Cursor): Promise<{ tag: number; length: number }> {
  const group = await c.u16('a pixel data item');
  const element = await c.u16('a pixel data item');
  return { tag: ((group << 16) | element) >>> 0, length: await c.u32('a pixel data item') };
}

export interface FrameSpans {
  /** Byte range [start, end) of frame i: its pixels (raw) or its fragment items (encapsulated). */
  span(i: number): [number, number];
  encapsulated: boolean;
}

/** The spans of an instance's frames; CORRUPT when they contradict the file. */
export async function locateFrames(source: FileSource, inst: DicomInstance): Promise<FrameSpans> {
  const path = source.path;
  const corrupt = (why: string): DinoscopeError => new DinoscopeError('CORRUPT', `${path}: ${why}.`);
  const { offset, length } = inst.pixelData;
  const frames = inst.frames;
  if (inst.codec === 'raw') {
    const frameBytes = inst.tileWidth * inst.tileHeight * inst.samples;
    const needed = frameBytes * frames;
    if (length < needed)
      throw corrupt(`its pixel data holds ${length} bytes, fewer than its ${frames} frames need (${needed}; frames missing)`);
    if (offset + needed > source.size)
      throw corrupt(`its pixel data lies beyond the end of the file (${offset + needed} > ${source.size} bytes; truncated?)`);
    return { encapsulated: false, span: (i) => [offset + i * frameBytes, offset + (i + 1) * frameBytes] };
  }
  const c = new Cursor(source, offset);
  const bot = await itemHeader(c);
  if (bot.tag !== T.Item) throw corrupt('its encapsulated pixel data does not start with an offset table item');
  if (bot.length % 4 !== 0 || bot.length > 4 * MAX_FRAMES) throw corrupt(`its basic offset table is ${bot.length} bytes long`);
  const base = c.pos + bot.length;
  if (base > source.size) throw corrupt('its basic offset table lies beyond the end of the file (truncated?)');
  const starts = new Float64Array(frames);
  const ends = new Float64Array(frames);
  const spans = (): FrameSpans => ({ encapsulated: true, span: (i) => [starts[i], ends[i]] });
  const checkSpan = (i: number): void => {
    if (!(starts[i] >= base && ends[i] > starts[i] + 8 && ends[i] - starts[i] <= MAX_TILE_BYTES + 8 * 1024))
      throw corrupt(`frame ${i + 1} has an impossible position or size in its offset table`);
    if (ends[i] > source.size) throw corrupt(`frame ${i + 1} lies beyond the end of the file (truncated?)`);
  };

  const eot = inst.extendedOffsets;
  if (eot) {
    if (eot.offsets.length !== frames || eot.lengths.length !== frames)
      throw corrupt(`its extended offset table lists ${eot.offsets.length} frames (${eot.lengths.length} lengths) for its ${frames}`);
    for (let i = 0; i < frames; i++) {
      starts[i] = base + eot.offsets[i];
      ends[i] = starts[i] + 8 + eot.lengths[i];
      checkSpan(i);
    }
    return spans();
  }
  if (bot.length === 4 * frames) {
    const table = await source.read(base - bot.length, bot.length, 'the basic offset table');
    const v = new DataView(table.buffer, table.byteOffset, table.byteLength);
    for (let i = 0; i < frames; i++) starts[i] = base + v.getUint32(4 * i, true);
    for (let i = 0; i + 1 < frames; i++) ends[i] = starts[i + 1];
    for (let i = 0; i < frames; i++)
      if (starts[i] + 8 > source.size)
        throw corrupt(
          `frame ${i + 1} lies beyond the end of the file (its offset table says byte ${starts[i]} of ${source.size}; truncated?)`,
        );
    // The last frame runs to the sequence delimiter: walk its items.
    c.pos = starts[frames - 1];
    for (let n = 0; ; n++) {
      if (n > MAX_LAST_FRAME_FRAGMENTS) throw corrupt(`its last frame has more than ${MAX_LAST_FRAME_FRAGMENTS} fragments`);
      const at = c.pos;
      const item = await itemHeader(c);
      if (item.tag === T.SequenceEnd) {
        ends[frames - 1] = at;
        break;
      }
      if (item.tag !== T.Item) throw corrupt(`its pixel data holds ${tagName(item.tag)} where a fragment should be`);
      c.skip(item.length, 'a pixel data fragment');
    }
    for (let i = 0; i < frames; i++) checkSpan(i);
    return spans();
  }
  if (bot.length !== 0) throw corrupt(`its basic offset table lists ${bot.length / 4} frames for its ${frames}`);
  // No offset table: walk the fragments, noting where each starts and whether it begins a codestream.
  c.pos = base;
  const fragStarts: number[] = [];
  const beginsFrame: boolean[] = [];
  const marker = inst.codec === 'jpeg' ? [0xff, 0xd8] : [0xff, 0x4f];
  for (;;) {
    if (fragStarts.length > MAX_FRAMES) throw corrupt(`its pixel data has more than ${MAX_FRAMES} fragments`);
    const at = c.pos;
    const item = await itemHeader(c);
    if (item.tag === T.SequenceEnd) {
      fragStarts.push(at); // the end of the last fragment
      break;
    }
    if (item.tag !== T.Item) throw corrupt(`its pixel data holds ${tagName(item.tag)} where a fragment should be`);
    if (item.length > MAX_TILE_BYTES) throw corrupt(`a fragment of its pixel data claims ${item.length} bytes`);
    const head = item.length >= 2 && c.pos + 2 <= source.size ? await source.read(c.pos, 2, 'a pixel data fragment') : new Uint8Array(2);
    fragStarts.push(at);
    beginsFrame.push(head[0] === marker[0] && head[1] === marker[1]);
    c.skip(item.length, 'a pixel data fragment');
  }
  const fragments = beginsFrame.length;
  let frameStarts: number[];
  if (fragments === frames) frameStarts = [...Array(frames).keys()];
  else if (frames === 1) frameStarts = [0];
  else frameStarts = beginsFrame.flatMap((b, i) => (b ? [i] : []));
  if (frameStarts.length !== frames)
    throw corrupt(`its pixel data has ${fragments} fragments, which cannot be told apart into its ${frames} frames (frames missing?)`);
  for (let i = 0; i < frames; i++) {
    starts[i] = fragStarts[frameStarts[i]];
    ends[i] = i + 1 < frames ? fragStarts[frameStarts[i + 1]] : fragStarts[fragments];
    checkSpan(i);
  }
  return spans();
}

/** The bytes of frame i: raw pixels, or the frame's fragments joined. */
export async function readFrame(source: FileSource, spans: FrameSpans, i: number, what: string): Promise<Uint8Array> {
  const [start, end] = spans.span(i);
  const bytes = await source.read(start, end - start, what);
  if (!spans.encapsulated) return bytes;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Uint8Array[] = [];
  let p = 0;
  while (p + 8 <= bytes.length) {
    const t = ((v.getUint16(p, true) << 16) | v.getUint16(p + 2, true)) >>> 0;
    const length = v.getUint32(p + 4, true);
    if (t === T.SequenceEnd) break;
    if (t !== T.Item || p + 8 + length > bytes.length)
      throw new DinoscopeError('CORRUPT', `${source.path}: ${what} is not a well-formed fragment (its length runs past the frame).`);
    parts.push(bytes.subarray(p + 8, p + 8 + length));
    p += 8 + length;
  }
  if (parts.length === 1) return parts[0];
  return Buffer.concat(parts);
}
