// The peer wire format: a batch of Raft messages as one compact binary frame.
//
// Why hand-rolled rather than a library (protobuf, msgpack, CBOR): the Message
// union is small and closed, entries carry raw bytes, and we must validate
// every field of untrusted input anyway. A fixed layout with LEB128 varints
// needs no schema compiler, no base64, no intermediate objects, and its
// validation sits in the one place that reads each field.
//
// Frame layout (version 1). `uint` is an unsigned LEB128 varint (canonical, at
// most 8 bytes, ≤ Number.MAX_SAFE_INTEGER); `str` is uint byte length + UTF-8;
// `bytes` is uint length + raw bytes; `bool` is one byte, 0 or 1.
//
//   frame   = u8 version(=1) · uint messageCount · message*
//   message = u8 typeCode · str from · str to · uint term · body
//   app             uint index · uint logTerm · uint commit · uint entryCount · entry*
//   entry           u8 entryType(0 normal, 1 conf-change) · uint term · uint index · bytes data
//   app-resp        uint index · bool reject · uint rejectHint · uint logTerm
//   vote, pre-vote  uint index · uint logTerm · bool transfer
//   vote-resp, pre-vote-resp   bool reject
//   heartbeat       uint commit · uint commitTerm · str context
//   heartbeat-resp  str context
//   snap            uint index · uint term · uint voterCount · str* · uint learnerCount · str* · bytes data
//   timeout-now     (nothing)
//   read-index      str context
//   read-index-resp str context · uint index
//   transfer-leader str target
//   rejoin, rejoin-resp   uint index · uint logTerm
import type { Entry, EntryType, Message, MessageType, NodeId } from '../raft/types.ts';

/** The only frame version this code reads and writes. */
export const FRAME_VERSION = 1;

/** Bounds on what a decoder accepts; every count and size has a maximum. */
export interface CodecLimits {
  /** Bytes of one whole frame, at most. */
  readonly frameBytesMax: number;
  /** Messages in one frame, at most. */
  readonly messagesPerFrameMax: number;
  /** Entries in one append message, at most. */
  readonly entriesPerMessageMax: number;
  /** UTF-8 bytes of a node id (from, to, target, members), at most. */
  readonly nodeIdBytesMax: number;
  /** UTF-8 bytes of a ReadIndex context, at most. */
  readonly contextBytesMax: number;
  /** Voters plus learners in a snapshot's membership, at most. */
  readonly membersMax: number;
}

/** Defaults sized for a three-to-seven node cluster shipping snapshots in one frame. */
export const DEFAULT_CODEC_LIMITS: CodecLimits = {
  frameBytesMax: 32 * 1024 * 1024,
  messagesPerFrameMax: 4096,
  entriesPerMessageMax: 1_000_000,
  nodeIdBytesMax: 64,
  contextBytesMax: 4096,
  membersMax: 64,
};

/** Why a frame was refused; stable codes for logs and counters. */
export type DecodeErrorCode =
  | 'FRAME_EMPTY'
  | 'FRAME_TOO_LARGE'
  | 'FRAME_VERSION_UNSUPPORTED'
  | 'FRAME_TRUNCATED'
  | 'FRAME_TRAILING_BYTES'
  | 'MESSAGE_TYPE_UNKNOWN'
  | 'FIELD_INVALID'
  | 'MESSAGE_INCONSISTENT'
  | 'LIMIT_EXCEEDED';

export type DecodeResult =
  | { readonly ok: true; readonly messages: Message[] }
  | { readonly ok: false; readonly code: DecodeErrorCode; readonly message: string };

const TYPE_CODES: Readonly<Record<MessageType, number>> = {
  app: 1,
  'app-resp': 2,
  vote: 3,
  'pre-vote': 4,
  'vote-resp': 5,
  'pre-vote-resp': 6,
  heartbeat: 7,
  'heartbeat-resp': 8,
  snap: 9,
  'timeout-now': 10,
  'read-index': 11,
  'read-index-resp': 12,
  'transfer-leader': 13,
  rejoin: 14,
  'rejoin-resp': 15,
};
const TYPES_BY_CODE: readonly (MessageType | undefined)[] = (() => {
  const byCode: (MessageType | undefined)[] = [];
  for (const [type, code] of Object.entries(TYPE_CODES)) byCode[code] = type as MessageType;
  return byCode;
})();

