// OME-TIFF: OME-XML in the first ImageDescription. Physical pixel size (PhysicalSizeX/Y with units,
// micrometres by default) gives mpp; reduced resolutions are SubIFDs of the full-resolution directory
// (the current layout) or further directories of the chain.

export function isOme(description: string | null): boolean {
  return description !== null && /<OME[\s>]/.test(description);
}

/** Micrometres per unit for the OME UnitsLength symbols we expect. */
const micronsPer: Record<string, number> = { µm: 1, μm: 1, um: 1, micron: 1, nm: 1e-3, Å: 1e-4, pm: 1e-6, mm: 1e3, cm: 1e4, m: 1e6 };

const isNameChar = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 58; // [\w:]
const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13;

/** name="value" (or 'value') pairs of one start tag's inside, in one pass; anything else is stepped over. */
function attributes(inside: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  let p = 0;
  while (p < inside.length) {
    const start = p;
    while (p < inside.length && isNameChar(inside.charCodeAt(p))) p++;
    if (p === start) {
      p++;
      continue;
    }
    const key = inside.slice(start, p);
    while (p < inside.length && isSpace(inside.charCodeAt(p))) p++;
    if (inside[p] !== '=') continue;
    p++;
    while (p < inside.length && isSpace(inside.charCodeAt(p))) p++;
    const quote = inside[p];
    if (quote !== '"' && quote !== "'") continue;
    const end = inside.indexOf(quote, p + 1);
    if (end < 0) break; // an unclosed value runs to the end: nothing after it is an attribute
    attrs[key] = inside.slice(p + 1, end);
    p = end + 1;
  }
  return attrs;
}

/**
 * Attributes of the first element `name` (with or without a namespace prefix) in the XML. A light scan,
 * OME-XML being machine-written, and linear in the length of the text: every character is looked at a
 * bounded number of times, so a hostile multi-megabyte description cannot stall it.
 */
export function xmlAttributes(xml: string, name: string): Record<string, string> | null {
  return xmlElements(xml, name, 1)[0] ?? null;
}

/** Attributes of the first `max` elements `name`, in document order; the same linear scan. */
export function xmlElements(xml: string, name: string, max: number): Record<string, string>[] {
  const found: Record<string, string>[] = [];
  let from = 0;
  while (found.length < max) {
    const lt = xml.indexOf('<', from);
    if (lt < 0) break;
    let p = lt + 1;
    while (p < xml.length && isNameChar(xml.charCodeAt(p))) p++;
    const tag = xml.slice(lt + 1, p);
    const colon = tag.indexOf(':');
    const local = colon >= 0 && colon === tag.lastIndexOf(':') ? tag.slice(colon + 1) : tag;
    if (local === name) {
      const gt = xml.indexOf('>', p);
      if (gt < 0) break;
      found.push(attributes(xml.slice(p, gt)));
      p = gt + 1;
    }
    from = p;
  }
  return found;
}

export interface OmeInfo {
  mpp: number | null;
  vendor: Record<string, string>;
}

export function parseOme(xml: string): OmeInfo {
  const vendor: Record<string, string> = {};
  const pixels = xmlAttributes(xml, 'Pixels') ?? {};
  for (const k of [
    'SizeX',
    'SizeY',
    'SizeC',
    'SizeZ',
    'SizeT',
    'DimensionOrder',
    'Type',
    'PhysicalSizeX',
    'PhysicalSizeXUnit',
    'PhysicalSizeY',
    'PhysicalSizeYUnit',
  ]) {
    if (pixels[k] !== undefined) vendor[`ome.Pixels.${k}`] = pixels[k];
  }
  const image = xmlAttributes(xml, 'Image');
  if (image?.Name) vendor['ome.Image.Name'] = image.Name;
  const objective = xmlAttributes(xml, 'Objective');
  if (objective?.NominalMagnification) vendor['ome.Objective.NominalMagnification'] = objective.NominalMagnification;
  if (objective?.Model) vendor['ome.Objective.Model'] = objective.Model;
  const microscope = xmlAttributes(xml, 'Microscope');
  if (microscope?.Model) vendor['ome.Microscope.Model'] = microscope.Model;
  const size = Number.parseFloat(pixels.PhysicalSizeX ?? '');
  const unit = micronsPer[pixels.PhysicalSizeXUnit ?? 'µm'];
  const mpp = Number.isFinite(size) && size > 0 && unit !== undefined ? size * unit : null;
  return { mpp, vendor };
}
