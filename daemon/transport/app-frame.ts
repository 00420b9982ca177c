// The second frame kind of the peer wire: opaque application payloads (the
// node's forwarded proposals and their nacks), beside the Raft frames of
// message-codec.ts. The first byte tells them apart: a Raft frame starts with
// its version (1), an app frame with APP_FRAME_TAG. The transport neither
// reads nor orders app payloads against Raft messages; it only bounds them.
//
//   appFrame = u8 APP_FRAME_TAG(=0x80) · u32be payloadCount · (u32be length · bytes)*

import { decodeList, encodeList, listBytes } from '../../protocol/length-prefixed-list.ts';

/** First byte of an app frame (never a Raft frame version). */
export const APP_FRAME_TAG = 0x80;

/** Payloads in one app frame, at most. */
export const APP_PAYLOADS_PER_FRAME_MAX = 65_536;

/** Bytes of the app frame that carries `payloadBytes` bytes in `count` payloads. */
export function appFrameBytes(count: number, payloadBytes: number): number {
  return listBytes(count, payloadBytes);
}

/** Encodes payloads as one app frame. */
export function encodeAppFrame(payloads: readonly Uint8Array[]): Uint8Array {
  if (payloads.length > APP_PAYLOADS_PER_FRAME_MAX) throw new Error(`assert: ${payloads.length} app payloads in one frame`);
  return encodeList(APP_FRAME_TAG, payloads);
}

/** The payloads of an app frame (copies, so the frame's buffer is not kept), or why it is malformed; never throws. */
export function decodeAppFrame(
  frame: Uint8Array,
  frameBytesMax: number,
): { readonly ok: true; readonly payloads: Uint8Array[] } | { readonly ok: false; readonly message: string } {
  if (frame.length > frameBytesMax) return { ok: false, message: `app frame of ${frame.length} bytes exceeds ${frameBytesMax}` };
  const list = decodeList(frame, APP_FRAME_TAG, APP_PAYLOADS_PER_FRAME_MAX);
  if (!list.ok) return { ok: false, message: `app frame: ${list.message}` };
  return { ok: true, payloads: list.items.map((item) => item.slice()) };
}
