// The pool state a node's database holds, read from outside the node: the
// latest snapshot plus the committed entries after it, applied as the node
// applies them. For commands run on a server beside (or instead of) its
// node, such as `floe license check`, which must know which licenses the
// cluster retired (superseded or removed). Opens the database read-only: a
// running node may go on writing meanwhile (WAL mode lets a reader in).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { isAdminCommand } from '../admin-state/index.ts';
import { apply, createPoolState, decodeSnapshot, type PoolState } from '../pool/index.ts';
import { decodeBatch, PROPOSALS_PER_ENTRY_MAX } from '../raft-driver/index.ts';
import { DATABASE_FILE_NAME } from '../storage/index.ts';
import { decodeEntryData } from './command-codec.ts';
import { decodeNodeSnapshot } from './node-snapshot.ts';

/** Raft entry kind of a normal (pool) entry in raft_log; 1 is a membership change. */
const NORMAL_ENTRY_KIND = 0;

/** Why the database could not be read: `code` is stable, the message a sentence. */
export class CommittedPoolError extends Error {
  override readonly name = 'CommittedPoolError';
  readonly code = 'DATABASE_UNREADABLE';
}

/**
 * The pool state as of everything the node in `dataDir` knows committed, or
 * undefined when the directory holds no node database (a server whose node
 * never started). Throws CommittedPoolError when the database is unreadable.
 */
export function readCommittedPool(dataDir: string): PoolState | undefined {
  const path = join(dataDir, DATABASE_FILE_NAME);
  if (!existsSync(path)) return undefined;
  let sqlite: Database.Database | undefined;
  try {
    sqlite = new Database(path, { readonly: true, fileMustExist: true });
    // One read transaction: the snapshot and the entries after it belong together.
    return sqlite.transaction(() => replay(sqlite as Database.Database))();
  } catch (error) {
    throw new CommittedPoolError(`cannot read the node database ${path}: ${(error as Error).message}`);
  } finally {
    sqlite?.close();
  }
}

function replay(sqlite: Database.Database): PoolState {
  const state = sqlite.prepare('SELECT commit_index AS commitIndex FROM raft_state WHERE id = 1').get() as { commitIndex: number } | undefined;
  const snap = sqlite.prepare('SELECT snap_index AS snapIndex, data FROM raft_snapshot WHERE id = 1').get() as { snapIndex: number; data: Buffer } | undefined;
  const snapIndex = snap?.snapIndex ?? 0;
  const pool = snap !== undefined && snapIndex > 0 ? decodeSnapshot(decodeNodeSnapshot(new Uint8Array(snap.data)).pool) : createPoolState();
  const rows = sqlite
    .prepare('SELECT idx, kind, data FROM raft_log WHERE idx > ? AND idx <= ? ORDER BY idx')
    .iterate(snapIndex, state?.commitIndex ?? 0) as IterableIterator<{ idx: number; kind: number; data: Buffer }>;
  for (const row of rows) {
    // A membership change, or a new leader's empty entry: nothing for the pool.
    if (row.kind !== NORMAL_ENTRY_KIND || row.data.length === 0) continue;
    const proposals = decodeBatch(new Uint8Array(row.data));
    const base = row.idx * PROPOSALS_PER_ENTRY_MAX;
    for (let i = 0; i < proposals.length; i++) {
      const { command } = decodeEntryData(proposals[i] as Uint8Array);
      // Tokens and audit notes belong to the admin state machine, not the pool.
      if (!isAdminCommand(command)) apply(pool, command, base + i);
    }
  }
  return pool;
}
