// One DICOM whole-slide instance as a tiled image: what its header says (geometry, pixel format, transfer
// syntax, which tile each frame is), validated before any frame is read, with the same budgets as tiled
// TIFF (tile size, level pixels). TILED_FULL instances store their tiles row by row (the first focal
// plane and optical path first); TILED_SPARSE ones say where each frame goes in the per-frame functional
// groups (Plane Position (Slide): column and row of its top-left pixel in the total pixel matrix), and
// tiles no frame covers read as background.
import { DinoscopeError } from '../../common/errors.js';
import { MAX_TILE_PIXELS, MAX_TILE_SIDE } from '../tiff/level.js';
import { type DicomHeader, MAX_FRAMES, numbers, T, text, TransferSyntax, u16, u32, u64s, UNDEFINED_LENGTH } from './parse.js';

/** VL Whole Slide Microscopy Image Storage. */
export const WSI_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.77.1.6';

export type Codec = 'raw' | 'jpeg' | 'jpeg2000';

const CODECS: Record<string, Codec> = {
  [TransferSyntax.ImplicitLittle]: 'raw',
  [TransferSyntax.ExplicitLittle]: 'raw',
  [TransferSyntax.JpegBaseline]: 'jpeg',
  [TransferSyntax.JpegExtended]: 'jpeg',
  [TransferSyntax.Jpeg2000Lossless]: 'jpeg2000',
  [TransferSyntax.Jpeg2000]: 'jpeg2000',
};

const SYNTAX_NAMES: Record<string, string> = {
  '1.2.840.10008.1.2.4.57': 'JPEG lossless',
  '1.2.840.10008.1.2.4.70': 'JPEG lossless',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS',
  '1.2.840.10008.1.2.4.201': 'High-Throughput JPEG 2000 lossless',
  '1.2.840.10008.1.2.4.202': 'High-Throughput JPEG 2000 (RPCL) lossless',
  '1.2.840.10008.1.2.4.203': 'High-Throughput JPEG 2000',
  '1.2.840.10008.1.2.5': 'RLE lossless',
  '1.2.840.10008.1.2.4.110': 'JPEG XL lossless',
  '1.2.840.10008.1.2.4.112': 'JPEG XL',
};

const PHOTOMETRICS = new Set(['MONOCHROME1', 'MONOCHROME2', 'RGB', 'YBR_FULL', 'YBR_FULL_422', 'YBR_ICT', 'YBR_RCT']);

export interface DicomInstance {
  path: string;
  sopInstance: string;
  seriesUid: string;
  /** The third value of ImageType: VOLUME for pyramid levels; LABEL, OVERVIEW or THUMBNAIL otherwise. */
  flavour: string;
  codec: Codec;
  transferSyntax: string;
  photometric: string;
  samples: number;
  planar: number;
  /** Total pixel matrix size (the image), and the tile (frame) size. */
  width: number;
  height: number;
  tileWidth: number;
  tileHeight: number;
  tilesAcross: number;
  tilesDown: number;
  frames: number;
  /** The frame of each tile (row-major), -1 where no frame covers it (sparse: reads as background). */
  tileFrames: Int32Array;
  /** Pixel spacing in mm (rows, columns), when stated. */
  spacingMm: [number, number] | null;
  pixelData: { offset: number; length: number };
  extendedOffsets: { offsets: number[]; lengths: number[] } | null;
  vendor: Record<string, string>;
}

