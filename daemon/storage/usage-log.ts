// The usage-events table for reports (checkout, checkin, denial, expiry,
// queue wait). Rows come from the pool's `usage` events as entries are
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
}

/** Rows buffered before record() forces a flush. */
export const USAGE_ROWS_BUFFERED_MAX = 10_000;

/** Rows one query returns, at most. */
export const USAGE_ROWS_PER_QUERY_MAX = 10_000;

/** Buffered writer and reader of the usage-events table. */
export class UsageLog {
  private pending: UsageRow[] = [];
  /** Highest log index with rows in the table at open: replayed entries up to it are skipped. */
  private readonly writtenBeforeIndex: number;
  private readonly insert;

  constructor(private readonly database: FloeDatabase) {
    const row = database.db.select({ m: sql<number | null>`max(${usageEvents.logIndex})` }).from(usageEvents).get();
    this.writtenBeforeIndex = row?.m ?? 0;
    const p = sql.placeholder;
    this.insert = database.db
      .insert(usageEvents)
      .values({
        logIndex: p('logIndex'),
        at: p('at'),
        kind: p('kind'),
        feature: p('feature'),
        version: p('version'),
        user: p('user'),
        host: p('host'),
        clientId: p('clientId'),
        count: p('count'),
        leaseId: p('leaseId'),
        waitedMs: p('waitedMs'),
        code: p('code'),
      })
      .prepare();
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
    const write = (): void => {
      for (const r of rows) this.insert.run({ ...r });
    };
    if (this.database.sqlite.inTransaction) write();
    else this.database.sqlite.transaction(write)();
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
      })
      .from(usageEvents)
      .where(and(...conditions))
      .orderBy(desc(usageEvents.at), desc(usageEvents.id))
      .limit(limit)
      .all();
  }
}
