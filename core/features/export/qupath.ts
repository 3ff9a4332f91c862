// "Export for QuPath": QuPath opens the original image file and imports the GeoJSON drawn on it
// (coordinates are level-0 pixels of that file). Beside the GeoJSON files we write open-in-qupath.txt:
// the steps, then one line per image pairing the image's path with its GeoJSON, so the user (or a
// QuPath script) knows which file goes with which.

export interface QupathPair {
  /** The original image file. */
  image: string;
  /** The GeoJSON file name in the export folder. */
  geojson: string;
}

/** What the user does next, in QuPath's own menu names (QuPath 0.4 and later). */
export function qupathSteps(dir: string, pairs: readonly QupathPair[]): string {
  const one = pairs.length === 1;
  return (
    `In QuPath: File › Open… and choose ${one ? `the image ${pairs[0].image}` : 'each image listed below'}; ` +
    `then File › Import objects from file… (or drag the file onto the viewer) and choose ${one ? pairs[0].geojson : 'its .geojson file'} in ${dir}. ` +
    'The regions appear as annotations classified by cluster, in the cluster colours.'
  );
}

/** The text of open-in-qupath.txt: the steps, then "image<TAB>geojson" per line. */
export function qupathGuide(dir: string, pairs: readonly QupathPair[]): string {
  return [qupathSteps(dir, pairs), '', 'image\tgeojson', ...pairs.map((p) => `${p.image}\t${p.geojson}`), ''].join('\n');
}
