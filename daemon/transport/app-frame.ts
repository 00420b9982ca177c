// The second frame kind of the peer wire: opaque application payloads (the
// node's forwarded proposals and their nacks), beside the Raft frames of
// message-codec.ts. The first byte tells them apart: a Raft frame starts with
// its version (1), an app frame with APP_FRAME_TAG. The transport neither
// reads nor orders app payloads against Raft messages; it only bounds them.
//
//   appFrame = u8 APP_FRAME_TAG(=0x80) · u32be payloadCount · (u32be length · bytes)*

/** First byte of an app frame (never a Raft frame version). */
export const APP_FRAME_TAG = 0x80;

/** Payloads in one app frame, at most. */
export const APP_PAYLOADS_PER_FRAME_MAX = 65_536;

/** Bytes of the app frame that carries `payloadBytes` bytes in `count` payloads. */
export function appFrameBytes(count: number, payloadBytes: number): number {
  return 1 + 4 + 4 * count + payloadBytes;
}

/** Encodes payloads as one app frame. */
export function encodeAppFrame(payloads: readonly Uint8Array[]): Uint8Array {
  if (payloads.length > APP_PAYLOADS_PER_FRAME_MAX) throw new Error(`assert: ${payloads.length} app payloads in one frame`);
  let bytes = 0;
  for (const p of payloads) bytes += p.length;
  const frame = new Uint8Array(appFrameBytes(payloads.length, bytes));
  const view = new DataView(frame.buffer);
  frame[0] = APP_FRAME_TAG;
  view.setUint32(1, payloads.length);
  let at = 5;
  for (const p of payloads) {
    view.setUint32(at, p.length);
    frame.set(p, at + 4);
    at += 4 + p.length;
  }
  return frame;
}

/** The payloads of an app frame (copies), or why it is malformed; never throws. */
export function decodeAppFrame(
  frame: Uint8Array,
  frameBytesMax: number,
): { readonly ok: true; readonly payloads: Uint8Array[] } | { readonly ok: false; readonly message: string } {
  if (frame.length > frameBytesMax) return { ok: false, message: `app frame of ${frame.length} bytes exceeds ${frameBytesMax}` };
  if (frame.length < 5 || frame[0] !== APP_FRAME_TAG) return { ok: false, message: 'not an app frame' };
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const count = view.getUint32(1);
  if (count > APP_PAYLOADS_PER_FRAME_MAX) return { ok: false, message: `${count} payloads exceed ${APP_PAYLOADS_PER_FRAME_MAX}` };
  const payloads: Uint8Array[] = [];
  let at = 5;
  for (let i = 0; i < count; i++) {
    if (at + 4 > frame.length) return { ok: false, message: `truncated before payload ${i}` };
    const length = view.getUint32(at);
    at += 4;
    if (at + length > frame.length) return { ok: false, message: `payload ${i} of ${length} bytes is truncated` };
    payloads.push(frame.slice(at, at + length));
    at += length;
  }
  if (at !== frame.length) return { ok: false, message: `${frame.length - at} bytes after the last payload` };
  return { ok: true, payloads };
}
