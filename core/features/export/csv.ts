// Search results as CSV (RFC 4180): header image,x,y,score,rank; fields with a comma, quote or line break
// are quoted with inner quotes doubled. x, y are level-0 pixels of the patch centre.

export interface CsvRow {
  image: string;
  x: number;
  y: number;
  score: number;
  rank: number;
}

export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function resultsCsv(rows: readonly CsvRow[]): string {
  const lines = ['image,x,y,score,rank'];
  for (const r of rows) lines.push([csvField(r.image), Math.round(r.x), Math.round(r.y), r.score.toFixed(6), r.rank].join(','));
  return lines.join('\r\n') + '\r\n';
}
