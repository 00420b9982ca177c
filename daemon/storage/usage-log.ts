// The usage-events table for reports (checkout, checkin, denial, expiry,
// queue wait, forced check-in, revocation, named-user change: the kinds of
// daemon/pool's UsageKind). Rows come from the pool's `usage` events as entries are
// applied; they are buffered and written in batches (with the next Ready's
// transaction, or by a timer), never one transaction per request. Each row
// carries its log index: replaying the log after a restart skips indexes
// already written, so no row is written twice; rows not yet written when a
// node dies are rewritten by that replay.
import { and, desc, eq, gte, lt, sql } from 'drizzle-orm';
import type { FloeDatabase } from './open-database.ts';
import { usageEvents } from './schema.ts';

/** One usage row, as recorded and as reports read it. */
export interface UsageRow {
  readonly logIndex: number;
  /** `ms` since the epoch. */
  readonly at: number;
  readonly kind: string;
  readonly feature: string;
  readonly version: string;
  readonly user: string;
  readonly host: string;
  readonly clientId: string;
  readonly count: number;
  readonly leaseId: string;
  readonly waitedMs: number;
  readonly code: string;
  /** force-checkin: the admin's reason; revoke, user-removed: why; '' otherwise. */
  readonly reason: string;
}

/** Rows buffered before record() forces a flush. */
export const USAGE_ROWS_BUFFERED_MAX = 10_000;

/** Rows one query returns, at most. */
export const USAGE_ROWS_PER_QUERY_MAX = 10_000;

/** Rows per multi-row INSERT (13 parameters each; SQLite allows 32,766). */
const ROWS_PER_INSERT = 32;

/** UsageRow fields and their columns, in insert order. */
const USAGE_COLUMNS = [
  ['logIndex', 'log_index'],
  ['at', 'at'],
  ['kind', 'kind'],
  ['feature', 'feature'],
  ['version', 'version'],
  ['user', 'user'],
  ['host', 'host'],
  ['clientId', 'client_id'],
  ['count', 'count'],
  ['leaseId', 'lease_id'],
  ['waitedMs', 'waited_ms'],
  ['code', 'code'],
  ['reason', 'reason'],
] as const satisfies readonly (readonly [keyof UsageRow, string])[];

/** Columns per row. */
const COLUMNS_PER_ROW = USAGE_COLUMNS.length;

/** Writes row `r`'s values into `params` from `at` on, in column order. */
function putRow(params: unknown[], at: number, r: UsageRow): void {
  params[at] = r.logIndex;
  params[at + 1] = r.at;
  params[at + 2] = r.kind;
  params[at + 3] = r.feature;
  params[at + 4] = r.version;
  params[at + 5] = r.user;
  params[at + 6] = r.host;
  params[at + 7] = r.clientId;
  params[at + 8] = r.count;
  params[at + 9] = r.leaseId;
  params[at + 10] = r.waitedMs;
  params[at + 11] = r.code;
  params[at + 12] = r.reason;
}

// putRow must follow USAGE_COLUMNS' order: checked once, at load.
{
  const probe: unknown[] = [];
  putRow(probe, 0, Object.fromEntries(USAGE_COLUMNS.map(([field]) => [field, field])) as unknown as UsageRow);
  if (probe.length !== COLUMNS_PER_ROW || USAGE_COLUMNS.some(([field], i) => probe[i] !== field)) throw new Error('assert: putRow and USAGE_COLUMNS disagree');
}

/** Buffered writer and reader of the usage-events table. */
export class UsageLog {
  private pending: UsageRow[] = [];
  /** Highest log index with rows in the table at open: replayed entries up to it are skipped. */
  private readonly writtenBeforeIndex: number;
  /** Hot path: raw better-sqlite3 multi-row inserts (drizzle's placeholder filling costs more per row than the insert). */
  private readonly insertOne: import('better-sqlite3').Statement;
  private readonly insertMany: import('better-sqlite3').Statement;
  /** The values of one insertMany / insertOne, reused (a fixed length keeps them fast arrays). */
  private readonly manyParams: unknown[] = new Array<unknown>(ROWS_PER_INSERT * COLUMNS_PER_ROW).fill(null);
  private readonly oneParams: unknown[] = new Array<unknown>(COLUMNS_PER_ROW).fill(null);
  /** scan()'s two prepared statements (with and without a feature), by SQL. */
  private readonly scans = new Map<string, import('better-sqlite3').Statement>();
  /** Prepared on the first page() (backups only). */
  private pageStatement: import('better-sqlite3').Statement | undefined;

  constructor(private readonly database: FloeDatabase) {
    // Rows are written in log order, so the newest row holds the highest log index.
    const last = database.db.select({ m: usageEvents.logIndex }).from(usageEvents).orderBy(desc(usageEvents.id)).limit(1).get();
    this.writtenBeforeIndex = last?.m ?? 0;
    const row = `(${Array.from({ length: USAGE_COLUMNS.length }, () => '?').join(', ')})`;
    const insert = (rows: number) =>
      database.sqlite.prepare(
        `INSERT INTO usage_events (${USAGE_COLUMNS.map((c) => c[1]).join(', ')}) VALUES ${Array.from({ length: rows }, () => row).join(', ')}`,
      );
    this.insertOne = insert(1);
    this.insertMany = insert(ROWS_PER_INSERT);
  }

