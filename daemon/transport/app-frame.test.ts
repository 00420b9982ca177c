import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { APP_FRAME_TAG, decodeAppFrame, encodeAppFrame } from './app-frame.ts';
import { FRAME_VERSION } from './message-codec.ts';

describe('app frames', () => {
  it('decode to the payloads they were encoded from', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }), (payloads) => {
        const decoded = decodeAppFrame(encodeAppFrame(payloads), 1 << 20);
        expect(decoded).toEqual({ ok: true, payloads });
      }),
    );
  });

  it('are never mistaken for Raft frames', () => {
    expect(APP_FRAME_TAG).not.toBe(FRAME_VERSION);
    expect(encodeAppFrame([])[0]).toBe(APP_FRAME_TAG);
  });

  it('refuse truncated, trailing and oversized frames without throwing', () => {
    const frame = encodeAppFrame([new Uint8Array([1, 2, 3]), new Uint8Array([4])]);
    expect(decodeAppFrame(frame.subarray(0, frame.length - 1), 1 << 20).ok).toBe(false);
    expect(decodeAppFrame(new Uint8Array([...frame, 0]), 1 << 20).ok).toBe(false);
    expect(decodeAppFrame(frame, 4).ok).toBe(false);
    expect(decodeAppFrame(new Uint8Array([FRAME_VERSION, 0, 0, 0, 0]), 1 << 20).ok).toBe(false);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const r = decodeAppFrame(new Uint8Array([APP_FRAME_TAG, ...bytes]), 1 << 20);
        expect(typeof r.ok).toBe('boolean');
      }),
    );
  });
});
