// Sizes of Raft messages without encoding them: an upper bound on the bytes
// each takes in a frame (the transport's queue accounting and frame
// splitting), and whether a peer's decoder would refuse one under its limits
// (the sender drops it rather than have the peer close the connection).
import type { Message } from '../raft/types.ts';
import type { CodecLimits } from './codec-limits.ts';
import { unreachable } from './codec-errors.ts';

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