// ---------------------------------------------------------------- encoding

/**
 * An upper bound on the bytes `message` takes in a frame; cheap (no encoding).
 * The transport uses it to account queued bytes and to split batches into frames.
 */
export function messageBytesBound(message: Message): number {
  // type + from + to + term + up to four uints and a bool; strings at 3 bytes per UTF-16 unit.
  let bytes = 64 + 3 * (message.from.length + message.to.length);
  switch (message.type) {
    case 'app':
      for (const entry of message.entries) bytes += 28 + entry.data.length;
      return bytes;
    case 'heartbeat':
    case 'heartbeat-resp':
    case 'read-index':
    case 'read-index-resp':
      return bytes + 9 + 3 * message.context.length;
    case 'transfer-leader':
      return bytes + 9 + 3 * message.target.length;
    case 'snap': {
      const { confState } = message.snapshot.metadata;
      for (const id of confState.voters) bytes += 9 + 3 * id.length;
      for (const id of confState.learners) bytes += 9 + 3 * id.length;
      return bytes + 27 + message.snapshot.data.length;
    }
    case 'app-resp':
    case 'vote':
    case 'pre-vote':
    case 'vote-resp':
    case 'pre-vote-resp':
    case 'timeout-now':
    case 'rejoin':
    case 'rejoin-resp':
      return bytes;
    default:
      return unreachable(message);
  }
}

/**
 * Why a peer's decoder would refuse `message` under `limits` (other than
 * frame size, which the sender checks on the encoded frame), or undefined
 * when it is acceptable. The sender drops such a message instead of having
 * the peer close the connection over it.
 */
export function messageLimitViolation(message: Message, limits: CodecLimits): string | undefined {
  const { nodeIdBytesMax, contextBytesMax } = limits;
  if (utf8Bytes(message.from) > nodeIdBytesMax || utf8Bytes(message.to) > nodeIdBytesMax) return 'node id longer than nodeIdBytesMax';
  switch (message.type) {
    case 'app':
      return message.entries.length > limits.entriesPerMessageMax ? 'more entries than entriesPerMessageMax' : undefined;
    case 'heartbeat':
    case 'heartbeat-resp':
    case 'read-index':
    case 'read-index-resp':
      return utf8Bytes(message.context) > contextBytesMax ? 'context longer than contextBytesMax' : undefined;
    case 'transfer-leader':
      return utf8Bytes(message.target) > nodeIdBytesMax ? 'target longer than nodeIdBytesMax' : undefined;
    case 'snap': {
      const { voters, learners } = message.snapshot.metadata.confState;
      if (voters.length + learners.length > limits.membersMax) return 'more members than membersMax';
      for (const id of [...voters, ...learners]) if (utf8Bytes(id) > nodeIdBytesMax) return 'member id longer than nodeIdBytesMax';
      return undefined;
    }
    case 'app-resp':
    case 'vote':
    case 'pre-vote':
    case 'vote-resp':
    case 'pre-vote-resp':
    case 'timeout-now':
    case 'rejoin':
    case 'rejoin-resp':
      return undefined;
    default:
      return unreachable(message);
  }
}

/** UTF-8 byte length of `s` without encoding it. */
function utf8Bytes(s: string): number {
  let bytes = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 4 bytes for 2 code units
      i += 1;
    } else bytes += 2;
  }
  return bytes;
}

/** Bytes a frame holding messages of `messageBytes` (sum of messageBytesBound) takes, at most. */
export function frameBytesBound(messageBytes: number): number {
  return 1 + 9 + messageBytes;
}

/**
 * Encodes a batch of messages as one frame. The messages come from our own
 * Raft core, so a malformed one (negative term, fractional index) is a
 * programmer error and throws; limits are the caller's to check against
 * messageBytesBound (the peer's decoder enforces them).
 */
