// The byte-level writer of peer frames: LEB128 varints, length-prefixed
// strings and bytes, 0/1 booleans (layout in message-codec.ts). Its input is
// our own Raft core's messages, so a value of the wrong kind is a programmer
// error and throws. Small copies are hand-rolled: TypedArray.set has a fixed
// cost that dominates them on the send path.
import { fail } from './codec-errors.ts';

/** Appends primitives to a growable byte buffer sized by messageBytesBound. */
export class FrameWriter {
  private buf: Uint8Array;
  private pos = 0;

  constructor(bytesBound: number) {
    this.buf = new Uint8Array(bytesBound);
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    // Only reached if messageBytesBound under-estimates; grow rather than corrupt.
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.pos + bytes));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
  }

  u8(value: number): void {
    this.ensure(1);
    this.buf[this.pos++] = value;
  }

  bool(value: boolean): void {
    if (typeof value !== 'boolean') fail(`boolean expected, got ${typeof value}`);
    this.u8(value ? 1 : 0);
  }

  uint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) fail(`non-negative safe integer expected, got ${value}`);
    this.ensure(8);
    const buf = this.buf;
    let v = value;
    while (v > 0x7fffffff) {
      buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    while (v >= 0x80) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  str(value: string): void {
    if (typeof value !== 'string') fail(`string expected, got ${typeof value}`);
    // ASCII fast path (node ids, contexts): one byte per code unit.
    let ascii = true;
    for (let i = 0; i < value.length; i++) {
      if (value.charCodeAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      this.uint(value.length);
      this.ensure(value.length);
      for (let i = 0; i < value.length; i++) this.buf[this.pos++] = value.charCodeAt(i);
      return;
    }
    this.bytes(textEncoder.encode(value));
  }

  bytes(value: Uint8Array): void {
    if (!(value instanceof Uint8Array)) fail('Uint8Array expected');
    const n = value.length;
    this.uint(n);
    this.ensure(n);
    if (n <= 16) {
      // TypedArray.set has a fixed cost that dominates small copies.
      const buf = this.buf;
      let pos = this.pos;
      for (let i = 0; i < n; i++) buf[pos++] = value[i] as number;
      this.pos = pos;
    } else {
      this.buf.set(value, this.pos);
      this.pos += n;
    }
  }
}

const textEncoder = new TextEncoder();
