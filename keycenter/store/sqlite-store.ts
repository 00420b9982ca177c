// The key center's store on SQLite (drizzle-orm over better-sqlite3): the
// embedded default, one file in the key-center directory. One connection per
// process; transactions are BEGIN IMMEDIATE (other processes on the same file,
// such as a CLI command beside a running portal, wait on SQLite's lock) and a
// SerialLock keeps this process's callers out of each other's transactions.
import { AsyncLocalStorage } from 'node:async_hooks';
import Database from 'better-sqlite3';
import { and, asc, desc, eq, inArray, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { fileURLToPath } from 'node:url';
import * as schema from '../schema.ts';
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

function json<T>(text: string | null, fallback: T): T {
  return text === null ? fallback : (JSON.parse(text) as T);
}

/** The SQLite implementation of KeyCenterStore. */
export class SqliteStore implements KeyCenterStore {
  private readonly lock = new SerialLock();
  private readonly queries: SqliteQueries;
  /** Set while a transaction or read runs: calling the store again from inside it would deadlock. */
  private readonly inside = new AsyncLocalStorage<true>();

  constructor(private readonly db: Db) {
    this.queries = new SqliteQueries(db);
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

const t = schema;

function toEntitlement(row: typeof t.entitlements.$inferSelect): EntitlementRecord {
  return row;
}

function toKey(row: typeof t.licenseKeys.$inferSelect): LicenseKeyRecord {
  return { ...row, lockCodes: json<string[]>(row.lockCodes, []) };
}

function toOrder(row: typeof t.orders.$inferSelect): OrderRecord {
  return { ...row, contacts: json<OrderContact[]>(row.contacts, []) };
}

function toLine(row: typeof t.orderLines.$inferSelect): OrderLineRecord {
  return { ...row, components: json<string[]>(row.components, []) };
}

function toMail(row: typeof t.mailOutbox.$inferSelect): MailRecord {
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

/** The queries, run on the store's one connection (inside the transaction SqliteStore opened). */
class SqliteQueries implements StoreQueries {
  constructor(private readonly db: Db) {}

  async settingOrInsert(name: string, valueIfAbsent: string): Promise<string> {
    this.db.insert(t.settings).values({ name, value: valueIfAbsent }).onConflictDoNothing().run();
    return this.db.select().from(t.settings).where(eq(t.settings.name, name)).get()!.value;
  }

  async insertAccount(account: AccountRecord): Promise<void> {
    try {
      this.db.insert(t.accounts).values(account).run();
    } catch (error) {
      conflictOr(error);
    }
  }

  async account(siteNumber: string): Promise<AccountRecord | undefined> {
    return this.db.select().from(t.accounts).where(eq(t.accounts.siteNumber, siteNumber)).get();
  }

  async accounts(): Promise<AccountRecord[]> {
    return this.db.select().from(t.accounts).orderBy(asc(t.accounts.siteNumber)).all();
  }

  async insertUser(user: UserRecord): Promise<void> {
    try {
      this.db.insert(t.users).values(user).run();
    } catch (error) {
      conflictOr(error);
    }
  }

  async user(userId: string): Promise<UserRecord | undefined> {
    return this.db.select().from(t.users).where(eq(t.users.userId, userId)).get();
  }

  async userByEmail(email: string): Promise<UserRecord | undefined> {
    return this.db.select().from(t.users).where(eq(t.users.email, email)).get();
  }

  async setPasswordHash(userId: string, passwordHash: string, atMs: number): Promise<void> {
    this.db.update(t.users).set({ passwordHash, passwordChangedAt: atMs }).where(eq(t.users.userId, userId)).run();
  }

  async insertMember(member: MemberRecord): Promise<boolean> {
    return this.db.insert(t.members).values(member).onConflictDoNothing().run().changes === 1;
  }

  async deleteMember(siteNumber: string, userId: string): Promise<boolean> {
    return this.db.delete(t.members).where(and(eq(t.members.siteNumber, siteNumber), eq(t.members.userId, userId))).run().changes === 1;
  }

  async member(siteNumber: string, userId: string): Promise<MemberRecord | undefined> {
    return this.db
      .select()
      .from(t.members)
      .where(and(eq(t.members.siteNumber, siteNumber), eq(t.members.userId, userId)))
      .get();
  }

  async membersOf(siteNumber: string): Promise<MemberWithUser[]> {
    return this.db
      .select()
      .from(t.members)
      .innerJoin(t.users, eq(t.members.userId, t.users.userId))
      .where(eq(t.members.siteNumber, siteNumber))
      .orderBy(asc(t.users.email))
      .all()
      .map(({ members: m, users: u }) => ({ ...m, email: u.email, name: u.name }));
  }

  async membershipsOf(userId: string): Promise<MembershipWithAccount[]> {
    return this.db
      .select()
      .from(t.members)
      .innerJoin(t.accounts, eq(t.members.siteNumber, t.accounts.siteNumber))
      .where(eq(t.members.userId, userId))
      .orderBy(asc(t.accounts.companyName), asc(t.accounts.siteNumber))
      .all()
      .map(({ members: m, accounts: a }) => ({ ...m, companyName: a.companyName }));
  }

  async insertOrder(order: OrderRecord, lines: readonly OrderLineRecord[]): Promise<void> {
    try {
      this.db
        .insert(t.orders)
        .values({ ...order, contacts: JSON.stringify(order.contacts) })
        .run();
      if (lines.length > 0) {
        this.db
          .insert(t.orderLines)
          .values(lines.map((l) => ({ ...l, components: JSON.stringify(l.components) })))
          .run();
      }
    } catch (error) {
      conflictOr(error);
    }
  }

  async order(orderId: string): Promise<OrderRecord | undefined> {
    const row = this.db.select().from(t.orders).where(eq(t.orders.orderId, orderId)).get();
    return row === undefined ? undefined : toOrder(row);
  }

  async ordersOf(siteNumber: string): Promise<OrderRecord[]> {
    return this.db
      .select()
      .from(t.orders)
      .where(eq(t.orders.siteNumber, siteNumber))
      .orderBy(desc(t.orders.orderedAt), desc(t.orders.customerOrderNumber))
      .all()
      .map(toOrder);
  }

  async line(lineId: string): Promise<OrderLineRecord | undefined> {
    const row = this.db.select().from(t.orderLines).where(eq(t.orderLines.lineId, lineId)).get();
    return row === undefined ? undefined : toLine(row);
  }

  async lines(filter: { readonly orderId?: string; readonly siteNumber?: string }): Promise<OrderLineRecord[]> {
    const l = t.orderLines;
    const conditions: SQL[] = [];
    if (filter.orderId !== undefined) conditions.push(eq(l.orderId, filter.orderId));
    if (filter.siteNumber !== undefined) conditions.push(eq(l.siteNumber, filter.siteNumber));
    return this.db
      .select({ line: l })
      .from(l)
      .innerJoin(t.orders, eq(l.orderId, t.orders.orderId))
      .where(and(...conditions))
      .orderBy(asc(t.orders.orderedAt), asc(t.orders.customerOrderNumber), asc(l.lineNo))
      .all()
      .map((r) => toLine(r.line));
  }

  async insertAllocation(allocation: AllocationRecord): Promise<void> {
    try {
      this.db.insert(t.allocations).values(allocation).run();
    } catch (error) {
      conflictOr(error);
    }
  }

  async allocationsOf(lineId: string): Promise<AllocationRecord[]> {
    return this.db.select().from(t.allocations).where(eq(t.allocations.lineId, lineId)).orderBy(asc(t.allocations.allocationNo)).all();
  }

  async insertEntitlements(rows: readonly EntitlementRecord[]): Promise<void> {
    if (rows.length === 0) return;
    try {
      this.db.insert(t.entitlements).values([...rows]).run();
    } catch (error) {
      conflictOr(error);
    }
  }

  async entitlement(authCode: string): Promise<EntitlementRecord | undefined> {
    const row = this.db.select().from(t.entitlements).where(eq(t.entitlements.authCode, authCode)).get();
    return row === undefined ? undefined : toEntitlement(row);
  }

  async entitlements(filter: OwnedFilter): Promise<EntitlementRecord[]> {
    return this.db
      .select()
      .from(t.entitlements)
      .where(and(...ownedConditions(filter)))
      .orderBy(asc(t.entitlements.createdAt), sql`"entitlements"."rowid"`)
      .all()
      .map(toEntitlement);
  }

  async setActivationsMax(authCode: string, activationsMax: number): Promise<void> {
    this.db.update(t.entitlements).set({ activationsMax }).where(eq(t.entitlements.authCode, authCode)).run();
  }

  async lockEntitlement(_authCode: string): Promise<void> {
    // Nothing to do: a write transaction (BEGIN IMMEDIATE) already runs alone.
  }

  async lockLine(_lineId: string): Promise<void> {
    // As lockEntitlement.
  }

  async insertKey(key: LicenseKeyRecord): Promise<void> {
    try {
      this.db
        .insert(t.licenseKeys)
        .values({ ...key, lockCodes: JSON.stringify(key.lockCodes) })
        .run();
    } catch (error) {
      conflictOr(error);
    }
  }

  async key(licenseId: string): Promise<LicenseKeyRecord | undefined> {
    const row = this.db.select().from(t.licenseKeys).where(eq(t.licenseKeys.licenseId, licenseId)).get();
    return row === undefined ? undefined : toKey(row);
  }

  async keys(filter: OwnedFilter): Promise<LicenseKeyRecord[]> {
    const k = t.licenseKeys;
    const conditions = ownedConditions(filter);
    const codes = this.db.select({ authCode: t.entitlements.authCode }).from(t.entitlements).where(and(...conditions));
    return this.db
      .select()
      .from(k)
      .where(conditions.length === 0 ? undefined : inArray(k.authCode, codes))
      // Issue order: keys issued in the same millisecond keep the order they were activated in.
      .orderBy(asc(k.issuedAt), sql`"license_keys"."rowid"`)
      .all()
      .map(toKey);
  }

  async successorOf(licenseId: string): Promise<LicenseKeyRecord | undefined> {
    const row = this.db.select().from(t.licenseKeys).where(eq(t.licenseKeys.supersedes, licenseId)).get();
    return row === undefined ? undefined : toKey(row);
  }

  async insertSession(session: SessionRecord): Promise<void> {
    this.db.insert(t.sessions).values(session).run();
  }

  async session(idSha256: string): Promise<SessionRecord | undefined> {
    return this.db.select().from(t.sessions).where(eq(t.sessions.idSha256, idSha256)).get();
  }

  async setSessionAccount(idSha256: string, siteNumber: string | null): Promise<void> {
    this.db.update(t.sessions).set({ siteNumber }).where(eq(t.sessions.idSha256, idSha256)).run();
  }

  async deleteSession(idSha256: string): Promise<void> {
    this.db.delete(t.sessions).where(eq(t.sessions.idSha256, idSha256)).run();
  }

  async deleteSessionsOf(userId: string, exceptIdSha256?: string): Promise<void> {
    const s = t.sessions;
    this.db
      .delete(s)
      .where(and(eq(s.userId, userId), exceptIdSha256 === undefined ? undefined : sql`${s.idSha256} <> ${exceptIdSha256}`))
      .run();
  }

  async deleteExpiredSessions(nowMs: number): Promise<number> {
    return this.db.delete(t.sessions).where(lte(t.sessions.expiresAt, nowMs)).run().changes;
  }

  async insertUserToken(token: UserTokenRecord): Promise<void> {
    this.db.insert(t.userTokens).values(token).run();
  }

  async userToken(tokenSha256: string): Promise<UserTokenRecord | undefined> {
    return this.db.select().from(t.userTokens).where(eq(t.userTokens.tokenSha256, tokenSha256)).get();
  }

  async useUserToken(tokenSha256: string, purpose: UserTokenPurpose, nowMs: number): Promise<UserTokenRecord | undefined> {
    const u = t.userTokens;
    return this.db
      .update(u)
      .set({ usedAt: nowMs })
      .where(and(eq(u.tokenSha256, tokenSha256), eq(u.purpose, purpose), isNull(u.usedAt), sql`${u.expiresAt} > ${nowMs}`))
      .returning()
      .get();
  }

  async insertJoinRequest(request: JoinRequestRecord): Promise<void> {
    this.db.insert(t.joinRequests).values(request).run();
  }

  async joinRequest(requestId: string): Promise<JoinRequestRecord | undefined> {
    return this.db.select().from(t.joinRequests).where(eq(t.joinRequests.requestId, requestId)).get();
  }

  async joinRequestsOf(siteNumber: string, status: JoinRequestStatus): Promise<JoinRequestRecord[]> {
    const j = t.joinRequests;
    return this.db
      .select()
      .from(j)
      .where(and(eq(j.siteNumber, siteNumber), eq(j.status, status)))
      .orderBy(asc(j.createdAt))
      .all();
  }

  async decideJoinRequest(requestId: string, siteNumber: string, status: 'approved' | 'declined', by: string, atMs: number): Promise<boolean> {
    const j = t.joinRequests;
    return (
      this.db
        .update(j)
        .set({ status, decidedAt: atMs, decidedBy: by })
        .where(and(eq(j.requestId, requestId), eq(j.siteNumber, siteNumber), eq(j.status, 'pending')))
        .run().changes === 1
    );
  }

  async countHit(bucket: string, windowMs: number, nowMs: number): Promise<number> {
    const r = t.rateLimits;
    const windowStartMs = Math.floor(nowMs / windowMs) * windowMs;
    const row = this.db
      .insert(r)
      .values({ bucket, windowStartMs, count: 1 })
      .onConflictDoUpdate({
        target: r.bucket,
        set: {
          count: sql`CASE WHEN ${r.windowStartMs} = excluded.window_start_ms THEN ${r.count} + 1 ELSE 1 END`,
          windowStartMs: sql`excluded.window_start_ms`,
        },
      })
      .returning({ count: r.count })
      .get();
    return row!.count;
  }

  async deleteStaleRateLimits(beforeMs: number): Promise<number> {
    return this.db.delete(t.rateLimits).where(lt(t.rateLimits.windowStartMs, beforeMs)).run().changes;
  }

  async insertMail(mail: MailRecord): Promise<void> {
    this.db
      .insert(t.mailOutbox)
      .values({ ...mail, attachments: mail.attachments.length === 0 ? null : JSON.stringify(mail.attachments) })
      .run();
  }

  async claimDueMail(nowMs: number, claimUntilMs: number, limit: number): Promise<MailRecord[]> {
    const m = t.mailOutbox;
    const free = and(eq(m.status, 'pending'), lte(m.nextAttemptAt, nowMs), or(isNull(m.claimedUntil), lt(m.claimedUntil, nowMs)));
    const due = this.db.select({ mailId: m.mailId }).from(m).where(free).orderBy(asc(m.createdAt)).limit(limit);
    return this.db
      .update(m)
      .set({ claimedUntil: claimUntilMs })
      .where(and(inArray(m.mailId, due), free))
      .returning()
      .all()
      .map(toMail)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  async markMailSent(mailId: string, atMs: number): Promise<void> {
    const m = t.mailOutbox;
    this.db
      .update(m)
      .set({ status: 'sent', sentAt: atMs, claimedUntil: null, attempts: sql`${m.attempts} + 1` })
      .where(eq(m.mailId, mailId))
      .run();
  }

  async markMailAttemptFailed(mailId: string, error: string, nextAttemptAt: number, failed: boolean): Promise<void> {
    const m = t.mailOutbox;
    this.db
      .update(m)
      .set({ status: failed ? 'failed' : 'pending', lastError: error, nextAttemptAt, claimedUntil: null, attempts: sql`${m.attempts} + 1` })
      .where(eq(m.mailId, mailId))
      .run();
  }

  async mails(limit: number): Promise<MailRecord[]> {
    return this.db.select().from(t.mailOutbox).orderBy(desc(t.mailOutbox.createdAt), sql`"mail_outbox"."rowid" DESC`).limit(limit).all().map(toMail);
  }

  async insertAudit(entry: AuditRecord): Promise<void> {
    this.db
      .insert(t.audit)
      .values({ ...entry, detail: JSON.stringify(entry.detail) })
      .run();
  }

  async audit(filter: { readonly siteNumber?: string | undefined; readonly limit: number }): Promise<AuditRecord[]> {
    const a = t.audit;
    return this.db
      .select()
      .from(a)
      .where(filter.siteNumber === undefined ? undefined : eq(a.siteNumber, filter.siteNumber))
      .orderBy(desc(a.auditId))
      .limit(filter.limit)
      .all()
      .map(({ auditId: _id, ...row }) => ({ ...row, detail: json<Record<string, unknown>>(row.detail, {}) }));
  }

  async insertStaff(staff: StaffRecord): Promise<void> {
    try {
      this.db.insert(t.staff).values(staff).run();
    } catch (error) {
      conflictOr(error);
    }
  }

  async staffByTokenSha256(tokenSha256: string): Promise<StaffRecord | undefined> {
    return this.db.select().from(t.staff).where(eq(t.staff.tokenSha256, tokenSha256)).get();
  }

  async staffMembers(): Promise<StaffRecord[]> {
    return this.db.select().from(t.staff).orderBy(asc(t.staff.name)).all();
  }
}