/** The instance a header describes; UNSUPPORTED, CORRUPT or TOO_LARGE with the reason otherwise. */
export function describeInstance(path: string, h: DicomHeader, maxPixels: number): DicomInstance {
  const unsupported = (why: string): DinoscopeError => new DinoscopeError('UNSUPPORTED', `${path}: ${why}.`);
  const corrupt = (why: string): DinoscopeError => new DinoscopeError('CORRUPT', `${path}: ${why}.`);
  const v = h.values;
  const sopClass = text(v.get(T.SopClass)) ?? '';
  if (sopClass !== WSI_SOP_CLASS) {
    const modality = text(v.get(T.Modality));
    throw unsupported(
      `a DICOM ${modality ? `${modality} ` : ''}file of SOP class ${sopClass || '(none stated)'}, not a whole-slide microscopy image (VL Whole Slide Microscopy Image Storage, ${WSI_SOP_CLASS}); Dinoscope reads only those`,
    );
  }
  const codec = CODECS[h.transferSyntax];
  if (!codec) {
    const name = SYNTAX_NAMES[h.transferSyntax];
    throw unsupported(
      `its frames are ${name ?? `encoded in transfer syntax ${h.transferSyntax}`}${name ? ` (${h.transferSyntax})` : ''}, which Dinoscope does not decode; it reads uncompressed, JPEG baseline and JPEG 2000 frames`,
    );
  }
  const imageType = (text(v.get(T.ImageType)) ?? '').toUpperCase().split('\\');
  const flavour = imageType[2]?.trim() || 'VOLUME';
  const samples = u16(v.get(T.Samples)) ?? 1;
  const photometric = (text(v.get(T.Photometric)) ?? (samples === 3 ? 'RGB' : 'MONOCHROME2')).toUpperCase();
  const planar = u16(v.get(T.Planar)) ?? 0;
  const bits = u16(v.get(T.BitsAllocated)) ?? 8;
  const stored = u16(v.get(T.BitsStored)) ?? bits;
  if (bits !== 8 || stored !== 8) throw unsupported(`${stored}-bit samples (Dinoscope reads 8-bit whole-slide images)`);
  if (samples !== 1 && samples !== 3) throw unsupported(`${samples} samples per pixel`);
  if (!PHOTOMETRICS.has(photometric)) throw unsupported(`photometric interpretation ${photometric}`);
  if ((samples === 3) !== !photometric.startsWith('MONOCHROME'))
    throw corrupt(`photometric interpretation ${photometric} with ${samples} samples per pixel`);
  if (codec === 'raw' && photometric === 'YBR_FULL_422') throw unsupported('uncompressed YBR_FULL_422 (chroma-subsampled) pixels');
  const tileHeight = u16(v.get(T.Rows)) ?? 0;
  const tileWidth = u16(v.get(T.Columns)) ?? 0;
  if (!(tileWidth > 0 && tileHeight > 0 && tileWidth <= MAX_TILE_SIDE && tileHeight <= MAX_TILE_SIDE))
    throw corrupt(`its frame size ${tileWidth} × ${tileHeight} (Columns × Rows) is not between 1 and ${MAX_TILE_SIDE}`);
  if (tileWidth * tileHeight > MAX_TILE_PIXELS)
    throw new DinoscopeError(
      'TOO_LARGE',
      `${path}: its frames are ${tileWidth} × ${tileHeight} pixels, more than the ${MAX_TILE_PIXELS} (4096 × 4096) Dinoscope decodes at once.`,
    );
  const width = u32(v.get(T.TotalColumns)) ?? tileWidth;
  const height = u32(v.get(T.TotalRows)) ?? tileHeight;
  if (!(width > 0 && height > 0)) throw corrupt(`its total pixel matrix is ${width} × ${height}`);
  if (width * height > maxPixels)
    throw new DinoscopeError('TOO_LARGE', `${path}: declares ${width} × ${height} pixels, more than the ${maxPixels} allowed.`);
  const frames = numbers(v.get(T.Frames))[0] ?? 1;
  if (!(Number.isSafeInteger(frames) && frames >= 1 && frames <= MAX_FRAMES))
    throw corrupt(`it states ${text(v.get(T.Frames))} frames (between 1 and ${MAX_FRAMES} expected)`);
  const tilesAcross = Math.ceil(width / tileWidth);
  const tilesDown = Math.ceil(height / tileHeight);
  if (tilesAcross * tilesDown > MAX_FRAMES)
    throw new DinoscopeError(
      'TOO_LARGE',
      `${path}: its ${width} × ${height} matrix has ${tilesAcross * tilesDown} tiles, more than ${MAX_FRAMES}.`,
    );
  const tileFrames = new Int32Array(tilesAcross * tilesDown).fill(-1);
  const organization = (text(v.get(T.DimensionOrganization)) ?? '').toUpperCase();
  const positions = h.positions && organization !== 'TILED_FULL' && h.positions.some((p) => p !== 0) ? h.positions : null;
  if (positions) {
    for (let f = 0; f < frames; f++) {
      const col = positions[2 * f] - 1;
      const row = positions[2 * f + 1] - 1;
      if (col === -1 && row === -1)
        throw corrupt(`frame ${f + 1} of its ${frames} has no position (Plane Position (Slide)) in its per-frame functional groups`);
      if (col < 0 || row < 0 || col >= width || row >= height)
        throw corrupt(`frame ${f + 1} sits at column ${col + 1}, row ${row + 1}, outside its ${width} × ${height} total pixel matrix`);
      if (col % tileWidth !== 0 || row % tileHeight !== 0)
        throw unsupported(`frame ${f + 1} sits at column ${col + 1}, row ${row + 1}, off the ${tileWidth} × ${tileHeight} tile grid`);
      const tx = col / tileWidth;
      const ty = row / tileHeight;
      const i = ty * tilesAcross + tx;
      if (tileFrames[i] < 0) tileFrames[i] = f; // the first focal plane and optical path at that place
    }
  } else {
    if (frames < tileFrames.length)
      throw corrupt(
        `it has ${frames} frames, fewer than the ${tileFrames.length} tiles of its ${width} × ${height} matrix in ${tileWidth} × ${tileHeight} tiles (frames missing)`,
      );
    for (let i = 0; i < tileFrames.length; i++) tileFrames[i] = i;
  }
  if (!h.pixelData) throw corrupt('it has no pixel data');
  const encapsulated = h.pixelData.length === UNDEFINED_LENGTH;
  if (encapsulated !== (codec !== 'raw'))
    throw corrupt(
      encapsulated
        ? 'its pixel data is encapsulated but its transfer syntax is uncompressed'
        : 'its compressed pixel data is not encapsulated',
    );
  const offsets = h.values.has(T.ExtendedOffsets) ? (u64s(h.values.get(T.ExtendedOffsets)) ?? []) : null;
  const lengths = h.values.has(T.ExtendedLengths) ? (u64s(h.values.get(T.ExtendedLengths)) ?? []) : null;
  const vendor: Record<string, string> = {};
  const put = (key: string, t: number): void => {
    const s = text(v.get(t));
    if (s) vendor[key] = s;
  };
  put('dicom.Manufacturer', T.Manufacturer);
  put('dicom.ManufacturerModelName', T.ModelName);
  put('dicom.SoftwareVersions', T.Software);
  put('dicom.ContainerIdentifier', T.ContainerId);
  put('dicom.StudyInstanceUID', T.StudyUid);
  put('dicom.SeriesInstanceUID', T.SeriesUid);
  vendor['dicom.TransferSyntaxUID'] = h.transferSyntax;
  vendor['dicom.PhotometricInterpretation'] = photometric;
  if (organization) vendor['dicom.DimensionOrganizationType'] = organization;
  return {
    path,
    sopInstance: text(v.get(T.SopInstance)) ?? '',
    seriesUid: text(v.get(T.SeriesUid)) ?? '',
    flavour,
    codec,
    transferSyntax: h.transferSyntax,
    photometric,
    samples,
    planar,
    width,
    height,
    tileWidth,
    tileHeight,
    tilesAcross,
    tilesDown,
    frames,
    tileFrames,
    spacingMm: h.spacingMm,
    pixelData: h.pixelData,
    extendedOffsets: offsets && lengths ? { offsets, lengths } : null,
    vendor,
  };
}
