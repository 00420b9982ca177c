// Opens (creating when absent) a node's SQLite database: WAL journal with
// synchronous=FULL, so a committed transaction is on disk (one fsync) before
// its Ready's messages go out or its results are acknowledged; then brings
// the schema up to date with the drizzle-kit migrations.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.ts';

/** The migrations drizzle-kit generated from schema.ts. */
export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/** The node database file inside a data directory. */
export const DATABASE_FILE_NAME = 'floe.sqlite';

/** A node's database: the drizzle client and the better-sqlite3 handle under it. */
export interface FloeDatabase {
  readonly db: BetterSQLite3Database<typeof schema>;
  readonly sqlite: Database.Database;
  /** Closes the handle; idempotent. */
  close(): void;
}

/** Storage failures at the boundary: the disk or the file, never the caller. */
export class StorageIoError extends Error {
  readonly code = 'STORAGE_IO';
  override readonly name = 'StorageIoError';
}

/** Opens `path` (":memory:" for tests), sets durability pragmas and migrates. */
export function openDatabase(path: string): FloeDatabase {
  let sqlite: Database.Database;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    sqlite = new Database(path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    // Checkpoints happen on the writer's thread; a bigger WAL means fewer, larger ones.
    sqlite.pragma('wal_autocheckpoint = 4000');
  } catch (error) {
    throw new StorageIoError(`STORAGE_IO: cannot open ${path}: ${(error as Error).message}`);
  }
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  let closed = false;
  return {
    db,
    sqlite,
    close() {
      if (closed) return;
      closed = true;
      sqlite.close();
    },
  };
}
