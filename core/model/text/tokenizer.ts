// The byte-level BPE tokenizer of CLIP that dino.txt uses (dinov3/eval/text/tokenizer.py over
// thirdparty/CLIP/clip/simple_tokenizer.py), read from a vocabulary in the official format: a gzipped
// text file whose first line is a header and each further line one merge "a b", in rank order (the
// released model's is bpe_simple_vocab_16e6.txt.gz, 48,894 merges are used).
//
// Token ids: the 256 byte symbols, the same 256 with "</w>" (end of word), one id per merge, then
// <|startoftext|> and <|endoftext|> — so <|endoftext|> has the largest id, which the text tower's argmax
// pooling relies on. Texts are cleaned (NFC, HTML entities unescaped twice, whitespace collapsed,
// lower-cased), split by the official pattern, byte-encoded and merged by rank.
// Known difference: ftfy.fix_text's mojibake repair is not reproduced (its NFC normalisation is);
// captions typed by a user do not carry mojibake.
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { DinoscopeError } from '../../common/errors.js';

/** Merges the official tokenizer reads: lines 1 … 49152 − 256 − 2 of the file. */
const MAX_MERGES = 49152 - 256 - 2;
const SOT = '<|startoftext|>';
const EOT = '<|endoftext|>';
/** simple_tokenizer.py's pattern; \p classes need the u flag, IGNORECASE is i. */
const PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

/**
 * CLIP's reversible byte → printable character table (bytes_to_unicode): `table[byte]`, and `order`, the
 * symbols in the dict's insertion order (printable bytes first), which is the order of their ids.
 */
function byteSymbols(): { table: string[]; order: string[] } {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const table = new Array<string>(256);
  for (const b of bs) table[b] = String.fromCodePoint(b);
  let n = 0;
  const rest: number[] = [];
  for (let b = 0; b < 256; b++)
    if (!bs.includes(b)) {
      table[b] = String.fromCodePoint(256 + n++);
      rest.push(b);
    }
  return { table, order: [...bs, ...rest].map((b) => table[b]) };
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** html.unescape for numeric references and the common named ones. */
function unescapeHtml(s: string): string {
  return s.replace(/&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);/g, (m, body: string) => {
    if (body[0] === '#') {
      const cp = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    return ENTITIES[body] ?? m;
  });
}

export class BpeTokenizer {
  private readonly encoder = new Map<string, number>();
  private readonly ranks = new Map<string, number>();
  private readonly bytes: string[];
  private readonly cache = new Map<string, string[]>();
  readonly sot: number;
  readonly eot: number;

  /** From the vocabulary file's text (already decompressed). */
  constructor(vocabText: string) {
    const lines = vocabText.split('\n').slice(1, 1 + MAX_MERGES);
    const merges: [string, string][] = [];
    for (const [i, line] of lines.entries()) {
      if (line === '' && i === lines.length - 1) break; // a final newline
      const parts = line.split(/\s+/).filter((p) => p !== '');
      if (parts.length !== 2)
        throw new DinoscopeError('CORRUPT', `BPE vocabulary: line ${i + 2} is not a merge of two symbols ("${line.slice(0, 40)}").`);
      merges.push([parts[0], parts[1]]);
    }
    const { table, order } = byteSymbols();
    this.bytes = table;
    const vocab = [...order, ...order.map((s) => `${s}</w>`), ...merges.map(([a, b]) => a + b), SOT, EOT];
    vocab.forEach((v, i) => this.encoder.set(v, i));
    merges.forEach(([a, b], i) => this.ranks.set(`${a} ${b}`, i));
    this.sot = this.encoder.get(SOT)!;
    this.eot = this.encoder.get(EOT)!;
  }

  /** Reads a vocabulary file: gzipped (the official .txt.gz) or plain text. */
  static async fromFile(path: string): Promise<BpeTokenizer> {
    const raw = await readFile(path);
    const text = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
    return new BpeTokenizer(text);
  }

  /** Ids in the vocabulary: 512 + merges + 2. */
  get vocabSize(): number {
    return this.encoder.size;
  }

  private bpe(token: string): string[] {
    const hit = this.cache.get(token);
    if (hit) return hit;
    const chars = [...token];
    let word = [...chars.slice(0, -1), `${chars[chars.length - 1]}</w>`];
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const [a, b] = [word[best], word[best + 1]];
      const next: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i < word.length - 1 && word[i] === a && word[i + 1] === b) {
          next.push(a + b);
          i++;
        } else next.push(word[i]);
      }
      word = next;
    }
    this.cache.set(token, word);
    return word;
  }

  /** The ids of a text, without start and end tokens. */
  encode(text: string): number[] {
    const clean = unescapeHtml(unescapeHtml(text.normalize('NFC')).trim())
      .replace(/\s+/gu, ' ')
      .trim()
      .toLowerCase();
    const ids: number[] = [];
    for (const m of clean.matchAll(PATTERN)) {
      const token = m[0];
      if (token === SOT || token === EOT) {
        ids.push(this.encoder.get(token)!);
        continue;
      }
      const sym = [...new TextEncoder().encode(token)].map((b) => this.bytes[b]).join('');
      for (const piece of this.bpe(sym)) {
        const id = this.encoder.get(piece);
        if (id === undefined) throw new Error(`BPE: no id for ${piece}`); // every byte symbol has one
        ids.push(id);
      }
    }
    return ids;
  }

  /**
   * (texts, contextLength) int64 ids: <|startoftext|> text <|endoftext|>, zero-padded; a text too long
   * is cut and its last id replaced by <|endoftext|> (as the official tokenize()).
   */
  tokenize(texts: readonly string[], contextLength: number): BigInt64Array {
    const out = new BigInt64Array(texts.length * contextLength);
    texts.forEach((t, i) => {
      const ids = [this.sot, ...this.encode(t), this.eot].slice(0, contextLength);
      ids[ids.length - 1] = this.eot;
      ids.forEach((id, j) => (out[i * contextLength + j] = BigInt(id)));
    });
    return out;
  }
}
