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
export function qupathSteps(dir: string, pairs: readonly QupathPair[], what: 'clusters' | 'similarity' = 'clusters'): string {
  const regions =
    what === 'clusters'
      ? 'The regions appear as annotations classified "cluster 0", "cluster 1", …, in the colours and names of the app\'s legend.'
      : 'The region appears as one annotation classified by its similarity threshold.';
  if (pairs.length === 1) {
    return `In QuPath: File › Open… and choose the image ${pairs[0].image}; then File › Import objects from file… (or drag the file onto the viewer) and choose ${pairs[0].geojson} in ${dir}. ${regions}`;
  }
  return (
    `In QuPath, for each image: File › Open… and choose the image file; then File › Import objects from file… (or drag the file onto the viewer) and choose the .geojson named after that image in ${dir}. ` +
    `open-in-qupath.txt there lists which image file goes with which GeoJSON. ${regions}`
  );
}

/** The text of open-in-qupath.txt: the steps, then "image<TAB>geojson" per line. */
export function qupathGuide(dir: string, pairs: readonly QupathPair[], what: 'clusters' | 'similarity' = 'clusters'): string {
  return [qupathSteps(dir, pairs, what), '', 'image\tgeojson', ...pairs.map((p) => `${p.image}\t${p.geojson}`), ''].join('\n');
}
