// OME-TIFF: OME-XML in the first ImageDescription. Physical pixel size (PhysicalSizeX/Y with units,
// micrometres by default) gives mpp; reduced resolutions are SubIFDs of the full-resolution directory
// (the current layout) or further directories of the chain.

export function isOme(description: string | null): boolean {
  return description !== null && /<OME[\s>]/.test(description);
}

/** Micrometres per unit for the OME UnitsLength symbols we expect. */
const micronsPer: Record<string, number> = { 'µm': 1, 'μm': 1, um: 1, micron: 1, nm: 1e-3, 'Å': 1e-4, pm: 1e-6, mm: 1e3, cm: 1e4, m: 1e6 };

/** Attributes of the first element `name` in the XML (a light scan: OME-XML is machine-written). */
export function xmlAttributes(xml: string, name: string): Record<string, string> | null {
  const m = new RegExp(`<(?:\\w+:)?${name}\\b([^>]*)>`).exec(xml);
  if (!m) return null;
  const attrs: Record<string, string> = {};
  for (const a of m[1].matchAll(/([\w:]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) attrs[a[1]] = a[3] ?? a[4] ?? '';
  return attrs;
}

export interface OmeInfo {
  mpp: number | null;
  vendor: Record<string, string>;
}

export function parseOme(xml: string): OmeInfo {
  const vendor: Record<string, string> = {};
  const pixels = xmlAttributes(xml, 'Pixels') ?? {};
  for (const k of ['SizeX', 'SizeY', 'SizeC', 'SizeZ', 'SizeT', 'DimensionOrder', 'Type', 'PhysicalSizeX', 'PhysicalSizeXUnit', 'PhysicalSizeY', 'PhysicalSizeYUnit']) {
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
