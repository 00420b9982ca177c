// How far a peer's wall clock is from ours, measured on the pings a link
// already sends to notice a dead peer. The dialer's ping carries its
// monotonic send time (8 bytes); the listener answers with that and its own
// wall clock (16 bytes). The dialer takes the peer's clock to have been read
// half a round trip before the pong arrived, and keeps, of the last few
// samples, the one with the shortest round trip (the least room for error).
// A peer that answers with a plain echo (an older node) yields no sample.

/** Bytes of a probe ping: the dialer's monotonic send time, float64 big-endian. */
export const PROBE_BYTES = 8;
/** Bytes of a probe reply: the probe, then the listener's wall clock (float64 big-endian). */
export const PROBE_REPLY_BYTES = 16;
/** Samples kept per peer; the estimate is the one with the shortest round trip. */
const SAMPLES_MAX = 8;

/** The payload of a probe ping sent at `monoMs`. */
export function encodeProbe(monoMs: number): Buffer {
  const b = Buffer.alloc(PROBE_BYTES);
  b.writeDoubleBE(monoMs, 0);
  return b;
}

/** The pong payload answering a ping's `payload`: a probe reply with `wallMs`, or the payload echoed (not a probe). */
export function answerProbe(payload: Buffer, wallMs: number): Buffer {
  if (payload.length !== PROBE_BYTES) return payload;
  const b = Buffer.alloc(PROBE_REPLY_BYTES);
  payload.copy(b, 0);
  b.writeDoubleBE(wallMs, PROBE_BYTES);
  return b;
}

/** A probe reply's fields, or undefined for any other pong payload; never throws. */
export function decodeProbeReply(payload: Buffer): { readonly sentMonoMs: number; readonly peerWallMs: number } | undefined {
  if (payload.length !== PROBE_REPLY_BYTES) return undefined;
  const sentMonoMs = payload.readDoubleBE(0);
  const peerWallMs = payload.readDoubleBE(PROBE_BYTES);
  return Number.isFinite(sentMonoMs) && Number.isFinite(peerWallMs) ? { sentMonoMs, peerWallMs } : undefined;
}

/** A peer's clock skew as last measured. */
export interface ClockSkew {
  /** `ms`: the peer's wall clock minus ours (positive: the peer is ahead). */
  readonly skewMs: number;
  /** `ms`: the round trip of the sample it comes from (the estimate is good to about half of it). */
  readonly rttMs: number;
}

/** The recent samples of one peer's skew. */
export class ClockSkewSamples {
  private readonly samples: ClockSkew[] = [];

  /** Records the reply to a probe sent at `sentMonoMs` that arrived at `nowMonoMs`/`nowWallMs`; ignores nonsense. */
  record(reply: { readonly sentMonoMs: number; readonly peerWallMs: number }, nowMonoMs: number, nowWallMs: number): void {
    const rttMs = nowMonoMs - reply.sentMonoMs;
    if (!(rttMs >= 0 && rttMs < 60_000)) return;
    this.samples.push({ skewMs: reply.peerWallMs - (nowWallMs - rttMs / 2), rttMs });
    if (this.samples.length > SAMPLES_MAX) this.samples.shift();
  }

  /** The sample with the shortest round trip of the last few, or undefined before any. */
  estimate(): ClockSkew | undefined {
    let best: ClockSkew | undefined;
    for (const s of this.samples) if (best === undefined || s.rttMs < best.rttMs) best = s;
    return best;
  }

  /** Forgets the samples (a new connection may reach another process). */
  clear(): void {
    this.samples.length = 0;
  }
}
