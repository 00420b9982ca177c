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
import { and, asc, desc, eq, inArray, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import * as schema from '../schema-pg.ts';
import {
  StoreConflictError,
  type AccountRecord,
  type AllocationRecord,
  type AuditRecord,
  type EntitlementRecord,
  type JoinRequestRecord,
  type JoinRequestStatus,
  type KeyCenterStore,
  type LicenseKeyRecord,
  type MailAttachment,
  type MailRecord,
  type MemberRecord,
  type MemberWithUser,
  type MembershipWithAccount,
  type OrderContact,
  type OrderLineRecord,
  type OrderRecord,
  type OwnedFilter,
  type SessionRecord,
  type StaffRecord,
  type StoreQueries,
  type UserRecord,
  type UserTokenPurpose,
  type UserTokenRecord,
} from './key-center-store.ts';

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
/** A transaction or the database: both run the same query builders. */
type Runner = Pick<Db, 'select' | 'insert' | 'update' | 'delete'>;

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

function json<T>(text: string | null, fallback: T): T {
  return text === null ? fallback : (JSON.parse(text) as T);
}

/** The PostgreSQL implementation of KeyCenterStore. */
export class PostgresStore implements KeyCenterStore {
  private readonly db: Db;

  constructor(private readonly pool: pg.Pool) {
    this.db = drizzle({ client: pool });
  }

  async transaction<T>(fn: (q: StoreQueries) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction((tx) => fn(new PostgresQueries(tx)), { isolationLevel: 'read committed' });
    } catch (error) {
      conflictOr(error);
    }
  }

  read<T>(fn: (q: StoreQueries) => Promise<T>): Promise<T> {
    // One snapshot for every statement of the read, as SQLite's BEGIN gives.
    return this.db.transaction((tx) => fn(new PostgresQueries(tx)), { isolationLevel: 'repeatable read', accessMode: 'read only' });
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

const t = schema;

function toEntitlement({ rowid: _rowid, ...row }: typeof t.entitlements.$inferSelect): EntitlementRecord {
  return row;
}

function toKey({ rowid: _rowid, ...row }: typeof t.licenseKeys.$inferSelect): LicenseKeyRecord {
  return { ...row, lockCodes: json<string[]>(row.lockCodes, []) };
}

function toOrder(row: typeof t.orders.$inferSelect): OrderRecord {
  return { ...row, contacts: json<OrderContact[]>(row.contacts, []) };
}

function toLine(row: typeof t.orderLines.$inferSelect): OrderLineRecord {
  return { ...row, components: json<string[]>(row.components, []) };
}

function toMail({ rowid: _rowid, ...row }: typeof t.mailOutbox.$inferSelect): MailRecord {
  return { ...row, attachments: json<MailAttachment[]>(row.attachments, []) };
}

function ownedConditions(filter: OwnedFilter): SQL[] {
  const e = t.entitlements;
  const conditions: SQL[] = [];
  if (filter.siteNumber !== undefined) conditions.push(eq(e.siteNumber, filter.siteNumber));
  if (filter.orderId !== undefined) conditions.push(eq(e.orderId, filter.orderId));
  if (filter.lineId !== undefined) conditions.push(eq(e.lineId, filter.lineId));
  if (filter.authCode !== undefined) conditions.push(eq(e.authCode, filter.authCode));
  return conditions;
}

/** The queries, run inside the transaction PostgresStore opened. */
class PostgresQueries implements StoreQueries {
  constructor(private readonly db: Runner) {}

  async settingOrInsert(name: string, valueIfAbsent: string): Promise<string> {
    await this.db.insert(t.settings).values({ name, value: valueIfAbsent }).onConflictDoNothing();
    const [row] = await this.db.select().from(t.settings).where(eq(t.settings.name, name));
    return row!.value;
  }

  async insertAccount(account: AccountRecord): Promise<void> {
    await this.db.insert(t.accounts).values(account).catch(conflictOr);
  }

  async account(siteNumber: string): Promise<AccountRecord | undefined> {
    return (await this.db.select().from(t.accounts).where(eq(t.accounts.siteNumber, siteNumber)))[0];
  }

  async accounts(): Promise<AccountRecord[]> {
    return this.db.select().from(t.accounts).orderBy(asc(t.accounts.siteNumber));
  }

  async insertUser(user: UserRecord): Promise<void> {
    await this.db.insert(t.users).values(user).catch(conflictOr);
  }

  async user(userId: string): Promise<UserRecord | undefined> {
    return (await this.db.select().from(t.users).where(eq(t.users.userId, userId)))[0];
  }

  async userByEmail(email: string): Promise<UserRecord | undefined> {
    return (await this.db.select().from(t.users).where(eq(t.users.email, email)))[0];
  }

  async setPasswordHash(userId: string, passwordHash: string, atMs: number): Promise<void> {
    await this.db.update(t.users).set({ passwordHash, passwordChangedAt: atMs }).where(eq(t.users.userId, userId));
  }

  async insertMember(member: MemberRecord): Promise<boolean> {
    const rows = await this.db.insert(t.members).values(member).onConflictDoNothing().returning({ userId: t.members.userId });
    return rows.length === 1;
  }

  async deleteMember(siteNumber: string, userId: string): Promise<boolean> {
    const rows = await this.db
      .delete(t.members)
      .where(and(eq(t.members.siteNumber, siteNumber), eq(t.members.userId, userId)))
      .returning({ userId: t.members.userId });
    return rows.length === 1;
  }

  async member(siteNumber: string, userId: string): Promise<MemberRecord | undefined> {
    return (
      await this.db
        .select()
        .from(t.members)
        .where(and(eq(t.members.siteNumber, siteNumber), eq(t.members.userId, userId)))
    )[0];
  }

  async membersOf(siteNumber: string): Promise<MemberWithUser[]> {
    return (
      await this.db
        .select()
        .from(t.members)
        .innerJoin(t.users, eq(t.members.userId, t.users.userId))
        .where(eq(t.members.siteNumber, siteNumber))
        .orderBy(asc(t.users.email))
    ).map(({ members: m, users: u }) => ({ ...m, email: u.email, name: u.name }));
  }

  async membershipsOf(userId: string): Promise<MembershipWithAccount[]> {
    return (
      await this.db
        .select()
        .from(t.members)
        .innerJoin(t.accounts, eq(t.members.siteNumber, t.accounts.siteNumber))
        .where(eq(t.members.userId, userId))
        .orderBy(asc(t.accounts.companyName), asc(t.accounts.siteNumber))
    ).map(({ members: m, accounts: a }) => ({ ...m, companyName: a.companyName }));
  }

  async insertOrder(order: OrderRecord, lines: readonly OrderLineRecord[]): Promise<void> {
    try {
      await this.db.insert(t.orders).values({ ...order, contacts: JSON.stringify(order.contacts) });
      if (lines.length > 0) {
        await this.db.insert(t.orderLines).values(lines.map((l) => ({ ...l, components: JSON.stringify(l.components) })));
      }
    } catch (error) {
      conflictOr(error);
    }
  }

  async order(orderId: string): Promise<OrderRecord | undefined> {
    const [row] = await this.db.select().from(t.orders).where(eq(t.orders.orderId, orderId));
    return row === undefined ? undefined : toOrder(row);
  }

  async ordersOf(siteNumber: string): Promise<OrderRecord[]> {
    return (
      await this.db
        .select()
        .from(t.orders)
        .where(eq(t.orders.siteNumber, siteNumber))
        .orderBy(desc(t.orders.orderedAt), desc(t.orders.customerOrderNumber))
    ).map(toOrder);
  }

  async line(lineId: string): Promise<OrderLineRecord | undefined> {
    const [row] = await this.db.select().from(t.orderLines).where(eq(t.orderLines.lineId, lineId));
    return row === undefined ? undefined : toLine(row);
  }

  async lines(filter: { readonly orderId?: string; readonly siteNumber?: string }): Promise<OrderLineRecord[]> {
    const l = t.orderLines;
    const conditions: SQL[] = [];
    if (filter.orderId !== undefined) conditions.push(eq(l.orderId, filter.orderId));
    if (filter.siteNumber !== undefined) conditions.push(eq(l.siteNumber, filter.siteNumber));
    return (
      await this.db
        .select({ line: l })
        .from(l)
        .innerJoin(t.orders, eq(l.orderId, t.orders.orderId))
        .where(and(...conditions))
        .orderBy(asc(t.orders.orderedAt), asc(t.orders.customerOrderNumber), asc(l.lineNo))
    ).map((r) => toLine(r.line));
  }

  async insertAllocation(allocation: AllocationRecord): Promise<void> {
    await this.db.insert(t.allocations).values(allocation).catch(conflictOr);
  }

  async allocationsOf(lineId: string): Promise<AllocationRecord[]> {
    return this.db.select().from(t.allocations).where(eq(t.allocations.lineId, lineId)).orderBy(asc(t.allocations.allocationNo));
  }

  async insertEntitlements(rows: readonly EntitlementRecord[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.insert(t.entitlements).values([...rows]).catch(conflictOr);
  }

  async entitlement(authCode: string): Promise<EntitlementRecord | undefined> {
    const [row] = await this.db.select().from(t.entitlements).where(eq(t.entitlements.authCode, authCode));
    return row === undefined ? undefined : toEntitlement(row);
  }

  async entitlements(filter: OwnedFilter): Promise<EntitlementRecord[]> {
    return (
      await this.db
        .select()
        .from(t.entitlements)
        .where(and(...ownedConditions(filter)))
        .orderBy(asc(t.entitlements.createdAt), asc(t.entitlements.rowid))
    ).map(toEntitlement);
  }

  async setActivationsMax(authCode: string, activationsMax: number): Promise<void> {
    await this.db.update(t.entitlements).set({ activationsMax }).where(eq(t.entitlements.authCode, authCode));
  }

  async lockEntitlement(authCode: string): Promise<void> {
    await this.db.select({ authCode: t.entitlements.authCode }).from(t.entitlements).where(eq(t.entitlements.authCode, authCode)).for('update');
  }

  async lockLine(lineId: string): Promise<void> {
    await this.db.select({ lineId: t.orderLines.lineId }).from(t.orderLines).where(eq(t.orderLines.lineId, lineId)).for('update');
  }

  async insertKey(key: LicenseKeyRecord): Promise<void> {
    await this.db
      .insert(t.licenseKeys)
      .values({ ...key, lockCodes: JSON.stringify(key.lockCodes) })
      .catch(conflictOr);
  }

  async key(licenseId: string): Promise<LicenseKeyRecord | undefined> {
    const [row] = await this.db.select().from(t.licenseKeys).where(eq(t.licenseKeys.licenseId, licenseId));
    return row === undefined ? undefined : toKey(row);
  }

  async keys(filter: OwnedFilter): Promise<LicenseKeyRecord[]> {
    const k = t.licenseKeys;
    const conditions = ownedConditions(filter);
    const codes = this.db.select({ authCode: t.entitlements.authCode }).from(t.entitlements).where(and(...conditions));
    return (
      await this.db
        .select()
        .from(k)
        .where(conditions.length === 0 ? undefined : inArray(k.authCode, codes))
        // Issue order: keys issued in the same millisecond keep the order they were activated in.
        .orderBy(asc(k.issuedAt), asc(k.rowid))
    ).map(toKey);
  }

  async successorOf(licenseId: string): Promise<LicenseKeyRecord | undefined> {
    const [row] = await this.db.select().from(t.licenseKeys).where(eq(t.licenseKeys.supersedes, licenseId));
    return row === undefined ? undefined : toKey(row);
  }

  async insertSession(session: SessionRecord): Promise<void> {
    await this.db.insert(t.sessions).values(session);
  }

  async session(idSha256: string): Promise<SessionRecord | undefined> {
    return (await this.db.select().from(t.sessions).where(eq(t.sessions.idSha256, idSha256)))[0];
  }

  async setSessionAccount(idSha256: string, siteNumber: string | null): Promise<void> {
    await this.db.update(t.sessions).set({ siteNumber }).where(eq(t.sessions.idSha256, idSha256));
  }

  async deleteSession(idSha256: string): Promise<void> {
    await this.db.delete(t.sessions).where(eq(t.sessions.idSha256, idSha256));
  }

  async deleteSessionsOf(userId: string, exceptIdSha256?: string): Promise<void> {
    const s = t.sessions;
    await this.db.delete(s).where(and(eq(s.userId, userId), exceptIdSha256 === undefined ? undefined : sql`${s.idSha256} <> ${exceptIdSha256}`));
  }

  async deleteExpiredSessions(nowMs: number): Promise<number> {
    return (await this.db.delete(t.sessions).where(lte(t.sessions.expiresAt, nowMs)).returning({ id: t.sessions.idSha256 })).length;
  }

  async insertUserToken(token: UserTokenRecord): Promise<void> {
    await this.db.insert(t.userTokens).values(token);
  }

  async userToken(tokenSha256: string): Promise<UserTokenRecord | undefined> {
    return (await this.db.select().from(t.userTokens).where(eq(t.userTokens.tokenSha256, tokenSha256)))[0];
  }

  async useUserToken(tokenSha256: string, purpose: UserTokenPurpose, nowMs: number): Promise<UserTokenRecord | undefined> {
    const u = t.userTokens;
    const [row] = await this.db
      .update(u)
      .set({ usedAt: nowMs })
      .where(and(eq(u.tokenSha256, tokenSha256), eq(u.purpose, purpose), isNull(u.usedAt), sql`${u.expiresAt} > ${nowMs}`))
      .returning();
    return row;
  }

  async insertJoinRequest(request: JoinRequestRecord): Promise<void> {
    await this.db.insert(t.joinRequests).values(request);
  }

  async joinRequest(requestId: string): Promise<JoinRequestRecord | undefined> {
    return (await this.db.select().from(t.joinRequests).where(eq(t.joinRequests.requestId, requestId)))[0];
  }

  async joinRequestsOf(siteNumber: string, status: JoinRequestStatus): Promise<JoinRequestRecord[]> {
    const j = t.joinRequests;
    return this.db
      .select()
      .from(j)
      .where(and(eq(j.siteNumber, siteNumber), eq(j.status, status)))
      .orderBy(asc(j.createdAt));
  }

  async decideJoinRequest(requestId: string, siteNumber: string, status: 'approved' | 'declined', by: string, atMs: number): Promise<boolean> {
    const j = t.joinRequests;
    const rows = await this.db
      .update(j)
      .set({ status, decidedAt: atMs, decidedBy: by })
      .where(and(eq(j.requestId, requestId), eq(j.siteNumber, siteNumber), eq(j.status, 'pending')))
      .returning({ requestId: j.requestId });
    return rows.length === 1;
  }

  async countHit(bucket: string, windowMs: number, nowMs: number): Promise<number> {
    const r = t.rateLimits;
    const windowStartMs = Math.floor(nowMs / windowMs) * windowMs;
    const [row] = await this.db
      .insert(r)
      .values({ bucket, windowStartMs, count: 1 })
      .onConflictDoUpdate({
        target: r.bucket,
        set: {
          count: sql`CASE WHEN ${r.windowStartMs} = excluded.window_start_ms THEN ${r.count} + 1 ELSE 1 END`,
          windowStartMs: sql`excluded.window_start_ms`,
        },
      })
      .returning({ count: r.count });
    return row!.count;
  }

  async deleteStaleRateLimits(beforeMs: number): Promise<number> {
    return (await this.db.delete(t.rateLimits).where(lt(t.rateLimits.windowStartMs, beforeMs)).returning({ bucket: t.rateLimits.bucket })).length;
  }

  async insertMail(mail: MailRecord): Promise<void> {
    await this.db.insert(t.mailOutbox).values({ ...mail, attachments: mail.attachments.length === 0 ? null : JSON.stringify(mail.attachments) });
  }

  async claimDueMail(nowMs: number, claimUntilMs: number, limit: number): Promise<MailRecord[]> {
    const m = t.mailOutbox;
    const free = and(eq(m.status, 'pending'), lte(m.nextAttemptAt, nowMs), or(isNull(m.claimedUntil), lt(m.claimedUntil, nowMs)));
    // SKIP LOCKED: a mail another instance is claiming right now is left to it, not waited for.
    const due = this.db.select({ mailId: m.mailId }).from(m).where(free).orderBy(asc(m.createdAt)).limit(limit).for('update', { skipLocked: true });
    return (await this.db.update(m).set({ claimedUntil: claimUntilMs }).where(and(inArray(m.mailId, due), free)).returning())
      .map(toMail)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  async markMailSent(mailId: string, atMs: number): Promise<void> {
    const m = t.mailOutbox;
    await this.db
      .update(m)
      .set({ status: 'sent', sentAt: atMs, claimedUntil: null, attempts: sql`${m.attempts} + 1` })
      .where(eq(m.mailId, mailId));
  }

  async markMailAttemptFailed(mailId: string, error: string, nextAttemptAt: number, failed: boolean): Promise<void> {
    const m = t.mailOutbox;
    await this.db
      .update(m)
      .set({ status: failed ? 'failed' : 'pending', lastError: error, nextAttemptAt, claimedUntil: null, attempts: sql`${m.attempts} + 1` })
      .where(eq(m.mailId, mailId));
  }

  async mails(limit: number): Promise<MailRecord[]> {
    return (await this.db.select().from(t.mailOutbox).orderBy(desc(t.mailOutbox.createdAt), desc(t.mailOutbox.rowid)).limit(limit)).map(toMail);
  }

  async insertAudit(entry: AuditRecord): Promise<void> {
    await this.db.insert(t.audit).values({ ...entry, detail: JSON.stringify(entry.detail) });
  }

  async audit(filter: { readonly siteNumber?: string | undefined; readonly limit: number }): Promise<AuditRecord[]> {
    const a = t.audit;
    return (
      await this.db
        .select()
        .from(a)
        .where(filter.siteNumber === undefined ? undefined : eq(a.siteNumber, filter.siteNumber))
        .orderBy(desc(a.auditId))
        .limit(filter.limit)
    ).map(({ auditId: _id, ...row }) => ({ ...row, detail: json<Record<string, unknown>>(row.detail, {}) }));
  }

  async insertStaff(staff: StaffRecord): Promise<void> {
    await this.db.insert(t.staff).values(staff).catch(conflictOr);
  }

  async staffByTokenSha256(tokenSha256: string): Promise<StaffRecord | undefined> {
    return (await this.db.select().from(t.staff).where(eq(t.staff.tokenSha256, tokenSha256)))[0];
  }

  async staffMembers(): Promise<StaffRecord[]> {
    return this.db.select().from(t.staff).orderBy(asc(t.staff.name));
  }
}
