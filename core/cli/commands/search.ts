// `dinoscope search --project P --image I --x X --y Y [--k K] [--set S]`: the best-matching distinct
// regions over the collection for the patch under level-0 pixel (X, Y) of image I (id or file name).
// `--queries FILE` (or - for stdin) runs many queries over one loaded index: a script pays the index load
// once, not once per query. `--text "words"` (a feature set extracted with a dino.txt model) scores every
// patch of --image (default: the set's first image) against the text and lists the best regions.
import { readFile } from 'node:fs/promises';
import type { AnalysisMatch } from '../../common/api.js';
import { DinoscopeError } from '../../common/errors.js';
import { imageIdOf, openAnalysis } from '../analysis.js';
import type { AnalysisService } from '../../analysis/service.js';
import { checkFlags, flagNumber, flagValue, parseArgs, type Command } from '../command.js';

interface Query {
  image: string;
  points: { x: number; y: number }[];
  k: number;
}

const USAGE = `usage: dinoscope search --project P --image I --x X --y Y [--k K] [--set FEATURESET]
       dinoscope search --project P --queries FILE|- [--k K] [--set FEATURESET]
       dinoscope search --project P --text "words" [--image I] [--k K] [--set FEATURESET]

Prints JSON {query, matches: [{imageId, name, x, y, score}], ms} on stdout (x, y: level-0 pixels).
--queries: a JSON array of {"image": I, "x": X, "y": Y} (or "points": [{"x", "y"}, …] for the mean of
several patches, and an optional "k"), read from FILE or stdin; prints {"results": [one object as above
per query, in order], "ms"}. The index is loaded once for all of them.
--text: needs a feature set extracted with a model that has a dino.txt text tower attached (dinoscope
models attach-text); prints {query: {text, imageId}, matches, ms}; --image names the image whose patches
are scored (default: the set's first image).`;

/** The queries of a --queries file, checked: BAD_INPUT naming the first bad entry. */
function parseQueries(text: string, source: string, k: number): Query[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new DinoscopeError('BAD_INPUT', `${source} is not valid JSON (${(err as Error).message}).`);
  }
  if (!Array.isArray(v)) throw new DinoscopeError('BAD_INPUT', `${source} must hold a JSON array of queries ({"image", "x", "y"}).`);
  const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
  return v.map((q: unknown, i): Query => {
    const bad = (what: string): never => {
      throw new DinoscopeError('BAD_INPUT', `${source}, query ${i + 1}: ${what}.`);
    };
    if (typeof q !== 'object' || q === null) return bad('not an object');
    const o = q as Record<string, unknown>;
    if (typeof o.image !== 'string' || !o.image) bad('needs "image" (an image id or file name)');
    const points = o.points !== undefined ? o.points : [{ x: o.x, y: o.y }];
    if (!Array.isArray(points) || points.length === 0) return bad('"points" must be a non-empty array of {"x", "y"}');
    for (const p of points as unknown[])
      if (typeof p !== 'object' || p === null || !num((p as { x?: unknown }).x) || !num((p as { y?: unknown }).y))
        bad('needs numbers "x" and "y" (level-0 pixels)');
    if (o.k !== undefined && (!Number.isInteger(o.k) || (o.k as number) < 1)) bad('"k" must be a positive integer');
    return { image: o.image as string, points: points as { x: number; y: number }[], k: (o.k as number | undefined) ?? k };
  });
}

async function runQuery(service: AnalysisService, q: Query, featureSet: string | undefined): Promise<unknown> {
  const imageId = imageIdOf(service, q.image);
  const r = await service.similarityQuery({ imageId, points: q.points, k: q.k, featureSet });
  const matches = r.matches.map((m: AnalysisMatch) => ({
    imageId: m.imageId,
    name: m.name,
    x: Math.round(m.x),
    y: Math.round(m.y),
    score: m.score,
  }));
  const at = q.points.length === 1 ? q.points[0] : { points: q.points };
  return { query: { imageId, ...at, patches: r.queryPatches }, matches, ms: Math.round(r.ms) };
}

export const searchCommand: Command = {
  name: 'search',
  summary: 'find the regions of the collection most similar to a patch (or many, with --queries)',
  usage: USAGE,
  async run(argv, io) {
    const { positional, flags } = parseArgs(argv);
    checkFlags(flags, ['project', 'image', 'x', 'y', 'k', 'set', 'queries', 'text'], 'search');
    if (positional.length) throw new DinoscopeError('BAD_INPUT', `unexpected argument "${positional[0]}".`);
    const k = flagNumber(flags, 'k', true) ?? 10;
    const featureSet = flagValue(flags, 'set');
    const text = flagValue(flags, 'text');
    if (text !== undefined) {
      const clash = ['x', 'y', 'queries'].find((f) => flags.has(f));
      if (clash) throw new DinoscopeError('BAD_INPUT', `--text is the query; leave out --${clash}.`);
      if (!text.trim()) throw new DinoscopeError('BAD_INPUT', '--text needs some words to search for.');
      const service = await openAnalysis(flags);
      const image = flagValue(flags, 'image');
      const fc = await service.collection(featureSet);
      const imageId = image !== undefined ? imageIdOf(service, image) : fc.images.keys().next().value;
      if (imageId === undefined) throw new DinoscopeError('BAD_INPUT', `The feature set ${fc.set.id} has no images with features yet.`);
      io.stderr('search: encoding the text…\n');
      const r = await service.textQuery({ text, imageId, k, featureSet });
      const matches = r.matches.map((m: AnalysisMatch) => ({
        imageId: m.imageId,
        name: m.name,
        x: Math.round(m.x),
        y: Math.round(m.y),
        score: m.score,
      }));
      io.stdout(`${JSON.stringify({ query: { text, imageId }, matches, ms: Math.round(r.ms) }, null, 2)}\n`);
      return 0;
    }
    const file = flagValue(flags, 'queries');
    let queries: Query[];
    if (file !== undefined) {
      const clash = ['image', 'x', 'y'].find((f) => flags.has(f));
      if (clash) throw new DinoscopeError('BAD_INPUT', `--queries gives every query; leave out --${clash}.`);
      const source = file === '-' ? 'standard input' : file;
      let text: string;
      try {
        text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
      } catch {
        throw new DinoscopeError('BAD_INPUT', `cannot read the queries file ${file}.`);
      }
      queries = parseQueries(text, source, k);
    } else {
      const image = flagValue(flags, 'image');
      const x = flagNumber(flags, 'x', false);
      const y = flagNumber(flags, 'y', false);
      if (image === undefined || x === undefined || y === undefined)
        throw new DinoscopeError('BAD_INPUT', 'needs --image I --x X --y Y (level-0 pixels), or --queries FILE.');
      queries = [{ image, points: [{ x, y }], k }];
    }
    const service = await openAnalysis(flags);
    io.stderr('search: loading the index…\n');
    if (file === undefined) {
      io.stdout(`${JSON.stringify(await runQuery(service, queries[0], featureSet), null, 2)}\n`);
      return 0;
    }
    const t0 = performance.now();
    const results: unknown[] = [];
    for (const [i, q] of queries.entries()) {
      if (io.signal.aborted) throw new DinoscopeError('CANCELLED', 'search cancelled.');
      results.push(await runQuery(service, q, featureSet));
      io.stderr(`search: ${i + 1}/${queries.length}\n`);
    }
    io.stdout(`${JSON.stringify({ results, ms: Math.round(performance.now() - t0) }, null, 2)}\n`);
    return 0;
  },
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
