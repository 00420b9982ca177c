// Opens (creating when absent) a node's SQLite database in WAL mode and
// brings the schema up to date with the drizzle-kit migrations.
//
// Durability of the log, two modes (config raft.syncMode):
// - "full": synchronous=FULL; each commit fsyncs the WAL on the event loop.
// - "async" (default): synchronous=NORMAL (commits and checkpoints stay
//   consistent, SQLite's guarantee) plus an explicit fdatasync of the WAL
//   file after each Ready's commit, run in libuv's thread pool. Nothing is
//   acknowledged before that fdatasync returns, so an acknowledged command is
//   as durable as under FULL; meanwhile the event loop keeps reading and
//   proposing, so the next group commit fills while the disk syncs.
import { closeSync, fdatasync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { ensurePrivateDir, ensurePrivateFile, makePrivateIfPresent } from '../private-files.ts';
import * as schema from './schema.ts';

/** The migrations drizzle-kit generated from schema.ts. */
export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/** The node database file inside a data directory. */
export const DATABASE_FILE_NAME = 'floe.sqlite';

/** A node's database: the drizzle client and the better-sqlite3 handle under it. */
export interface FloeDatabase {
  readonly db: BetterSQLite3Database<typeof schema>;
  readonly sqlite: Database.Database;
  /** Commits fsync themselves (FULL), or the caller syncs the WAL with syncWal (async). */
  readonly syncMode: SyncMode;
  /** Makes every committed transaction durable (fdatasync of the WAL); calls `done` after. Async mode only. */
  syncWal(done: (error: Error | null) => void): void;
  /** Closes the handle; idempotent. */
  close(): void;
}

/** How commits reach the disk; see the file comment. */
export type SyncMode = 'full' | 'async';

/** Storage failures at the boundary: the disk or the file, never the caller. */
export class StorageIoError extends Error {
  readonly code = 'STORAGE_IO';
  override readonly name = 'StorageIoError';
}

/**
 * Opens `path` (":memory:" for tests), sets durability pragmas and migrates.
 * The database and its directory are private (0600, 0700) whatever the umask:
 * SQLite creates the -wal and -shm files with the database file's mode.
 */
export function openDatabase(path: string, syncMode: SyncMode = 'full'): FloeDatabase {
  let sqlite: Database.Database;
  try {
    if (path !== ':memory:') {
      ensurePrivateDir(dirname(path));
      ensurePrivateFile(path);
      // Left by an older version with the umask's mode.
      makePrivateIfPresent(`${path}-wal`);
      makePrivateIfPresent(`${path}-shm`);
    }
    sqlite = new Database(path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma(syncMode === 'full' || path === ':memory:' ? 'synchronous = FULL' : 'synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    // Checkpoints happen on the writer's thread; a bigger WAL means fewer, larger ones.
    sqlite.pragma('wal_autocheckpoint = 4000');
  } catch (error) {
    throw new StorageIoError(`STORAGE_IO: cannot open ${path}: ${(error as Error).message}`);
  }
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  // The WAL file exists once anything was written (the migrations did); it keeps its inode across checkpoints.
  const walFd = syncMode === 'async' && path !== ':memory:' ? openSync(`${path}-wal`, 'r') : -1;
  let closed = false;
  return {
    db,
    sqlite,
    syncMode: walFd >= 0 ? 'async' : 'full',
    syncWal(done) {
      if (walFd < 0) return done(null);
      fdatasync(walFd, (error) => done(error === null ? null : new StorageIoError(`STORAGE_IO: fdatasync of the WAL failed: ${error.message}`)));
    },
    close() {
      if (closed) return;
      closed = true;
      sqlite.close();
      if (walFd >= 0) closeSync(walFd);
    },
  };
}
