// The protobuf writer against bytes written out by hand from the wire format, nested messages with small and
// large (kept by reference) byte fields included, and a large field's bytes appearing once in the result.
import { describe, expect, it } from 'vitest';
import { ProtoWriter } from './protobuf.js';

/** Varint bytes of a non-negative number. */
function varint(v: number): number[] {
  const out: number[] = [];
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

describe('ProtoWriter', () => {
  it('writes scalars, strings and nested messages as the wire format says', () => {
    const w = new ProtoWriter();
    w.int(1, 150).int(2, -1).float(3, 1.5).string(4, 'ab');
    w.message(5, (m) => m.int(1, 3).message(2, (mm) => mm.string(1, 'x')));
    const expected = [
      0x08,
      0x96,
      0x01, // field 1 varint 150
      0x10,
      ...Array(9).fill(0xff),
      0x01, // field 2 varint −1 (10 bytes)
      0x1d,
      0x00,
      0x00,
      0xc0,
      0x3f, // field 3 fixed32 1.5
      0x22,
      0x02,
      0x61,
      0x62, // field 4 "ab"
      0x2a,
      0x07,
      0x08,
      0x03,
      0x12,
      0x03,
      0x0a,
      0x01,
      0x78, // field 5 { 1: 3, 2: { 1: "x" } }
    ];
    expect(Array.from(w.finish())).toEqual(expected);
  });

  it('keeps large fields by reference until finish, which lays every byte out in order', () => {
    const big = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) % 251);
    const small = Uint8Array.from([9, 8, 7]);
    const w = new ProtoWriter();
    w.int(1, 1);
    w.message(2, (m) => {
      m.int(1, 2);
      m.message(3, (t) => t.bytes(9, big).bytes(10, small));
      m.int(4, 5);
    });
    w.int(3, 6);
    const inner = [0x4a, ...varint(big.length), ...big, 0x52, 0x03, 9, 8, 7];
    const mid = [0x08, 0x02, 0x1a, ...varint(inner.length), ...inner, 0x20, 0x05];
    const expected = [0x08, 0x01, 0x12, ...varint(mid.length), ...mid, 0x18, 0x06];
    expect(w.length).toBe(expected.length);
    // Not copied before finish (a model's weights are copied once): a change made now shows in the result.
    big[0] = 255;
    expected[expected.indexOf(0x4a) + 1 + varint(big.length).length] = 255;
    const out = w.finish();
    expect(out.length).toBe(expected.length);
    expect(Buffer.from(out).equals(Buffer.from(expected))).toBe(true);
  });
});
