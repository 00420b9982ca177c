// Several proposals in one log entry. The driver packs the proposals of one
// event-loop turn into a single entry, so a turn costs one log row on every
// node, one slot in the Raft core and one promise settle per entry instead of
// one per proposal (measured: ~19 proposals per turn at 100 clients). Each
// proposal keeps its own position in the log (its entry's index ×
// PROPOSALS_PER_ENTRY_MAX + its place in the entry), strictly increasing, so
// the application can still number what it applies (fencing tokens).
//
// Format of a batched entry: BATCH_MARKER, u32 count, then per proposal a u32
// byte length and the bytes (big-endian). An entry whose first byte is not
// BATCH_MARKER is a single proposal as it was given (the log written before
// batching existed reads the same way); a single proposal that happens to
// start with the marker is wrapped as a batch of one.

/** First byte of a batched entry's data. Floe's commands start with '{' or 'F'; anything else is wrapped. */
export const BATCH_MARKER = 0xb7;

/** Proposals one entry carries at most; also the multiplier of a proposal's log position. */
export const PROPOSALS_PER_ENTRY_MAX = 1024;

/** Bytes of proposal data one entry carries at most (well below the transport's message limit). */
export const BATCH_BYTES_MAX = 256 * 1024;

/** Where a proposal sits in the log: its entry and its place in that entry. */
export interface LogPosition {
  /** The entry's Raft log index. */
  readonly index: number;
  /** `index × PROPOSALS_PER_ENTRY_MAX + place`: strictly increasing over every proposal of the log. */
  readonly position: number;
}

/** The entry data carrying `proposals` (one proposal as itself unless it starts with the marker). */
export function encodeBatch(proposals: readonly Uint8Array[]): Uint8Array {
  const only = proposals[0];
  if (proposals.length === 1 && only !== undefined && only[0] !== BATCH_MARKER) return only;
  if (proposals.length > PROPOSALS_PER_ENTRY_MAX) throw new Error(`assert: ${proposals.length} proposals exceed PROPOSALS_PER_ENTRY_MAX`);
  let bytes = 5;
  for (const p of proposals) bytes += 4 + p.length;
  const out = new Uint8Array(bytes);
  const view = new DataView(out.buffer);
  out[0] = BATCH_MARKER;
  view.setUint32(1, proposals.length);
  let at = 5;
  for (const p of proposals) {
    view.setUint32(at, p.length);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return out;
}

/** The proposals in an entry's data (views into it, not copies); throws on a malformed batch (the log is trusted). */
export function decodeBatch(data: Uint8Array): Uint8Array[] {
  if (data[0] !== BATCH_MARKER) return [data];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 5) throw new Error('assert: a batched entry shorter than its header');
  const count = view.getUint32(1);
  const out: Uint8Array[] = new Array(count);
  let at = 5;
  for (let i = 0; i < count; i++) {
    if (at + 4 > data.length) throw new Error('assert: a batched entry cut short');
    const length = view.getUint32(at);
    if (at + 4 + length > data.length) throw new Error('assert: a batched entry cut short');
    out[i] = data.subarray(at + 4, at + 4 + length);
    at += 4 + length;
  }
  if (at !== data.length) throw new Error('assert: trailing bytes after a batched entry');
  return out;
}
