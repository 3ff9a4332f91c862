// TIFF LZW decoder (TIFF 6.0 section 13): codes are read MSB-first, 9 to 12 bits wide, with the "early
// change" of libtiff: the width grows when the next free code reaches 2^width − 1. Code 256 clears the
// table, 257 ends the strip. Output is bounded by `expected` bytes, so a corrupt stream cannot grow it.

const CLEAR = 256;
const EOI = 257;
const FIRST_FREE = 258;
const MAX_CODES = 4096;

export function decodeLzw(input: Uint8Array, expected: number): Uint8Array {
  const out = new Uint8Array(expected);
  const prefix = new Int16Array(MAX_CODES); // previous code of each entry's string
  const suffix = new Uint8Array(MAX_CODES); // last byte of each entry's string
  const first = new Uint8Array(MAX_CODES); // first byte of each entry's string
  const length = new Uint16Array(MAX_CODES); // string length of each entry
  for (let i = 0; i < 256; i++) {
    prefix[i] = -1;
    suffix[i] = i;
    first[i] = i;
    length[i] = 1;
  }
  let pos = 0;
  let bytePos = 0;
  let bitBuf = 0; // the low bitCount bits are unread input
  let bitCount = 0;
  let width = 9;
  let next = FIRST_FREE;
  let prev = -1;

  const readCode = (): number => {
    while (bitCount < width) {
      if (bytePos >= input.length) return EOI;
      bitBuf = ((bitBuf << 8) | input[bytePos++]) & 0xfffff;
      bitCount += 8;
    }
    bitCount -= width;
    return (bitBuf >>> bitCount) & ((1 << width) - 1);
  };

  /** Write the string of `code` at pos; returns false when the output is full. */
  const emit = (code: number): boolean => {
    const len = length[code];
    let end = pos + len;
    if (end > expected) end = expected;
    let c = code;
    for (let k = pos + len - 1; k >= pos; k--) {
      if (k < end) out[k] = suffix[c];
      c = prefix[c];
    }
    pos = end;
    return pos < expected;
  };

  while (true) {
    const code = readCode();
    if (code === EOI) break;
    if (code === CLEAR) {
      width = 9;
      next = FIRST_FREE;
      prev = -1;
      continue;
    }
    let more: boolean;
    if (prev === -1) {
      if (code > 255) throw new Error('LZW stream starts with an undefined code');
      more = emit(code);
    } else if (code < next) {
      if (next < MAX_CODES) {
        prefix[next] = prev;
        suffix[next] = first[code];
        first[next] = first[prev];
        length[next] = length[prev] + 1;
        next++;
      }
      more = emit(code);
    } else if (code === next && next < MAX_CODES) {
      prefix[next] = prev;
      suffix[next] = first[prev];
      first[next] = first[prev];
      length[next] = length[prev] + 1;
      next++;
      more = emit(code);
    } else {
      throw new Error(`LZW code ${code} is not yet defined`);
    }
    prev = code;
    if (next >= (1 << width) - 1 && width < 12) width++;
    if (!more) break;
  }
  return out;
}
