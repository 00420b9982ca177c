// `floe restore`: a member of a NEW cluster from a backup, when every server
// of the old one was lost. Like etcd's `snapshot restore`, each new member
// restores the same file into its own empty data directory with its own
// config: the backup's pool snapshot becomes the Raft snapshot at the
// backup's applied index and term, with the config's peers as the voters,
// and the usage rows follow. Members restored from one file start with equal
// state and logs, elect a leader and go on from the next index; the new
// leader's grace period gives every restored lease time to be renewed.
//
// Nothing of the old cluster's membership is carried over (its addresses
// may be gone): the config file says who the members are now. The node's
// identity (its lock code) is the data directory's, not the backup's: see
// docs/operations.md for what that means for the license keys.
//
// The database is written under a temporary name and renamed into place
// only once the whole file checked out, so a failed restore leaves no
// database behind.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createAdminState, encodeAdminState } from '../admin-state/index.ts';
import type { FloeConfig } from '../config.ts';
import { encodeNodeSnapshot } from '../node/node-snapshot.ts';
import { DATABASE_FILE_NAME, MEMBER_DIRECTORY_FILE_NAME, openDatabase, SqliteRaftStorage, UsageLog, writeStorageLineage } from '../storage/index.ts';
import { BackupError, type BackupHeader } from './backup-format.ts';
import { readBackup } from './backup-reader.ts';

/** What restoreBackup() wrote. */
export interface RestoreResult {
  readonly header: BackupHeader;
  readonly dataDir: string;
  /** The voters of the new cluster (the config's peers, or this node alone). */
  readonly voters: readonly string[];
  readonly usageRows: number;
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function removeDatabaseFiles(path: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${path}${suffix}`, { force: true });
}

/**
 * Restores the backup at `backupPath` into `config.dataDir` (which must hold
 * no database yet). Rejects with BackupError: RESTORE_CONFIG_JOIN,
 * RESTORE_TARGET_NOT_EMPTY, or the file's BACKUP_… code.
 */
export async function restoreBackup(config: FloeConfig, backupPath: string): Promise<RestoreResult> {
  if (config.cluster.join) {
    throw new BackupError('RESTORE_CONFIG_JOIN', `${config.nodeId}'s config says join = true; a restored member is one of the new cluster's initial voters: set join = false (a member added later joins empty, as usual)`);
  }
  const dataDir = config.dataDir;
  const dbPath = join(dataDir, DATABASE_FILE_NAME);
  for (const taken of [dbPath, join(dataDir, MEMBER_DIRECTORY_FILE_NAME)]) {
    if (existsSync(taken)) {
      throw new BackupError('RESTORE_TARGET_NOT_EMPTY', `${taken} exists: restore into an empty data directory (move the old one away; never restore over a member that still runs)`);
    }
  }
  const voters = config.cluster.peers.length > 0 ? config.cluster.peers.map((p) => p.id) : [config.nodeId];
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const tmpPath = `${dbPath}.restoring`;
  removeDatabaseFiles(tmpPath);
  const database = openDatabase(tmpPath, 'full');
  let result: RestoreResult;
  let storageId: string;
  try {
    const storage = new SqliteRaftStorage(database, { initialConfState: { voters, learners: [] } });
    storageId = storage.storageId;
    const usage = new UsageLog(database);
    const contents = await readBackup(backupPath, (rows) => {
      for (const row of rows) usage.record(row);
      usage.flush();
    });
    const { header, pool } = contents;
    storage.atomically(() => {
      storage.applySnapshot({
        metadata: { index: header.appliedIndex, term: header.term, confState: { voters, learners: [] } },
        // A backup holds no admin state (tokens come from the config; the audit log starts again).
        data: encodeNodeSnapshot(pool, [], encodeAdminState(createAdminState())),
      });
      storage.setHardState({ term: header.term, vote: '', commit: header.appliedIndex });
    });
    // One file to rename: fold the WAL back in and leave WAL mode (the node sets it again at open).
    database.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    database.sqlite.pragma('journal_mode = DELETE');
    result = { header, dataDir, voters, usageRows: contents.usageRows };
  } catch (error) {
    database.close();
    removeDatabaseFiles(tmpPath);
    throw error;
  }
  database.close();
  renameSync(tmpPath, dbPath);
  fsyncDir(dataDir);
  // The data directory runs the restored database from now on: at start the node trusts it
  // (an older storage-lineage.json kept from the lost one would make it rejoin a cluster that,
  // every member restored alike, has nobody left to confirm it).
  writeStorageLineage(dataDir, storageId);
  return result;
}
