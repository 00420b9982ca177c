// The bounds a peer-frame decoder enforces (message-codec.ts): every count and
// size of untrusted input has a named maximum, and passing one refuses the
// frame with LIMIT_EXCEEDED. The transport's own limits extend these.

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
