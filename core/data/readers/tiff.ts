// TIFF in all its flavours, told apart by the first directory: tiled → the tiled reader, as Aperio SVS
// (ImageDescription "Aperio …"), OME-TIFF (OME-XML) or plain tiled TIFF/BigTIFF; in strips → libvips
// decodes it whole (readers/sharp-image.ts). Metadata format ids: "svs", "ome-tiff", "bigtiff",
// "tiled-tiff", "tiff". Vendor flavours that only OpenSlide reads (NDPI, Philips, SCN, BIF:
// openslide/vendor-tiff.ts) go to OpenSlide, and so does any TIFF it recognises when
// DINOSCOPE_PREFER_OPENSLIDE=1 (format ids "openslide-<vendor>").
import type { ImageMetadata } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import type { ImageReader, OpenOptions, ReaderFormat } from '../reader.js';
import { isTiff } from '../sniff.js';
import { downsampleOf } from '../resolution.js';
import { tileLayout, isTiled } from '../tiff/level.js';
import { levelPlan } from '../tiff/level-plan.js';
import { pyramidDirs } from '../tiff/levels.js';
import { type Ifd, parseTiff, tagNumber, tagString } from '../tiff/parse.js';
import { FileSource } from '../tiff/source.js';
import { Tag } from '../tiff/tags.js';
import { boundedVendor, plausibleMpp } from '../vendor.js';
import { isMultiChannelOme, openOmeChannels } from './ome-channels.js';
import { isOme, parseOme } from './ome-tiff.js';
import { openSlideVendor, openWithOpenSlide, preferOpenSlide } from './openslide/format.js';
import { vendorTiff } from './openslide/vendor-tiff.js';
import { checkUnpyramided, DEFAULT_MAX_PIXELS, openSharpImage } from './sharp-image.js';
import { PYRAMID_CACHE_MIN_SIDE } from '../pyramid-cache.js';
import { aperioAssociatedName, isAperio, parseAperio } from './svs.js';
import { TiledTiffReader } from './tiled-tiff.js';

/** Microns per pixel from XResolution + ResolutionUnit (2 inch, 3 cm), when plausible (0.01–50 µm). */
export function resolutionMpp(ifd: Ifd): number | null {
  const xres = tagNumber(ifd, Tag.XResolution, 0);
  const unit = tagNumber(ifd, Tag.ResolutionUnit, 2);
  const per = unit === 2 ? 25400 : unit === 3 ? 10000 : 0;
  if (!(xres > 0) || per === 0) return null;
  const mpp = per / xres;
  return mpp >= 0.01 && mpp <= 50 ? mpp : null;
}

function tiffVendor(ifd: Ifd, bigTiff: boolean): Record<string, string> {
  const vendor: Record<string, string> = {};
  const software = tagString(ifd, Tag.Software);
  const date = tagString(ifd, Tag.DateTime);
  if (software) vendor['tiff.Software'] = software;
  if (date) vendor['tiff.DateTime'] = date;
  vendor['tiff.Compression'] = String(tagNumber(ifd, Tag.Compression, 1));
  vendor['tiff.Photometric'] = String(tagNumber(ifd, Tag.Photometric, -1));
  if (bigTiff) vendor['tiff.BigTIFF'] = 'true';
  return vendor;
}