export function encodeFrame(messages: readonly Message[]): Uint8Array {
  let bound = 0;
  for (const message of messages) bound += messageBytesBound(message);
  const writer = new Writer(frameBytesBound(bound));
  writer.u8(FRAME_VERSION);
  writer.uint(messages.length);
  for (const message of messages) writeMessage(writer, message);
  return writer.finish();
}

function writeMessage(w: Writer, m: Message): void {
  w.u8(TYPE_CODES[m.type]);
  w.str(m.from);
  w.str(m.to);
  w.uint(m.term);
  switch (m.type) {
    case 'app':
      w.uint(m.index);
      w.uint(m.logTerm);
      w.uint(m.commit);
      w.uint(m.entries.length);
      for (const entry of m.entries) {
        w.u8(entry.type === 'normal' ? 0 : entry.type === 'conf-change' ? 1 : fail(`entry type ${String(entry.type)}`));
        w.uint(entry.term);
        w.uint(entry.index);
        w.bytes(entry.data);
      }
      return;
    case 'app-resp':
      w.uint(m.index);
      w.bool(m.reject);
      w.uint(m.rejectHint);
      w.uint(m.logTerm);
      return;
    case 'vote':
    case 'pre-vote':
      w.uint(m.index);
      w.uint(m.logTerm);
      w.bool(m.transfer);
      return;
    case 'vote-resp':
    case 'pre-vote-resp':
      w.bool(m.reject);
      return;
    case 'heartbeat':
      w.uint(m.commit);
      w.uint(m.commitTerm);
      w.str(m.context);
      return;
    case 'heartbeat-resp':
    case 'read-index':
      w.str(m.context);
      return;
    case 'snap': {
      const { metadata, data } = m.snapshot;
      w.uint(metadata.index);
      w.uint(metadata.term);
      w.uint(metadata.confState.voters.length);
      for (const id of metadata.confState.voters) w.str(id);
      w.uint(metadata.confState.learners.length);
      for (const id of metadata.confState.learners) w.str(id);
      w.bytes(data);
      return;
    }
    case 'timeout-now':
      return;
    case 'rejoin':
    case 'rejoin-resp':
      w.uint(m.index);
      w.uint(m.logTerm);
      return;
    case 'read-index-resp':
      w.str(m.context);
      w.uint(m.index);
      return;
    case 'transfer-leader':
      w.str(m.target);
      return;
    default:
      unreachable(m);
  }
}

