// A snapshot message's body on the wire: its metadata (index, term, the
// membership it was taken at) and its data; layout in message-codec.ts:
//   snap = uint index · uint term · uint voterCount · str* · uint learnerCount · str* · bytes data
import type { Snapshot } from '../raft/types.ts';
import { DecodeFailure } from './codec-errors.ts';
import type { FrameReader } from './frame-reader.ts';
import type { FrameWriter } from './frame-writer.ts';

/** Writes a snapshot's metadata and data. */
export function writeSnapshot(w: FrameWriter, snapshot: Snapshot): void {
  const { metadata, data } = snapshot;
  w.uint(metadata.index);
  w.uint(metadata.term);
  w.uint(metadata.confState.voters.length);
  for (const id of metadata.confState.voters) w.str(id);
  w.uint(metadata.confState.learners.length);
  for (const id of metadata.confState.learners) w.str(id);
  w.bytes(data);
}

/** Reads a snapshot; voters plus learners at most membersMax, or LIMIT_EXCEEDED. */
export function readSnapshot(r: FrameReader): Snapshot {
  const index = r.uint();
  const term = r.uint();
  const voters = r.members();
  const learners = r.members();
  if (voters.length + learners.length > r.limits.membersMax) {
    throw new DecodeFailure('LIMIT_EXCEEDED', `${voters.length + learners.length} members exceed membersMax ${r.limits.membersMax}`);
  }
  const data = r.bytes();
  return { metadata: { index, term, confState: { voters, learners } }, data };
}
