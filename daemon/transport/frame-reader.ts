// The byte-level reader of peer frames from untrusted peers: canonical LEB128
// varints within 2^53-1, strict UTF-8, 0/1 booleans, and every count and
// length checked against its CodecLimits maximum and against the bytes left,
// so a hostile count can never make the decoder allocate or loop beyond the
// frame.
import type { NodeId } from '../raft/types.ts';
import type { CodecLimits } from './codec-limits.ts';
import { DecodeFailure } from './codec-errors.ts';

/**
 * Reads primitives from one frame of untrusted bytes, checking each as it
 * goes; the first bad field throws a DecodeFailure (never anything else).
 */
export class FrameReader {
  private pos = 0;

  constructor(
    private readonly buf: Uint8Array,
    readonly limits: CodecLimits,
  ) {}

  atEnd(): boolean {
    return this.pos === this.buf.length;
  }

  remaining(): number {
    return this.buf.length - this.pos;
  }

  invalid(what: string): never {
    throw new DecodeFailure('FIELD_INVALID', `${what} at byte ${this.pos}`);
  }

  u8(): number {
    if (this.pos >= this.buf.length) throw new DecodeFailure('FRAME_TRUNCATED', `frame ends at byte ${this.pos}`);
    return this.buf[this.pos++] as number;
  }

  bool(): boolean {
    const b = this.u8();
    if (b > 1) this.invalid(`boolean byte ${b}`);
    return b === 1;
  }

  /** A canonical LEB128 varint ≤ Number.MAX_SAFE_INTEGER. */
  uint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (b === 0 && i > 0) this.invalid('non-canonical integer');
        if (value > Number.MAX_SAFE_INTEGER) this.invalid('integer beyond 2^53-1');
        return value;
      }
      scale *= 128;
    }
    return this.invalid('integer longer than 8 bytes');
  }

  /** A count bounded by `max` and by the bytes left (every item takes at least one). */
  count(max: number, what: string): number {
    const n = this.uint();
    if (n > max) throw new DecodeFailure('LIMIT_EXCEEDED', `${n} ${what} exceed the maximum ${max}`);
    if (n > this.remaining()) throw new DecodeFailure('FRAME_TRUNCATED', `${n} ${what} cannot fit in ${this.remaining()} bytes`);
    return n;
  }

  private length(max: number, what: string): number {
    const n = this.uint();
    if (n > max) throw new DecodeFailure('LIMIT_EXCEEDED', `${what} of ${n} bytes exceeds the maximum ${max}`);
    if (n > this.remaining()) throw new DecodeFailure('FRAME_TRUNCATED', `${what} of ${n} bytes, ${this.remaining()} left`);
    return n;
  }

  /** The next length-prefixed bytes, as a view into the decoder's own copy of the frame. */
  bytes(): Uint8Array {
    const n = this.length(this.limits.frameBytesMax, 'data');
    const out = new Uint8Array(this.buf.buffer, this.buf.byteOffset + this.pos, n);
    this.pos += n;
    return out;
  }

  private str(max: number, what: string): string {
    const n = this.length(max, what);
    const start = this.pos;
    const end = start + n;
    this.pos = end;
    let ascii = true;
    for (let i = start; i < end; i++) {
      if ((this.buf[i] as number) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      let s = '';
      for (let i = start; i < end; i++) s += String.fromCharCode(this.buf[i] as number);
      return s;
    }
    try {
      return strictDecoder.decode(this.buf.subarray(start, end));
    } catch {
      return this.invalid(`${what} is not valid UTF-8`);
    }
  }

  nodeId(allowEmpty: boolean): NodeId {
    const id = this.str(this.limits.nodeIdBytesMax, 'node id');
    if (!allowEmpty && id.length === 0) this.invalid('empty node id');
    return id;
  }

  context(): string {
    return this.str(this.limits.contextBytesMax, 'context');
  }

  members(): NodeId[] {
    const n = this.count(this.limits.membersMax, 'members');
    const ids: NodeId[] = new Array<NodeId>(n);
    for (let i = 0; i < n; i++) ids[i] = this.nodeId(false);
    return ids;
  }
}

const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
