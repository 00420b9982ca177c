// The peer wire format: a batch of Raft messages as one compact binary frame.
// This file holds the layout of a frame and of each message type; its parts
// sit beside it: codec-limits.ts (what a decoder accepts), codec-errors.ts
// (decode codes), frame-writer.ts and frame-reader.ts (varints, strings,
// bytes), entry-codec.ts and snapshot-codec.ts (the two composite bodies),
// message-bounds.ts (sizes without encoding).
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
import type { Message, MessageType } from '../raft/types.ts';
import { DEFAULT_CODEC_LIMITS, type CodecLimits } from './codec-limits.ts';
import { DecodeFailure, unreachable, type DecodeResult } from './codec-errors.ts';
import { readEntries, writeEntries } from './entry-codec.ts';
import { FrameReader } from './frame-reader.ts';
import { FrameWriter } from './frame-writer.ts';
import { frameBytesBound, messageBytesBound } from './message-bounds.ts';
import { readSnapshot, writeSnapshot } from './snapshot-codec.ts';

/** The only frame version this code reads and writes. */
export const FRAME_VERSION = 1;

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
 * Encodes a batch of messages as one frame. The messages come from our own
 * Raft core, so a malformed one (negative term, fractional index) is a
 * programmer error and throws; limits are the caller's to check against
 * messageBytesBound (the peer's decoder enforces them).
 */
export function encodeFrame(messages: readonly Message[]): Uint8Array {
  let bound = 0;
  for (const message of messages) bound += messageBytesBound(message);
  const writer = new FrameWriter(frameBytesBound(bound));
  writer.u8(FRAME_VERSION);
  writer.uint(messages.length);
  for (const message of messages) writeMessage(writer, message);
  return writer.finish();
}

function writeMessage(w: FrameWriter, m: Message): void {
  w.u8(TYPE_CODES[m.type]);
  w.str(m.from);
  w.str(m.to);
  w.uint(m.term);
  switch (m.type) {
    case 'app':
      w.uint(m.index);
      w.uint(m.logTerm);
      w.uint(m.commit);
      writeEntries(w, m.entries);
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
    case 'snap':
      writeSnapshot(w, m.snapshot);
      return;
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
    const r = new FrameReader(new Uint8Array(frame), limits);
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

function readMessage(r: FrameReader): Message {
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
      const entries = readEntries(r, index, logTerm, term);
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
    case 'snap':
      return { type, from, to, term, snapshot: readSnapshot(r) };
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
