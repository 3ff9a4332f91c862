// A tiny protobuf writer: varints, fixed32/64, length-delimited fields. Enough to emit ONNX ModelProto
// (onnx.proto is proto2: repeated scalars are written unpacked, one field per element).

export class ProtoWriter {
  /** Written bytes before `buf`, in order. Large byte fields and embedded messages are kept as they are (a
   * tensor's raw data is a view of its array), so the model is copied once, by finish(). */
  private chunks: Uint8Array[] = [];
  /** Bytes in `chunks`. */
  private chunked = 0;
  private buf = new Uint8Array(256);
  private pos = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.chunked + this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = new Uint8Array(Math.max(n, 256));
  }

  private flush(): void {
    if (this.pos > 0) {
      this.chunks.push(this.buf.slice(0, this.pos));
      this.chunked += this.pos;
    }
    this.pos = 0;
  }

  /** Appends `v`: copied into the buffer when small, kept by reference when large. */
  private append(v: Uint8Array): void {
    if (v.length > 4096) {
      this.flush();
      this.chunks.push(v);
      this.chunked += v.length;
    } else {
      this.ensure(v.length);
      this.buf.set(v, this.pos);
      this.pos += v.length;
    }
  }

  private varint(v: bigint | number): void {
    // int64 fields: negatives are 10-byte two's complement.
    let x = typeof v === 'bigint' ? BigInt.asUintN(64, v) : v >= 0 && v <= 0x7fffffff ? v : BigInt.asUintN(64, BigInt(v));
    this.ensure(10);
    if (typeof x === 'number') {
      while (x > 0x7f) {
        this.buf[this.pos++] = (x & 0x7f) | 0x80;
        x >>>= 7;
      }
      this.buf[this.pos++] = x;
    } else {
      while (x > 0x7fn) {
        this.buf[this.pos++] = Number(x & 0x7fn) | 0x80;
        x >>= 7n;
      }
      this.buf[this.pos++] = Number(x);
    }
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  /** int32/int64/enum/bool field (wire type 0). */
  int(field: number, v: number | bigint): this {
    this.tag(field, 0);
    this.varint(v);
    return this;
  }

  /** float field (wire type 5). */
  float(field: number, v: number): this {
    this.tag(field, 5);
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).setFloat32(0, v, true);
    this.pos += 4;
    return this;
  }

  /** bytes field (wire type 2). A large `v` is kept by reference until finish(): do not change it before. */
  bytes(field: number, v: Uint8Array): this {
    this.tag(field, 2);
    this.varint(v.length);
    this.append(v);
    return this;
  }

  string(field: number, v: string): this {
    return this.bytes(field, new TextEncoder().encode(v));
  }

  /** Embedded message field, written by `fill` into a fresh writer whose chunks then join this one's. */
  message(field: number, fill: (w: ProtoWriter) => void): this {
    const w = new ProtoWriter();
    fill(w);
    w.flush();
    this.tag(field, 2);
    this.varint(w.chunked);
    for (const c of w.chunks) this.append(c);
    return this;
  }

  /** The bytes written, in one array (the only copy of the large fields). */
  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.chunked);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    this.chunks = [out];
    return out;
  }
}
