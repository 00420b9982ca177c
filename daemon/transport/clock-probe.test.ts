import { describe, expect, it } from 'vitest';
import { answerProbe, ClockSkewSamples, decodeProbeReply, encodeProbe } from './clock-probe.ts';

describe('clock probes', () => {
  it("a probe's reply carries the probe back with the listener's wall clock; any other ping payload is echoed", () => {
    const reply = answerProbe(encodeProbe(1234.5), 1_750_000_000_123);
    expect(decodeProbeReply(reply)).toEqual({ sentMonoMs: 1234.5, peerWallMs: 1_750_000_000_123 });
    const plain = Buffer.from('hello');
    expect(answerProbe(plain, 1)).toBe(plain);
    expect(decodeProbeReply(Buffer.alloc(0))).toBeUndefined();
    expect(decodeProbeReply(encodeProbe(5))).toBeUndefined();
  });

  it('decodeProbeReply() refuses NaN and infinities from a hostile peer, never throwing', () => {
    const b = Buffer.alloc(16);
    b.writeDoubleBE(Number.NaN, 0);
    expect(decodeProbeReply(b)).toBeUndefined();
    b.writeDoubleBE(1, 0);
    b.writeDoubleBE(Number.POSITIVE_INFINITY, 8);
    expect(decodeProbeReply(b)).toBeUndefined();
  });

  it('estimates the skew from the sample with the shortest round trip, taking the peer clock read half a round trip ago', () => {
    const samples = new ClockSkewSamples();
    expect(samples.estimate()).toBeUndefined();
    // Peer 5 s ahead; probe sent at mono 100, answered at mono 140 (rtt 40), our wall 1_000_040.
    samples.record({ sentMonoMs: 100, peerWallMs: 1_005_020 }, 140, 1_000_040);
    samples.record({ sentMonoMs: 200, peerWallMs: 1_005_500 }, 400, 1_000_300);
    expect(samples.estimate()).toEqual({ skewMs: 5000, rttMs: 40 });
    samples.record({ sentMonoMs: 500, peerWallMs: 1 }, 400, 1);
    expect(samples.estimate()).toEqual({ skewMs: 5000, rttMs: 40 });
    samples.clear();
    expect(samples.estimate()).toBeUndefined();
  });
});
