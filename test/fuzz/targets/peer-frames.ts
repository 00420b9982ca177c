// Fuzz target: what a peer sends after its handshake. Raft frames
// (message-codec.ts) and app frames (app-frame.ts) are decoded from hostile
// bytes: random, valid frames with one byte changed, cut short or lengthened,
// a varint stretched past 2^53. The forwarder's payloads inside app frames
// go to a real Forwarder on a leader: whatever arrives, nothing throws and
// nothing but a well-formed tag and command is proposed into the log.
import fc from 'fast-check';
import { Forwarder, type AppChannel } from '../../../daemon/node/forwarder.ts';
import type { UnstampedLogCommand } from '../../../daemon/node/command-codec.ts';
import type { NodeId } from '../../../daemon/raft/types.ts';
import { decodeAppFrame, encodeAppFrame } from '../../../daemon/transport/app-frame.ts';
import { DEFAULT_CODEC_LIMITS } from '../../../daemon/transport/codec-limits.ts';
import { decodeFrame, encodeFrame } from '../../../daemon/transport/message-codec.ts';
import { raftMessage } from '../../../daemon/transport/raft-message.test-support.ts';
import type { FuzzTarget } from '../fuzz-target.ts';
import { hostileJsonText, isErrorCode, randomBytes, withOneFieldMutated } from '../hostile-values.ts';

/** One way to damage a valid frame. */
type Damage =
  | { readonly kind: 'set'; readonly at: number; readonly byte: number }
  | { readonly kind: 'cut'; readonly at: number }
  | { readonly kind: 'append'; readonly bytes: Uint8Array }
  | { readonly kind: 'stretch'; readonly at: number; readonly run: readonly number[] };

const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  // A varint of 9 or 10 bytes, or one holding 2^63: past what the codec allows.
  fc.record({ kind: fc.constant('stretch' as const), at: fc.nat(), run: fc.constantFrom([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]) }),
);

function damaged(frame: Uint8Array, d: Damage): Uint8Array {
  if (d.kind === 'append') return Uint8Array.from([...frame, ...d.bytes]);
  const at = frame.length === 0 ? 0 : d.at % frame.length;
  if (d.kind === 'cut') return frame.slice(0, at);
  if (d.kind === 'stretch') return Uint8Array.from([...frame.slice(0, at), ...d.run, ...frame.slice(at + 1)]);
  const copy = frame.slice();
  copy[at] = d.byte;
  return copy;
}

const raftFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  randomBytes,
  fc.tuple(fc.array(raftMessage, { minLength: 1, maxLength: 4 }), damage).map(([messages, d]) => damaged(encodeFrame(messages), d)),
);

const appFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  randomBytes.map((b) => Uint8Array.from([0x80, ...b])),
  fc.tuple(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }), damage).map(([payloads, d]) => damaged(encodeAppFrame(payloads), d)),
);

const VALID_FORWARD = { k: 'fwd', m: [['n2.AAAAAAAA.1', { type: 'checkin', sessionId: 's1', requestId: 'r1', leaseId: 'L1' }]] };
const VALID_NACK = { k: 'nack', t: ['n1.AAAAAAAA.1'], leader: 'n2', why: 'NOT_LEADER' };

const forwarderPayload: fc.Arbitrary<Uint8Array> = fc
  .oneof(hostileJsonText, withOneFieldMutated(VALID_FORWARD), withOneFieldMutated(VALID_NACK), fc.constant(JSON.stringify(VALID_FORWARD)))
  .map((text) => new TextEncoder().encode(text));

const DECODE_CODES = new Set(['FRAME_EMPTY', 'FRAME_TOO_LARGE', 'FRAME_VERSION_UNSUPPORTED', 'FRAME_TRUNCATED', 'FRAME_TRAILING_BYTES', 'MESSAGE_TYPE_UNKNOWN', 'FIELD_INVALID', 'MESSAGE_INCONSISTENT', 'LIMIT_EXCEEDED']);

/** A leader's forwarder over a fake channel: what it proposes is recorded, nothing is sent. */
function leaderForwarder(): { deliver(payloads: Uint8Array[]): void; proposed: [string, UnstampedLogCommand][]; close(): void } {
  let handler: ((peerId: NodeId, payloads: Uint8Array[]) => void) | undefined;
  const channel: AppChannel = {
    sendApp: () => true,
    onApp: (h) => {
      handler = h;
      return () => {
        handler = undefined;
      };
    },
  };
  const proposed: [string, UnstampedLogCommand][] = [];
  const forwarder = new Forwarder(
    {
      nodeId: 'n1',
      leaderId: () => 'n1',
      isLeader: () => true,
      proposeLocal: () => Promise.reject(new Error('not used')),
      proposeTagged: (command, tag) => {
        proposed.push([tag, command]);
        return Promise.resolve();
      },
      log: () => {},
    },
    channel,
    { forwardTimeoutMs: 1000, pendingForwardsMax: 10 },
  );
  return { deliver: (payloads) => handler?.('n2', payloads), proposed, close: () => forwarder.close() };
}

/** Peer frames: every decoder answers a code for any bytes; the forwarder proposes only well-formed entries. */
export const peerFramesTarget: FuzzTarget = {
  name: 'peer-frames',
  claim: "a peer's frame of any bytes decodes or answers a code, and a forwarded payload proposes only a well-formed tag and command, never throwing",
  runsInTest: 400,
  open: async () => {
    const forwarder = leaderForwarder();
    return {
      property: fc.property(raftFrame, appFrame, forwarderPayload, (raft, app, payload) => {
        const r = decodeFrame(raft, DEFAULT_CODEC_LIMITS);
        if (!r.ok && !(DECODE_CODES.has(r.code) && isErrorCode(r.code))) throw new Error(`raft frame answered code ${r.code}`);
        const a = decodeAppFrame(app, DEFAULT_CODEC_LIMITS.frameBytesMax);
        if (!a.ok && typeof a.message !== 'string') throw new Error('app frame answered no message');
        forwarder.proposed.length = 0;
        forwarder.deliver([payload]);
        for (const [tag, command] of forwarder.proposed) {
          if (typeof tag !== 'string' || !/^[\x21-\x7e]+$/.test(tag)) throw new Error(`proposed the tag ${JSON.stringify(tag)}`);
          if (typeof command !== 'object' || command === null || typeof (command as { type?: unknown }).type !== 'string') {
            throw new Error(`proposed the command ${JSON.stringify(command)}`);
          }
        }
      }),
      close: async () => forwarder.close(),
    };
  },
};
