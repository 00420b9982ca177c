import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Message } from '../raft/types.ts';
import { raftMessage as message } from './raft-message.test-support.ts';
import { DEFAULT_CODEC_LIMITS, type CodecLimits } from './codec-limits.ts';
import { frameBytesBound, messageBytesBound } from './message-bounds.ts';
import { FRAME_VERSION, decodeFrame, encodeFrame } from './message-codec.ts';

const batch = fc.array(message, { minLength: 1, maxLength: 6 });

function app(entries: number, dataBytes: number): Message {
  const data = new Uint8Array(dataBytes).fill(7);
  return {
    type: 'app',
    from: 'n1',
    to: 'n2',
    term: 3,
    index: 1000,
    logTerm: 3,
    commit: 999,
    entries: Array.from({ length: entries }, (_, i) => ({ term: 3, index: 1001 + i, type: 'normal' as const, data })),
  };
}

function expectNeverThrows(frame: Uint8Array, limits?: CodecLimits): void {
  const result = decodeFrame(frame, limits);
  expect(typeof result.ok).toBe('boolean');
  if (!result.ok) expect(result.code).toMatch(/^[A-Z_]+$/);
}

describe('message codec', () => {
  it('round-trips every kind of message, batched, to equal values', () => {
    fc.assert(
      fc.property(batch, (messages) => {
        const decoded = decodeFrame(encodeFrame(messages));
        expect(decoded).toEqual({ ok: true, messages });
      }),
      { numRuns: 500 },
    );
  });

  it('stays within the byte bound it advertises, so frames can be sized before encoding', () => {
    fc.assert(
      fc.property(batch, (messages) => {
        const bound = frameBytesBound(messages.reduce((n, m) => n + messageBytesBound(m), 0));
        expect(encodeFrame(messages).length).toBeLessThanOrEqual(bound);
      }),
    );
  });

  it('carries entry data as raw bytes: 100 entries of 100 bytes cost little over 10,000 bytes', () => {
    const frame = encodeFrame([app(100, 100)]);
    expect(frame.length).toBeLessThan(10_000 + 100 * 8 + 32);
  });

  it('hands out entry data that owns its bytes, not a view of the frame', () => {
    const frame = encodeFrame([app(1, 4)]);
    const result = decodeFrame(Buffer.from(frame));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const m = result.messages[0];
    if (m?.type !== 'app') throw new Error('expected app');
    const data = m.entries[0]?.data;
    expect(Object.getPrototypeOf(data)).toBe(Uint8Array.prototype);
    frame.fill(0);
    expect(Array.from(data ?? [])).toEqual([7, 7, 7, 7]);
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (frame) => expectNeverThrows(frame)),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (tail) => expectNeverThrows(Uint8Array.from([FRAME_VERSION, ...tail]))),
      { numRuns: 5000 },
    );
  });

  it('never throws on any single-byte flip or truncation of valid frames', () => {
    fc.assert(
      fc.property(batch, fc.integer({ min: 1, max: 255 }), (messages, xor) => {
        const frame = encodeFrame(messages);
        for (let i = 0; i < frame.length; i++) {
          const flipped = frame.slice();
          flipped[i] = (flipped[i] as number) ^ xor;
          expectNeverThrows(flipped);
          const truncated = decodeFrame(frame.subarray(0, i));
          expect(truncated.ok).toBe(false);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('refuses truncated, garbage and oversized frames with a code', () => {
    const frame = encodeFrame([app(3, 10)]);
    expect(decodeFrame(new Uint8Array(0))).toMatchObject({ ok: false, code: 'FRAME_EMPTY' });
    expect(decodeFrame(frame.subarray(0, frame.length - 1))).toMatchObject({ ok: false, code: 'FRAME_TRUNCATED' });
    expect(decodeFrame(Uint8Array.from([...frame, 0]))).toMatchObject({ ok: false, code: 'FRAME_TRAILING_BYTES' });
    expect(decodeFrame(Uint8Array.from([2, ...frame.subarray(1)]))).toMatchObject({ ok: false, code: 'FRAME_VERSION_UNSUPPORTED' });
    expect(decodeFrame(Uint8Array.from([1, 1, 99]))).toMatchObject({ ok: false, code: 'MESSAGE_TYPE_UNKNOWN' });
    const small: CodecLimits = { ...DEFAULT_CODEC_LIMITS, frameBytesMax: frame.length - 1 };
    expect(decodeFrame(frame, small)).toMatchObject({ ok: false, code: 'FRAME_TOO_LARGE' });
    const fewEntries: CodecLimits = { ...DEFAULT_CODEC_LIMITS, entriesPerMessageMax: 2 };
    expect(decodeFrame(frame, fewEntries)).toMatchObject({ ok: false, code: 'LIMIT_EXCEEDED' });
  });

  it('refuses an append whose entries are not a well-formed log segment', () => {
    const good = app(3, 1);
    if (good.type !== 'app') throw new Error('expected app');
    const entries = good.entries;
    const cases: Message[] = [
      { ...good, entries: [entries[0]!, entries[2]!] }, // gap
      { ...good, entries: [{ ...entries[0]!, term: 2 }, ...entries.slice(1)] }, // term before logTerm
      { ...good, logTerm: 2, entries: [entries[0]!, entries[1]!, { ...entries[2]!, term: 2 }] }, // term goes back
      { ...good, entries: [{ ...entries[0]!, term: 9 }] }, // term after the message's
      { ...good, logTerm: 9, entries: [] },
    ];
    for (const m of cases) expect(decodeFrame(encodeFrame([m]))).toMatchObject({ ok: false, code: 'MESSAGE_INCONSISTENT' });
    expect(decodeFrame(encodeFrame([good]))).toMatchObject({ ok: true });
  });

  it('refuses counts that claim more items than the frame holds, without allocating for them', () => {
    // version 1, 4000 messages claimed, nothing after.
    expect(decodeFrame(Uint8Array.from([1, 0xa0, 0x1f]))).toMatchObject({ ok: false, code: 'FRAME_TRUNCATED' });
  });

  it('refuses fields that are not what the type says', () => {
    const vote: Message = { type: 'vote-resp', from: 'n1', to: 'n2', term: 1, reject: false };
    const frame = encodeFrame([vote]);
    const badBool = frame.slice();
    badBool[badBool.length - 1] = 2;
    expect(decodeFrame(badBool)).toMatchObject({ ok: false, code: 'FIELD_INVALID' });
    // from = '' is refused: every message names its sender.
    expect(decodeFrame(encodeFrame([{ ...vote, from: '' }]))).toMatchObject({ ok: false, code: 'FIELD_INVALID' });
    // A non-canonical varint (term 1 as 0x81 0x00).
    const nonCanonical = Uint8Array.from([1, 1, 5, 2, 110, 49, 2, 110, 50, 0x81, 0x00, 0]);
    expect(decodeFrame(nonCanonical)).toMatchObject({ ok: false, code: 'FIELD_INVALID' });
    // A term beyond 2^53-1.
    const huge = Uint8Array.from([1, 1, 5, 2, 110, 49, 2, 110, 50, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0]);
    expect(decodeFrame(huge)).toMatchObject({ ok: false, code: 'FIELD_INVALID' });
    // Invalid UTF-8 in a node id.
    const badUtf8 = Uint8Array.from([1, 1, 5, 2, 0xc3, 0x28, 2, 110, 50, 1, 0]);
    expect(decodeFrame(badUtf8)).toMatchObject({ ok: false, code: 'FIELD_INVALID' });
  });

  it('refuses to encode a message our own core should never produce', () => {
    expect(() => encodeFrame([{ type: 'timeout-now', from: 'n1', to: 'n2', term: -1 }])).toThrow(/non-negative/);
    expect(() => encodeFrame([{ type: 'timeout-now', from: 'n1', to: 'n2', term: 1.5 }])).toThrow(/non-negative/);
  });
});
