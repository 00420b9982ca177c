// One binary layout, shared by two wire formats: a tag byte, a u32 count, then
// each item as a u32 byte length and its bytes (big-endian). The peer
// transport's app frames (forwarded proposals) and the Raft driver's batched
// log entries (several proposals in one entry) both use it, each with its own
// tag and limits.
//
//   list = u8 tag · u32be count · (u32be length · bytes)*

/** Bytes of a list of `count` items holding `itemBytes` bytes in all. */
export function listBytes(count: number, itemBytes: number): number {
  return 1 + 4 + 4 * count + itemBytes;
}

/** Encodes `items` behind `tag`. */
export function encodeList(tag: number, items: readonly Uint8Array[]): Uint8Array {
  let bytes = 0;
  for (const item of items) bytes += item.length;
  const out = new Uint8Array(listBytes(items.length, bytes));
  const view = new DataView(out.buffer);
  out[0] = tag;
  view.setUint32(1, items.length);
  let at = 5;
  for (const item of items) {
    view.setUint32(at, item.length);
    out.set(item, at + 4);
    at += 4 + item.length;
  }
  return out;
}

/**
 * The items of a list tagged `tag` (views into `bytes`, not copies), or why it
 * is malformed; never throws. At most `countMax` items.
 */
export function decodeList(
  bytes: Uint8Array,
  tag: number,
  countMax: number,
): { readonly ok: true; readonly items: Uint8Array[] } | { readonly ok: false; readonly message: string } {
  if (bytes.length < 5 || bytes[0] !== tag) return { ok: false, message: 'not a list with this tag' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(1);
  if (count > countMax) return { ok: false, message: `${count} items exceed ${countMax}` };
  const items: Uint8Array[] = [];
  let at = 5;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.length) return { ok: false, message: `cut short before item ${i}` };
    const length = view.getUint32(at);
    at += 4;
    if (at + length > bytes.length) return { ok: false, message: `item ${i} of ${length} bytes is cut short` };
    items.push(bytes.subarray(at, at + length));
    at += length;
  }
  if (at !== bytes.length) return { ok: false, message: `${bytes.length - at} trailing bytes after the last item` };
  return { ok: true, items };
}
