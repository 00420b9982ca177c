// Which database a data directory last ran with. Each database gets a random
// storage id when it is created (schema.ts raftState.storageId); this file,
// DATA_DIR/storage-lineage.json, remembers the id the node last opened. At
// start the two are compared: a database that is missing (deleted, the disk
// replaced) or another one put in its place means this member lost the log
// it had acknowledged to the cluster, and must not vote until the leader
// confirms it holds the log again (HardState.rejoining, daemon/raft). The
// file sits beside the node identity and the database, so deleting only the
// database (floe.sqlite*) is caught here; an older copy of the whole data
// directory carries an older file too and is caught by the leader instead
// (its commit index beyond the member's log, daemon/raft/raft.ts).
//
// Replaced atomically (write, fsync, rename, fsync the directory).
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { makePrivateIfPresent } from '../private-files.ts';
import type { FloeDatabase } from './open-database.ts';
import { raftState } from './schema.ts';

/** The file, inside the data directory. */
export const STORAGE_LINEAGE_FILE_NAME = 'storage-lineage.json';

/** Bytes of the file, at most (one id and its envelope). */
const STORAGE_LINEAGE_BYTES_MAX = 4096;

interface LineageFile {
  format: 'floe-storage-lineage';
  v: 1;
  storageId: string;
}

/** The storage id the data directory last ran with; undefined when it never ran a database of this version. Throws STORAGE_LINEAGE_CORRUPT on a damaged file. */
export function readStorageLineage(dataDir: string): string | undefined {
  const path = join(dataDir, STORAGE_LINEAGE_FILE_NAME);
  let text: string;
  try {
    if (statSync(path).size > STORAGE_LINEAGE_BYTES_MAX) throw new Error(`${path} is larger than ${STORAGE_LINEAGE_BYTES_MAX} bytes`);
    text = readFileSync(path, 'utf8');
    // A file an earlier build or a copy left readable by others is made private, as the database is.
    makePrivateIfPresent(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const v = value as Partial<LineageFile> | undefined;
  if (typeof v !== 'object' || v === null || v.format !== 'floe-storage-lineage' || v.v !== 1 || typeof v.storageId !== 'string' || !/^[0-9a-f]{32}$/.test(v.storageId)) {
    throw new Error(`STORAGE_LINEAGE_CORRUPT: ${path} is not a storage lineage file; if the database beside it is this node's own, delete the file and start again`);
  }
  return v.storageId;
}

/** Records `storageId` as the database the data directory runs with. */
export function writeStorageLineage(dataDir: string, storageId: string): void {
  const path = join(dataDir, STORAGE_LINEAGE_FILE_NAME);
  const file: LineageFile = { format: 'floe-storage-lineage', v: 1, storageId };
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(file)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dirFd = openSync(dataDir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/**
 * Forgets which database the data directory ran with, so the next start
 * trusts whatever database it finds: for a restore that puts a whole new
 * cluster's databases in place, never for one member of a live cluster.
 */
export function forgetStorageLineage(dataDir: string): void {
  try {
    unlinkSync(join(dataDir, STORAGE_LINEAGE_FILE_NAME));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** The storage id of the database as stored, or undefined when it holds no Raft state yet (created by this open). */
export function storedStorageId(database: FloeDatabase): string | undefined {
  const row = database.db.select({ storageId: raftState.storageId }).from(raftState).where(eq(raftState.id, 1)).get();
  return row?.storageId;
}
