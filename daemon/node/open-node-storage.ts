// What a node finds on its disk when it starts, and what follows from it:
// the database (its WAL syncs timed for the metrics), the Raft storage, the
// usage table, the replicated state of the latest snapshot, and whether this
// member rejoins. A member whose database is not the one it last ran with
// (storage-lineage.ts: deleted, replaced, an older copy put back) lost
// entries it acknowledged; it, and a member joining with an empty log, take
// their membership from the leader and vote only once the leader confirms
// they hold the log (HardState.rejoining). Kept apart from FloeNode so the
// decisions made before the log starts read in one place.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  DATABASE_FILE_NAME,
  openDatabase,
  readStorageLineage,
  SqliteRaftStorage,
  storedStorageId,
  UsageLog,
  writeStorageLineage,
  type FloeDatabase,
} from '../storage/index.ts';
import type { FloeConfig } from '../config.ts';
import type { NodeObservers } from './node-observers.ts';
import type { AdminState } from '../admin-state/index.ts';
import type { PoolState } from '../pool/index.ts';
import { replicatedState } from './node-snapshot.ts';

/** A node's storage, opened; the caller closes `database` if what follows fails. */
export interface OpenedNodeStorage {
  readonly database: FloeDatabase;
  readonly storage: SqliteRaftStorage;
  readonly usage: UsageLog;
  /** The pool state of the latest snapshot (empty without one); the log replays after it. */
  readonly pool: PoolState;
  /** The admin state of the latest snapshot. */
  readonly admin: AdminState;
  /** The index the snapshot covers: applied before the log replays. */
  readonly applied: number;
  /** True when other voters exist (or may: a cluster config). */
  readonly clustered: boolean;
  /** The voters of a brand-new log (empty for a rejoining member; a stored log keeps its own). */
  readonly voters: readonly string[];
}

/**
 * Opens the database under config.dataDir and decides, from the storage
 * lineage, whether this member rejoins; on disk (fsync) before it returns.
 * `voters`: those of a brand-new cluster (FloeNodeOptions.voters).
 */
export async function openNodeStorage(
  config: FloeConfig,
  voters: readonly string[] | undefined,
  observers: NodeObservers,
  log: (line: string) => void,
): Promise<OpenedNodeStorage> {
  const lineage = readStorageLineage(config.dataDir);
  const opened = openDatabase(join(config.dataDir, DATABASE_FILE_NAME), config.raft.syncMode);
  // Each fdatasync of the log is timed for the observers (metrics).
  const database: FloeDatabase = {
    ...opened,
    syncWal: (done) => {
      const startMs = performance.now();
      opened.syncWal((error) => {
        if (observers.storageSync.active) observers.storageSync.emit(performance.now() - startMs);
        done(error);
      });
    },
  };
  try {
    const peers = config.cluster.peers;
    const storedId = storedStorageId(database);
    // The database this data directory last ran with is gone (deleted, the disk replaced) or
    // another one stands in its place: this member lost entries it acknowledged to the cluster.
    const lost = lineage !== undefined && storedId !== lineage;
    const clustered = peers.length > 0 || (voters?.length ?? 0) > 1;
    // A member that lost its log, or joins with an empty one, takes its membership from the
    // leader (never from the config file: it may be stale) and votes only once confirmed.
    const rejoin = clustered && (lost || (config.cluster.join && storedId === undefined));
    // The initial voters count only for an empty log: a stored one has its membership.
    const initialVoters = rejoin ? [] : [...(voters ?? (peers.length > 0 ? (config.cluster.join ? [] : peers.map((p) => p.id)) : [config.nodeId]))];
    const storage = new SqliteRaftStorage(database, { initialConfState: { voters: initialVoters, learners: [] } });
    if (lost) {
      log(
        clustered
          ? `storage: the database this node last ran with (storage id ${lineage}) is gone; rejoining the cluster as a member that lost its log: no vote until the leader confirms it holds the log again`
          : `storage: the database this node last ran with (storage id ${lineage}) is gone; a single server has no cluster to rejoin: starting from this database`,
      );
    }
    if (rejoin && storage.initialState().hardState.rejoining !== true) {
      storage.setHardState({ ...storage.initialState().hardState, rejoining: true });
      // On disk before the lineage file moves on and before any message leaves.
      await new Promise<void>((resolve, reject) => database.syncWal((error) => (error === null ? resolve() : reject(error))));
    }
    if (lineage !== storage.storageId) writeStorageLineage(config.dataDir, storage.storageId);
    const usage = new UsageLog(database);
    const snapshot = storage.snapshot();
    const { pool, admin } = replicatedState(snapshot);
    return { database, storage, usage, pool, admin, applied: snapshot.metadata.index, clustered, voters: initialVoters };
  } catch (error) {
    database.close();
    throw error;
  }
}

/** The log line for a change of the driver's rejoining flag (RaftDriver's onRejoining). */
export function rejoiningLine(rejoining: boolean): string {
  return rejoining
    ? `storage: this node's log lost entries it had acknowledged (the leader's commit index is beyond it: a wiped database or an older copy put back); rejoining: it catches up and does not vote until the leader confirms it holds the log`
    : `storage: the leader confirmed this node holds the log; rejoined, it votes again`;
}
