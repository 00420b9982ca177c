// The members a node learned from applied membership changes: each added
// member's peer URL and identity key (carried by the add-voter conf change
// POST /cluster/members proposes) and the ids removed since. The Raft log
// holds the same facts only until it is compacted behind a snapshot, whose
// metadata keeps member ids but not their addresses or keys; this file keeps
// them across restarts, so a member added at run time is dialed and
// accepted again although the config files were never edited, and a member
// removed at run time is not re-added from a stale config.
//
// A small JSON file beside the database (DATA_DIR/cluster-members.json),
// replaced atomically (write, fsync, rename, fsync the directory) on each
// change; membership changes are rare, one at a time.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseMemberRecord, type MemberRecord } from './member-record.ts';

/** The file, inside the data directory. */
export const MEMBER_DIRECTORY_FILE_NAME = 'cluster-members.json';

/** Bytes of the file, at most (16 members of a few hundred bytes, and removed ids). */
const MEMBER_DIRECTORY_BYTES_MAX = 256 * 1024;
/** Removed ids remembered, at most (the oldest are forgotten first). */
const REMOVED_IDS_MAX = 256;

interface DirectoryFile {
  format: 'floe-cluster-members';
  v: 1;
  members: MemberRecord[];
  removed: string[];
}

/** The members learned from the log, persisted in the data directory. */
export class MemberDirectory {
  private constructor(
    private readonly path: string,
    private members: Map<string, MemberRecord>,
    private removed: string[],
  ) {}

  /** Reads DATA_DIR's directory (empty when there is none yet). Throws on a damaged file: the operator must look. */
  static load(dataDir: string): MemberDirectory {
    const path = join(dataDir, MEMBER_DIRECTORY_FILE_NAME);
    let text: string;
    try {
      if (statSync(path).size > MEMBER_DIRECTORY_BYTES_MAX) throw new Error(`${path} is larger than ${MEMBER_DIRECTORY_BYTES_MAX} bytes`);
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new MemberDirectory(path, new Map(), []);
      throw error;
    }
    const file = parseDirectory(text);
    if (file === undefined) throw new Error(`MEMBER_DIRECTORY_CORRUPT: ${path} is not a cluster members file; move it away to rebuild it from the config and the log`);
    return new MemberDirectory(path, new Map(file.members.map((m) => [m.id, m])), file.removed);
  }

  /** The members added by applied conf changes and not removed since. */
  addedMembers(): MemberRecord[] {
    return [...this.members.values()];
  }

  /** True when an applied conf change removed `id` (and none added it back since). */
  isRemoved(id: string): boolean {
    return this.removed.includes(id);
  }

  /** Records an applied add of `member`; writes the file only when something changed. */
  recordAdded(member: MemberRecord): void {
    const known = this.members.get(member.id);
    const same =
      known !== undefined && known.peerUrl === member.peerUrl && known.publicKey === member.publicKey && known.clientUrl === member.clientUrl;
    if (same && !this.isRemoved(member.id)) return;
    this.members.set(member.id, member);
    this.removed = this.removed.filter((id) => id !== member.id);
    this.write();
  }

  /** Records an applied removal of `id`; writes the file only when something changed. */
  recordRemoved(id: string): void {
    if (this.isRemoved(id) && !this.members.has(id)) return;
    this.members.delete(id);
    this.removed = [...this.removed.filter((r) => r !== id), id].slice(-REMOVED_IDS_MAX);
    this.write();
  }

  private write(): void {
    const file: DirectoryFile = { format: 'floe-cluster-members', v: 1, members: [...this.members.values()], removed: this.removed };
    const tmp = `${this.path}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(file, null, 1)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    const dirFd = openSync(join(this.path, '..'), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}

function parseDirectory(text: string): DirectoryFile | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Partial<DirectoryFile>;
  if (v.format !== 'floe-cluster-members' || v.v !== 1 || !Array.isArray(v.members) || !Array.isArray(v.removed)) return undefined;
  const members = (v.members as unknown[]).map(parseMemberRecord);
  if (members.some((m) => m === undefined)) return undefined;
  const isId = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && x.length <= 2048;
  if (!(v.removed as unknown[]).every(isId)) return undefined;
  return { format: v.format, v: v.v, members: members as MemberRecord[], removed: v.removed as string[] };
}
