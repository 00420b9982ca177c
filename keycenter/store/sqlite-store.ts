// The key center's store on SQLite (drizzle-orm over better-sqlite3): the
// embedded default, one file in the key-center directory. One connection per
// process; transactions are BEGIN IMMEDIATE (other processes on the same file,
// such as a CLI command beside a running portal, wait on SQLite's lock) and a
// SerialLock keeps this process's callers out of each other's transactions.
import { AsyncLocalStorage } from 'node:async_hooks';
import Database from 'better-sqlite3';
import { getTableName, sql } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { fileURLToPath } from 'node:url';
import * as schema from '../schema.ts';
import { DrizzleQueries, type StoreDialect } from './drizzle-queries.ts';
import { StoreConflictError, type KeyCenterStore, type StoreQueries } from './key-center-store.ts';
import { SerialLock } from './serial-lock.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));
/** `ms` another process's write lock is waited for before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

/** Opens (creating when `create`) the SQLite store at `path` and applies pending migrations. */
export function openSqliteStore(path: string, create: boolean): SqliteStore {
  const client = new Database(path, { fileMustExist: !create });
  try {
    client.pragma('journal_mode = WAL');
    client.pragma('synchronous = FULL');
    client.pragma('foreign_keys = ON');
    client.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const db = drizzle({ client, schema });
    migrate(db, { migrationsFolder: MIGRATIONS_DIR });
    return new SqliteStore(db);
  } catch (error) {
    client.close();
    throw error;
  }
}

/** Turns a unique-constraint failure into StoreConflictError; rethrows anything else. */
function conflictOr(error: unknown): never {
  const e = error as { code?: unknown; message?: unknown };
  if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const message = String(e.message);
    throw new StoreConflictError(message.replace(/^UNIQUE constraint failed: /, ''), message);
  }
  throw error;
}

/** SQLite's part of the shared queries. */
const SQLITE_DIALECT: StoreDialect = {
  tables: schema,
  conflictOr,
  // The implicit rowid: insertion order.
  insertionOrder: (table, direction) => sql.raw(`"${getTableName(table)}"."rowid"${direction === 'desc' ? ' DESC' : ''}`),
  // A write transaction (BEGIN IMMEDIATE) already runs alone.
  forUpdate: (select) => select,
};

/** The SQLite implementation of KeyCenterStore. */
export class SqliteStore implements KeyCenterStore {
  private readonly lock = new SerialLock();
  private readonly queries: DrizzleQueries;
  /** Set while a transaction or read runs: calling the store again from inside it would deadlock. */
  private readonly inside = new AsyncLocalStorage<true>();

  constructor(private readonly db: Db) {
    this.queries = new DrizzleQueries(db, SQLITE_DIALECT);
  }

  transaction<T>(fn: (q: StoreQueries) => Promise<T>): Promise<T> {
    return this.enter('BEGIN IMMEDIATE', fn);
  }

  read<T>(fn: (q: StoreQueries) => Promise<T>): Promise<T> {
    return this.enter('BEGIN', fn);
  }

  private enter<T>(begin: string, fn: (q: StoreQueries) => Promise<T>): Promise<T> {
    if (this.inside.getStore() === true) throw new Error('assert: a store transaction called the store again; use its queries');
    return this.lock.run(async () => {
      const client = this.db.$client;
      client.exec(begin);
      try {
        const result = await this.inside.run(true, () => fn(this.queries));
        client.exec('COMMIT');
        return result;
      } catch (error) {
        if (client.inTransaction) client.exec('ROLLBACK');
        throw error;
      }
    });
  }

  close(): Promise<void> {
    return this.lock.run(async () => {
      this.db.$client.close();
    });
  }
}
