// TIFF 6.0 / BigTIFF tag numbers and field types used by the readers.

export const Tag = {
  NewSubfileType: 254,
  ImageWidth: 256,
  ImageLength: 257,
  BitsPerSample: 258,
  Compression: 259,
  Photometric: 262,
  ImageDescription: 270,
  StripOffsets: 273,
  SamplesPerPixel: 277,
  RowsPerStrip: 278,
  StripByteCounts: 279,
  XResolution: 282,
  YResolution: 283,
  PlanarConfig: 284,
  ResolutionUnit: 296,
  Software: 305,
  DateTime: 306,
  Predictor: 317,
  TileWidth: 322,
  TileLength: 323,
  TileOffsets: 324,
  TileByteCounts: 325,
  SubIFDs: 330,
  ExtraSamples: 338,
  SampleFormat: 339,
  JPEGTables: 347,
  YCbCrSubSampling: 530,
  /** Adobe XMP packet: Ventana BIF keeps its iScan XML here. */
  XMP: 700,
  /** Hamamatsu NDPI's private format marker. */
  NdpiFormat: 65420,
} as const;

export const Compression = {
  None: 1,
  LZW: 5,
  OldJPEG: 6,
  JPEG: 7,
  AdobeDeflate: 8,
  PackBits: 32773,
  Deflate: 32946,
  Aperio_JP2K_YCbCr: 33003,
  Aperio_JP2K_RGB: 33005,
  JPEG2000: 34712,
  WebP: 50001,
  ZSTD: 50000,
} as const;

export const Photometric = { MinIsWhite: 0, MinIsBlack: 1, RGB: 2, Palette: 3, YCbCr: 6 } as const;

/** Bytes per value of each TIFF field type (0 = unknown type). */
export const typeSize: Record<number, number> = {
  1: 1, // BYTE
  2: 1, // ASCII
  3: 2, // SHORT
  4: 4, // LONG
  5: 8, // RATIONAL
  6: 1, // SBYTE
  7: 1, // UNDEFINED
  8: 2, // SSHORT
  9: 4, // SLONG
  10: 8, // SRATIONAL
  11: 4, // FLOAT
  12: 8, // DOUBLE
  13: 4, // IFD
  16: 8, // LONG8
  17: 8, // SLONG8
  18: 8, // IFD8
};
