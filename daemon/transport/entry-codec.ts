// The entries of an append message on the wire, and the check that makes
// them a log segment as Raft makes one; layout in message-codec.ts:
//   entry = u8 entryType(0 normal, 1 conf-change) · uint term · uint index · bytes data
import type { Entry, EntryType } from '../raft/types.ts';
import { DecodeFailure, fail } from './codec-errors.ts';
import type { FrameReader } from './frame-reader.ts';
import type { FrameWriter } from './frame-writer.ts';

/** Writes `entries` (count first). */
export function writeEntries(w: FrameWriter, entries: readonly Entry[]): void {
  w.uint(entries.length);
  for (const entry of entries) {
    w.u8(entry.type === 'normal' ? 0 : entry.type === 'conf-change' ? 1 : fail(`entry type ${String(entry.type)}`));
    w.uint(entry.term);
    w.uint(entry.index);
    w.bytes(entry.data);
  }
}

/**
 * Reads the entries of an append message at `index`/`logTerm` sent in
 * `term`: at most entriesPerMessageMax, and a well-formed log segment, or
 * MESSAGE_INCONSISTENT.
 */
export function readEntries(r: FrameReader, index: number, logTerm: number, term: number): Entry[] {
  const count = r.count(r.limits.entriesPerMessageMax, 'entries');
  const entries: Entry[] = new Array<Entry>(count);
  for (let i = 0; i < count; i++) {
    const typeCode = r.u8();
    const entryType: EntryType = typeCode === 0 ? 'normal' : typeCode === 1 ? 'conf-change' : r.invalid(`entry type code ${typeCode}`);
    const entry: Entry = { term: r.uint(), index: r.uint(), type: entryType, data: r.bytes() };
    // A log segment as Raft makes one: indexes follow `index` one by one, and terms never
    // go back, start at or after `logTerm`, and never pass the sender's term.
    const previousTerm = i === 0 ? logTerm : (entries[i - 1] as Entry).term;
    if (entry.index !== index + 1 + i || entry.term < previousTerm || entry.term > term) {
      throw new DecodeFailure('MESSAGE_INCONSISTENT', `entry ${i} (index ${entry.index}, term ${entry.term}) does not follow index ${index}, logTerm ${logTerm} in term ${term}`);
    }
    entries[i] = entry;
  }
  return entries;
}