async function openTiff(path: string, options: OpenOptions = {}): Promise<ImageReader> {
  const source = await FileSource.open(path);
  try {
    const structure = await parseTiff(source);
    const flavour = vendorTiff(structure.ifds);
    if (flavour || (preferOpenSlide() && (await openSlideVendor(path)))) {
      await source.close();
      return await openWithOpenSlide(path, flavour?.name ?? 'TIFF', options);
    }
    const base = structure.ifds[0];
    const description = tagString(base, Tag.ImageDescription);
    const w0 = tagNumber(base, Tag.ImageWidth, 0);
    const h0 = tagNumber(base, Tag.ImageLength, 0);
    const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
    if (!(w0 > 0 && h0 > 0)) throw new DinoscopeError('CORRUPT', `${path}: the first directory has no image size.`);
    if (w0 * h0 > maxPixels)
      throw new DinoscopeError('TOO_LARGE', `${path}: declares ${w0} × ${h0} pixels, more than the ${maxPixels} allowed.`);
    const vendor = tiffVendor(base, structure.bigTiff);
    if (isOme(description) && isMultiChannelOme(description ?? '', base)) {
      const info = parseOme(description ?? '');
      const checked = plausibleMpp(info.mpp, 'OME PhysicalSizeX');
      Object.assign(vendor, info.vendor);
      const mpp = checked.mpp ?? resolutionMpp(base);
      const meta = { format: 'ome-tiff', mpp, vendor: boundedVendor(vendor), ...(checked.warning ? { warnings: [checked.warning] } : {}) };
      return await openOmeChannels(path, source, structure, description ?? '', meta);
    }
    if (!isTiled(base)) {
      await source.close();
      return await openSharpImage(path, { format: 'tiff', mpp: resolutionMpp(base), vendor }, options);
    }
    let format = structure.bigTiff ? 'bigtiff' : 'tiled-tiff';
    let mpp = resolutionMpp(base);
    const warnings: string[] = [];
    let associatedName = (_ifd: Ifd, _i: number): string | null => null;
    if (isAperio(description)) {
      const info = parseAperio(description ?? '');
      format = 'svs';
      const checked = plausibleMpp(info.mpp, 'Aperio MPP');
      mpp = checked.mpp;
      if (checked.warning) warnings.push(checked.warning);
      Object.assign(vendor, info.vendor);
      associatedName = aperioAssociatedName;
    } else if (isOme(description)) {
      const info = parseOme(description ?? '');
      format = 'ome-tiff';
      const checked = plausibleMpp(info.mpp, 'OME PhysicalSizeX');
      mpp = checked.mpp ?? mpp;
      if (checked.warning) warnings.push(checked.warning);
      Object.assign(vendor, info.vendor);
    } else if (description && description.length <= 1024) vendor['tiff.ImageDescription'] = description;
    const dirs = pyramidDirs(structure.ifds, associatedName);
    const layouts = dirs.levels.map((ifd) => tileLayout(path, ifd, source.size));
    if (dirs.associated.length > 0) {
      vendor.associatedImages = dirs.associated.map((a) => a.name).join(',');
      for (const a of dirs.associated)
        vendor[`associated.${a.name}`] = `${tagNumber(a.ifd, Tag.ImageWidth, 0)}x${tagNumber(a.ifd, Tag.ImageLength, 0)}`;
    }
    const plan = levelPlan(layouts);
    if (plan.length === 1 && Math.max(w0, h0) > PYRAMID_CACHE_MIN_SIDE) checkUnpyramided(path, w0, h0); // its pyramid cache decodes it whole
    if (plan.length > layouts.length) vendor['dinoscope.synthesizedLevels'] = String(plan.length - layouts.length);
    const meta: ImageMetadata = {
      format,
      width: w0,
      height: h0,
      levels: plan.map((l) => ({ width: l.width, height: l.height, downsample: downsampleOf(w0, l.width) })),
      mpp,
      tileWidth: layouts[0].tileWidth,
      tileHeight: layouts[0].tileHeight,
      vendor: boundedVendor(vendor),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
    return new TiledTiffReader(path, meta, source, layouts, plan);
  } catch (err) {
    await source.close().catch(() => undefined);
    throw err;
  }
}

export const tiffFormat: ReaderFormat = {
  id: 'tiff',
  description:
    'TIFF: plain, tiled pyramidal, BigTIFF, Aperio SVS, OME-TIFF; Hamamatsu NDPI, Philips TIFF, Leica SCN and Ventana BIF through OpenSlide',
  sniff: (head: Uint8Array): boolean => isTiff(head),
  open: openTiff,
};