class Writer {
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

// ---------------------------------------------------------------- decoding

/**
 * Decodes a frame from an untrusted peer. Never throws: every field is
 * checked (known types, canonical non-negative safe integers, strict UTF-8,
 * 0/1 booleans, counts and sizes within `limits`, no trailing bytes, an
 * append's entries a well-formed log segment), and the
 * first failure is returned as a code with a sentence. Entry and snapshot data
 * are views into one private copy of the frame (mind their byteOffset: never
 * use `.buffer` alone), so the caller's buffer can be reused or freed.
 */
export function decodeFrame(frame: Uint8Array, limits: CodecLimits = DEFAULT_CODEC_LIMITS): DecodeResult {
  try {
    if (!(frame instanceof Uint8Array)) throw new DecodeFailure('FIELD_INVALID', 'frame is not bytes');
    if (frame.length === 0) throw new DecodeFailure('FRAME_EMPTY', 'frame is empty');
    if (frame.length > limits.frameBytesMax) {
      throw new DecodeFailure('FRAME_TOO_LARGE', `frame of ${frame.length} bytes exceeds frameBytesMax ${limits.frameBytesMax}`);
    }
    // One copy of the whole frame, owned by the decoded messages: entry data are views into it,
    // so the caller's buffer (often a pooled ws Buffer) can be reused, at one memcpy per frame.
    const r = new Reader(new Uint8Array(frame), limits);
    const version = r.u8();
    if (version !== FRAME_VERSION) {
      throw new DecodeFailure('FRAME_VERSION_UNSUPPORTED', `frame version ${version}, expected ${FRAME_VERSION}`);
    }
    const count = r.count(limits.messagesPerFrameMax, 'messages');
    const messages: Message[] = new Array<Message>(count);
    for (let i = 0; i < count; i++) messages[i] = readMessage(r);
    if (!r.atEnd()) throw new DecodeFailure('FRAME_TRAILING_BYTES', `${r.remaining()} bytes after the last message`);
    return { ok: true, messages };
  } catch (error) {
    if (error instanceof DecodeFailure) return { ok: false, code: error.code, message: error.message };
    // Not reachable by design; if it is, the peer still gets a refusal, not a crash.
    return { ok: false, code: 'FIELD_INVALID', message: `decoder error: ${String(error)}` };
  }
}

function readMessage(r: Reader): Message {
  const code = r.u8();
  const type = TYPES_BY_CODE[code];
  if (type === undefined) throw new DecodeFailure('MESSAGE_TYPE_UNKNOWN', `message type code ${code}`);
  const from = r.nodeId(false);
  const to = r.nodeId(false);
  const term = r.uint();
  switch (type) {
    case 'app': {
      const index = r.uint();
      const logTerm = r.uint();
      const commit = r.uint();
      const count = r.count(r.limits.entriesPerMessageMax, 'entries');
      const entries: Entry[] = new Array<Entry>(count);
      for (let i = 0; i < count; i++) {
        const typeCode = r.u8();
        const entryType: EntryType =
          typeCode === 0 ? 'normal' : typeCode === 1 ? 'conf-change' : r.invalid(`entry type code ${typeCode}`);
        const entry: Entry = { term: r.uint(), index: r.uint(), type: entryType, data: r.bytes() };
        // A log segment as Raft makes one: indexes follow `index` one by one, and terms never
        // go back, start at or after `logTerm`, and never pass the sender's term.
        const previousTerm = i === 0 ? logTerm : (entries[i - 1] as Entry).term;
        if (entry.index !== index + 1 + i || entry.term < previousTerm || entry.term > term) {
          throw new DecodeFailure('MESSAGE_INCONSISTENT', `entry ${i} (index ${entry.index}, term ${entry.term}) does not follow index ${index}, logTerm ${logTerm} in term ${term}`);
        }
        entries[i] = entry;
      }
      if (logTerm > term) throw new DecodeFailure('MESSAGE_INCONSISTENT', `logTerm ${logTerm} is after the message's term ${term}`);
      return { type, from, to, term, index, logTerm, entries, commit };
    }
    case 'app-resp':
      return { type, from, to, term, index: r.uint(), reject: r.bool(), rejectHint: r.uint(), logTerm: r.uint() };
    case 'vote':
    case 'pre-vote':
      return { type, from, to, term, index: r.uint(), logTerm: r.uint(), transfer: r.bool() };
    case 'vote-resp':
    case 'pre-vote-resp':
      return { type, from, to, term, reject: r.bool() };
    case 'heartbeat':
      return { type, from, to, term, commit: r.uint(), commitTerm: r.uint(), context: r.context() };
    case 'heartbeat-resp':
    case 'read-index':
      return { type, from, to, term, context: r.context() };
    case 'snap': {
      const index = r.uint();
      const snapTerm = r.uint();
      const voters = r.members();
      const learners = r.members();
      if (voters.length + learners.length > r.limits.membersMax) {
        throw new DecodeFailure('LIMIT_EXCEEDED', `${voters.length + learners.length} members exceed membersMax ${r.limits.membersMax}`);
      }
      const data = r.bytes();
      return { type, from, to, term, snapshot: { metadata: { index, term: snapTerm, confState: { voters, learners } }, data } };
    }
    case 'timeout-now':
      return { type, from, to, term };
    case 'rejoin':
    case 'rejoin-resp':
      return { type, from, to, term, index: r.uint(), logTerm: r.uint() };
    case 'read-index-resp':
      return { type, from, to, term, context: r.context(), index: r.uint() };
    case 'transfer-leader':
      return { type, from, to, term, target: r.nodeId(true) };
    default:
      return unreachable(type);
  }
}

class DecodeFailure {
  constructor(
    readonly code: DecodeErrorCode,
    readonly message: string,
  ) {}
}

class Reader {
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

const textEncoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Programmer error while encoding our own messages. */
function fail(message: string): never {
  throw new Error(`message-codec: ${message}`);
}

function unreachable(value: never): never {
  throw new Error(`message-codec: unexpected ${JSON.stringify(value)}`);
}