  /** Rows waiting to be written. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /**
   * Buffers a row. Rows of entries a previous run already wrote are skipped
   * (the rows of one entry are always written in one flush).
   */
  record(row: UsageRow): void {
    if (row.logIndex <= this.writtenBeforeIndex) return;
    this.pending.push(row);
  }

  /** True when enough rows wait that the caller should flush now. */
  get full(): boolean {
    return this.pending.length >= USAGE_ROWS_BUFFERED_MAX;
  }

  /** Writes the buffered rows; joins the caller's transaction when there is one. */
  flush(): void {
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    // Values go in as separate arguments, not as one array: better-sqlite3 reads an array's
    // elements through V8's generic property lookup, which cost 1.3 µs of a 3.6 µs row.
    const write = (): void => {
      let i = 0;
      const many = this.manyParams;
      for (; i + ROWS_PER_INSERT <= rows.length; i += ROWS_PER_INSERT) {
        for (let k = 0; k < ROWS_PER_INSERT; k++) putRow(many, k * COLUMNS_PER_ROW, rows[i + k]!);
        this.insertMany.run(...many);
      }
      const one = this.oneParams;
      for (; i < rows.length; i++) {
        putRow(one, 0, rows[i]!);
        this.insertOne.run(...one);
      }
      // Drop the references to the last rows' strings.
      many.fill(null);
      one.fill(null);
    };
    if (this.database.sqlite.inTransaction) write();
    else this.database.sqlite.transaction(write)();
  }

  /**
   * Rows in the order they were written, after row id `afterId` and up to log
   * index `logIndexMax`, at most `limit`: the pages of a backup. Rows are only
   * appended, so paging by id sees every row up to that index exactly once.
   * Answers the rows and the id to continue after (unchanged: no more rows).
   */
  page(afterId: number, logIndexMax: number, limit: number): { rows: UsageRow[]; lastId: number } {
    this.pageStatement ??= this.database.sqlite.prepare(
      `SELECT id, ${USAGE_COLUMNS.map((c) => c[1]).join(', ')} FROM usage_events WHERE id > ? AND log_index <= ? ORDER BY id LIMIT ?`,
    );
    const raw = this.pageStatement.raw().all(afterId, logIndexMax, Math.min(limit, USAGE_ROWS_PER_QUERY_MAX)) as unknown[][];
    let lastId = afterId;
    const rows = raw.map((r): UsageRow => {
      lastId = r[0] as number;
      const row: Record<string, unknown> = {};
      USAGE_COLUMNS.forEach(([field], i) => (row[field] = r[i + 1]));
      return row as unknown as UsageRow;
    });
    return { rows, lastId };
  }

  /**
   * Rows with `fromMs ≤ at < toMs` (optionally of one feature), oldest first
   * (log order), read lazily: a report reads months of rows without holding
   * them. Flush first for the rows of the latest entries. The iterator holds
   * the database's read cursor: consume it at once.
   */
  scan(options: { readonly fromMs: number; readonly toMs: number; readonly feature?: string }): IterableIterator<UsageRow> {
    const columns = USAGE_COLUMNS.map(([field, column]) => `${column} AS ${field}`).join(', ');
    const byFeature = options.feature !== undefined;
    const sql = `SELECT ${columns} FROM usage_events WHERE at >= ? AND at < ?${byFeature ? ' AND feature = ?' : ''} ORDER BY at, id`;
    let statement = this.scans.get(sql);
    if (statement === undefined) {
      statement = this.database.sqlite.prepare(sql);
      this.scans.set(sql, statement);
    }
    const params = byFeature ? [options.fromMs, options.toMs, options.feature] : [options.fromMs, options.toMs];
    return statement.iterate(...params) as IterableIterator<UsageRow>;
  }

  /** Rows with `fromMs ≤ at < toMs` (optionally of one feature), newest first, at most `limit`. */
  query(options: { fromMs?: number; toMs?: number; feature?: string; limit?: number } = {}): UsageRow[] {
    const conditions = [gte(usageEvents.at, options.fromMs ?? 0), lt(usageEvents.at, options.toMs ?? Number.MAX_SAFE_INTEGER)];
    if (options.feature !== undefined) conditions.push(eq(usageEvents.feature, options.feature));
    const limit = Math.min(options.limit ?? 1000, USAGE_ROWS_PER_QUERY_MAX);
    return this.database.db
      .select({
        logIndex: usageEvents.logIndex,
        at: usageEvents.at,
        kind: usageEvents.kind,
        feature: usageEvents.feature,
        version: usageEvents.version,
        user: usageEvents.user,
        host: usageEvents.host,
        clientId: usageEvents.clientId,
        count: usageEvents.count,
        leaseId: usageEvents.leaseId,
        waitedMs: usageEvents.waitedMs,
        code: usageEvents.code,
        reason: usageEvents.reason,
      })
      .from(usageEvents)
      .where(and(...conditions))
      .orderBy(desc(usageEvents.at), desc(usageEvents.id))
      .limit(limit)
      .all();
  }
}
