// The key center's store on PostgreSQL (drizzle-orm over node-postgres), for a
// vendor running several portal instances over one database. Same rules, same
// contract (store-contract.test-support.ts) as the SQLite store; what differs
// is how atomicity is had:
// - transactions run at READ COMMITTED, so two instances do read the same
//   state at once; every read-then-write rule is guarded by a unique
//   constraint (schema-pg.ts), whose violation (23505) becomes
//   StoreConflictError and makes atomically() run the rule again — it then
//   sees the other writer's row and answers ALREADY_ACTIVATED,
//   SEATS_EXHAUSTED, ALREADY_SUPERSEDED or the same key;
// - where many writers contend for one code or order line, the rule first
//   locks its row (SELECT … FOR UPDATE), so they queue rather than retry;
// - one-time changes (a token used, a join request decided, a mail claimed)
//   are single conditional UPDATEs: the second writer waits for the row lock,
//   re-checks the condition against the committed row and changes nothing;
// - rate-limit counters are one INSERT … ON CONFLICT DO UPDATE;
// - a serialization failure or deadlock (40001, 40P01) is retried the same way.
// Migrations run when the store opens, under an advisory lock, so instances
// started together apply them once.
import { asc, desc } from 'drizzle-orm';
import type { PgSelect } from 'drizzle-orm/pg-core';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import * as schema from '../schema-pg.ts';
import { DrizzleQueries, type SharedDb, type SharedTables, type StoreDialect } from './drizzle-queries.ts';
import { StoreConflictError, type KeyCenterStore, type StoreQueries } from './key-center-store.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations-pg', import.meta.url));
/** Connections one instance keeps to the database at most. */
export const POSTGRES_CONNECTIONS_MAX = 10;
/** `ms` to wait for a connection before the request fails. */
const CONNECT_TIMEOUT_MS = 10_000;
/** `ms` a statement may run before PostgreSQL cancels it. */
const STATEMENT_TIMEOUT_MS = 30_000;
/** The advisory lock that serializes migrations of instances started together. */
const MIGRATION_LOCK_ID = 0x666c6f65; // "floe"

type Db = NodePgDatabase<Record<string, never>>;

/** True for a URL the PostgreSQL store takes (postgres:// or postgresql://). */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** The URL with its password hidden, for logs. */
export function redactedDatabaseUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*):[^@]*@/i, '$1:***@');
}

/** Opens the PostgreSQL store at `url` and applies pending migrations (once, whichever instance comes first). */
export async function openPostgresStore(url: string, options: { connectionsMax?: number } = {}): Promise<PostgresStore> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.connectionsMax ?? POSTGRES_CONNECTIONS_MAX,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
  });
  // An idle connection the server dropped (a restart, a failover) must not kill the process; the pool replaces it.
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
      try {
        await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_DIR });
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
      }
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end();
    throw error;
  }
  return new PostgresStore(pool);
}

/** The driver error under drizzle's wrapper (DrizzleQueryError keeps it as `cause`). */
function driverErrorOf(error: unknown): { code?: unknown; constraint?: unknown; message?: unknown } {
  let e = error as { code?: unknown; cause?: unknown };
  for (let depth = 0; depth < 5 && e.code === undefined && e.cause !== undefined; depth++) e = e.cause as typeof e;
  return e as { code?: unknown; constraint?: unknown; message?: unknown };
}

/** Turns a unique violation, serialization failure or deadlock into StoreConflictError (the rule runs again); rethrows anything else. */
function conflictOr(error: unknown): never {
  const e = driverErrorOf(error);
  if (e.code === '23505' || e.code === '40001' || e.code === '40P01') {
    throw new StoreConflictError(String(e.constraint ?? e.code), String(e.message));
  }
  throw error;
}

/** PostgreSQL's tables, with a `rowid` identity column where ties are broken by insertion order. */
type PgTables = typeof schema;

/** PostgreSQL's part of the shared queries. */
const POSTGRES_DIALECT: StoreDialect = {
  // Same table and column names and row shapes as SQLite's (schema-dialects.test.ts checks it); see drizzle-queries.ts.
  tables: schema as unknown as SharedTables,
  conflictOr,
  insertionOrder: (table, direction) => {
    const rowid = (table as unknown as PgTables['entitlements'] | PgTables['licenseKeys'] | PgTables['mailOutbox']).rowid;
    return direction === 'asc' ? asc(rowid) : desc(rowid);
  },
  // Writers of one code or line queue here; SKIP LOCKED: a mail another instance is claiming is left to it, not waited for.
  forUpdate: (select, options) => (select as unknown as PgSelect).for('update', options.skipLocked ? { skipLocked: true } : {}) as unknown as typeof select,
};

/** The shared queries on a transaction of this store. */
function queriesOf(tx: Pick<Db, 'select' | 'insert' | 'update' | 'delete'>): StoreQueries {
  return new DrizzleQueries(tx as unknown as SharedDb, POSTGRES_DIALECT);
}

/** The PostgreSQL implementation of KeyCenterStore. */
export class PostgresStore implements KeyCenterStore {
  private readonly db: Db;

  constructor(private readonly pool: pg.Pool) {
    this.db = drizzle({ client: pool });
  }

  async transaction<T>(fn: (q: StoreQueries) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction((tx) => fn(queriesOf(tx)), { isolationLevel: 'read committed' });
    } catch (error) {
      conflictOr(error);
    }
  }

  read<T>(fn: (q: StoreQueries) => Promise<T>): Promise<T> {
    // One snapshot for every statement of the read, as SQLite's BEGIN gives.
    return this.db.transaction((tx) => fn(queriesOf(tx)), { isolationLevel: 'repeatable read', accessMode: 'read only' });
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
