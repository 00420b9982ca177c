// The key center's queries, once for both stores: every StoreQueries method
// as drizzle-orm query builders, over a small per-database StoreDialect (its
// tables, how a unique violation is recognised, the insertion-order
// tie-break, row locks). SQLite (sqlite-store.ts) and PostgreSQL
// (postgres-store.ts) keep only what truly differs — opening, transactions,
// migrations — so a rule (an ordering, a conditional update) has one home.
//
// The builders are typed as SQLite's: drizzle has no type common to its
// dialects, and the calls used here (select/insert/update/delete, where,
// orderBy, limit, returning, onConflictDo…, awaited) behave the same on
// node-postgres. The PostgreSQL store passes its transaction and tables
// through `as unknown as` once (postgres-store.ts); the store contract
// (store-contract.test-support.ts) runs every method on both.
import { and, asc, desc, eq, inArray, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type * as schema from '../schema.ts';
import type {
  AccountRecord,
  AllocationRecord,
  AuditRecord,
  EntitlementRecord,
  JoinRequestRecord,
  JoinRequestStatus,
  LicenseKeyRecord,
  MailAttachment,
  MailRecord,
  MemberRecord,
  MemberWithUser,
  MembershipWithAccount,
  OrderContact,
  OrderLineRecord,
  OrderRecord,
  OwnedFilter,
  SessionRecord,
  StaffRecord,
  StoreQueries,
  UserRecord,
  UserTokenPurpose,
  UserTokenRecord,
} from './key-center-store.ts';

/** The key center's tables, as the queries name them. */
export type SharedTables = typeof schema;
/** What the queries run on: the database, or the transaction a store opened. */
export type SharedDb = Pick<BetterSQLite3Database<typeof schema>, 'select' | 'insert' | 'update' | 'delete'>;
/** Tables read in insertion order on ties of equal timestamps. */
export type InsertionOrderedTable = SharedTables['entitlements'] | SharedTables['licenseKeys'] | SharedTables['mailOutbox'];

/** What differs between the databases, for the shared queries. */
export interface StoreDialect {
  readonly tables: SharedTables;
  /** Turns the database's unique violation (and retryable conflicts) into StoreConflictError; rethrows anything else. */
  conflictOr(error: unknown): never;
  /** The tie-break after equal timestamps: insertion order (SQLite's implicit rowid, PostgreSQL's identity column). */
  insertionOrder(table: InsertionOrderedTable, direction: 'asc' | 'desc'): SQL;
  /**
   * `select`, locking the rows it reads until the transaction ends (another
   * writer's lock waits, or with `skipLocked` leaves those rows out); as is
   * where a write transaction already runs alone (SQLite).
   */
  forUpdate<Q>(select: Q, options: { readonly skipLocked: boolean }): Q;
}

function json<T>(text: string | null, fallback: T): T {
  return text === null ? fallback : (JSON.parse(text) as T);
}

/** `row` without PostgreSQL's `rowid` column (SQLite's rowid is implicit and never selected). */
function withoutRowid<R extends object>(row: R): R {
  const { rowid: _rowid, ...rest } = row as R & { rowid?: unknown };
  return rest as R;
}

function toEntitlement(row: SharedTables['entitlements']['$inferSelect']): EntitlementRecord {
  return withoutRowid(row);
}

function toKey(row: SharedTables['licenseKeys']['$inferSelect']): LicenseKeyRecord {
  return { ...withoutRowid(row), lockCodes: json<string[]>(row.lockCodes, []) };
}

function toOrder(row: SharedTables['orders']['$inferSelect']): OrderRecord {
  return { ...row, contacts: json<OrderContact[]>(row.contacts, []) };
}

function toLine(row: SharedTables['orderLines']['$inferSelect']): OrderLineRecord {
  return { ...row, components: json<string[]>(row.components, []) };
}

function toMail(row: SharedTables['mailOutbox']['$inferSelect']): MailRecord {
  return { ...withoutRowid(row), attachments: json<MailAttachment[]>(row.attachments, []) };
}

function ownedConditions(t: SharedTables, filter: OwnedFilter): SQL[] {
  const e = t.entitlements;
  const conditions: SQL[] = [];
  if (filter.siteNumber !== undefined) conditions.push(eq(e.siteNumber, filter.siteNumber));
  if (filter.orderId !== undefined) conditions.push(eq(e.orderId, filter.orderId));
  if (filter.lineId !== undefined) conditions.push(eq(e.lineId, filter.lineId));
  if (filter.authCode !== undefined) conditions.push(eq(e.authCode, filter.authCode));
  return conditions;
}

/** The queries of one transaction (or read), on either database. */
export class DrizzleQueries implements StoreQueries {
  private readonly t: SharedTables;

  constructor(
    private readonly db: SharedDb,
    private readonly dialect: StoreDialect,
  ) {
    this.t = dialect.tables;
  }

  async settingOrInsert(name: string, valueIfAbsent: string): Promise<string> {
    await this.db.insert(this.t.settings).values({ name, value: valueIfAbsent }).onConflictDoNothing();
    const [row] = await this.db.select().from(this.t.settings).where(eq(this.t.settings.name, name));
    return row!.value;
  }

  async insertAccount(account: AccountRecord): Promise<void> {
    await this.db.insert(this.t.accounts).values(account).catch(this.dialect.conflictOr);
  }

  async account(siteNumber: string): Promise<AccountRecord | undefined> {
    return (await this.db.select().from(this.t.accounts).where(eq(this.t.accounts.siteNumber, siteNumber)))[0];
  }

  async accounts(): Promise<AccountRecord[]> {
    return this.db.select().from(this.t.accounts).orderBy(asc(this.t.accounts.siteNumber));
  }

  async insertUser(user: UserRecord): Promise<void> {
    await this.db.insert(this.t.users).values(user).catch(this.dialect.conflictOr);
  }

  async user(userId: string): Promise<UserRecord | undefined> {
    return (await this.db.select().from(this.t.users).where(eq(this.t.users.userId, userId)))[0];
  }

  async userByEmail(email: string): Promise<UserRecord | undefined> {
    return (await this.db.select().from(this.t.users).where(eq(this.t.users.email, email)))[0];
  }

  async setPasswordHash(userId: string, passwordHash: string, atMs: number): Promise<void> {
    await this.db.update(this.t.users).set({ passwordHash, passwordChangedAt: atMs }).where(eq(this.t.users.userId, userId));
  }

  async insertMember(member: MemberRecord): Promise<boolean> {
    const rows = await this.db.insert(this.t.members).values(member).onConflictDoNothing().returning({ userId: this.t.members.userId });
    return rows.length === 1;
  }

  async deleteMember(siteNumber: string, userId: string): Promise<boolean> {
    const rows = await this.db
      .delete(this.t.members)
      .where(and(eq(this.t.members.siteNumber, siteNumber), eq(this.t.members.userId, userId)))
      .returning({ userId: this.t.members.userId });
    return rows.length === 1;
  }

  async member(siteNumber: string, userId: string): Promise<MemberRecord | undefined> {
    return (
      await this.db
        .select()
        .from(this.t.members)
        .where(and(eq(this.t.members.siteNumber, siteNumber), eq(this.t.members.userId, userId)))
    )[0];
  }

  async membersOf(siteNumber: string): Promise<MemberWithUser[]> {
    return (
      await this.db
        .select()
        .from(this.t.members)
        .innerJoin(this.t.users, eq(this.t.members.userId, this.t.users.userId))
        .where(eq(this.t.members.siteNumber, siteNumber))
        .orderBy(asc(this.t.users.email))
    ).map(({ members: m, users: u }) => ({ ...m, email: u.email, name: u.name }));
  }

  async membershipsOf(userId: string): Promise<MembershipWithAccount[]> {
    return (
      await this.db
        .select()
        .from(this.t.members)
        .innerJoin(this.t.accounts, eq(this.t.members.siteNumber, this.t.accounts.siteNumber))
        .where(eq(this.t.members.userId, userId))
        .orderBy(asc(this.t.accounts.companyName), asc(this.t.accounts.siteNumber))
    ).map(({ members: m, accounts: a }) => ({ ...m, companyName: a.companyName }));
  }

  async insertOrder(order: OrderRecord, lines: readonly OrderLineRecord[]): Promise<void> {
    try {
      await this.db.insert(this.t.orders).values({ ...order, contacts: JSON.stringify(order.contacts) });
      if (lines.length > 0) {
        await this.db.insert(this.t.orderLines).values(lines.map((l) => ({ ...l, components: JSON.stringify(l.components) })));
      }
    } catch (error) {
      this.dialect.conflictOr(error);
    }
  }

  async order(orderId: string): Promise<OrderRecord | undefined> {
    const [row] = await this.db.select().from(this.t.orders).where(eq(this.t.orders.orderId, orderId));
    return row === undefined ? undefined : toOrder(row);
  }

  async ordersOf(siteNumber: string): Promise<OrderRecord[]> {
    return (
      await this.db
        .select()
        .from(this.t.orders)
        .where(eq(this.t.orders.siteNumber, siteNumber))
        .orderBy(desc(this.t.orders.orderedAt), desc(this.t.orders.customerOrderNumber))
    ).map(toOrder);
  }

  async line(lineId: string): Promise<OrderLineRecord | undefined> {
    const [row] = await this.db.select().from(this.t.orderLines).where(eq(this.t.orderLines.lineId, lineId));
    return row === undefined ? undefined : toLine(row);
  }

  async lines(filter: { readonly orderId?: string; readonly siteNumber?: string }): Promise<OrderLineRecord[]> {
    const l = this.t.orderLines;
    const conditions: SQL[] = [];
    if (filter.orderId !== undefined) conditions.push(eq(l.orderId, filter.orderId));
    if (filter.siteNumber !== undefined) conditions.push(eq(l.siteNumber, filter.siteNumber));
    return (
      await this.db
        .select({ line: l })
        .from(l)
        .innerJoin(this.t.orders, eq(l.orderId, this.t.orders.orderId))
        .where(and(...conditions))
        .orderBy(asc(this.t.orders.orderedAt), asc(this.t.orders.customerOrderNumber), asc(l.lineNo))
    ).map((r) => toLine(r.line));
  }

  async insertAllocation(allocation: AllocationRecord): Promise<void> {
    await this.db.insert(this.t.allocations).values(allocation).catch(this.dialect.conflictOr);
  }

  async allocationsOf(lineId: string): Promise<AllocationRecord[]> {
    return this.db.select().from(this.t.allocations).where(eq(this.t.allocations.lineId, lineId)).orderBy(asc(this.t.allocations.allocationNo));
  }

  async insertEntitlements(rows: readonly EntitlementRecord[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.insert(this.t.entitlements).values([...rows]).catch(this.dialect.conflictOr);
  }

  async entitlement(authCode: string): Promise<EntitlementRecord | undefined> {
    const [row] = await this.db.select().from(this.t.entitlements).where(eq(this.t.entitlements.authCode, authCode));
    return row === undefined ? undefined : toEntitlement(row);
  }

  async entitlements(filter: OwnedFilter): Promise<EntitlementRecord[]> {
    return (
      await this.db
        .select()
        .from(this.t.entitlements)
        .where(and(...ownedConditions(this.t, filter)))
        .orderBy(asc(this.t.entitlements.createdAt), this.dialect.insertionOrder(this.t.entitlements, 'asc'))
    ).map(toEntitlement);
  }

  async setActivationsMax(authCode: string, activationsMax: number): Promise<void> {
    await this.db.update(this.t.entitlements).set({ activationsMax }).where(eq(this.t.entitlements.authCode, authCode));
  }

  async lockEntitlement(authCode: string): Promise<void> {
    const e = this.t.entitlements;
    await this.dialect.forUpdate(this.db.select({ authCode: e.authCode }).from(e).where(eq(e.authCode, authCode)), { skipLocked: false });
  }

  async lockLine(lineId: string): Promise<void> {
    const l = this.t.orderLines;
    await this.dialect.forUpdate(this.db.select({ lineId: l.lineId }).from(l).where(eq(l.lineId, lineId)), { skipLocked: false });
  }

  async insertKey(key: LicenseKeyRecord): Promise<void> {
    await this.db
      .insert(this.t.licenseKeys)
      .values({ ...key, lockCodes: JSON.stringify(key.lockCodes) })
      .catch(this.dialect.conflictOr);
  }

  async key(licenseId: string): Promise<LicenseKeyRecord | undefined> {
    const [row] = await this.db.select().from(this.t.licenseKeys).where(eq(this.t.licenseKeys.licenseId, licenseId));
    return row === undefined ? undefined : toKey(row);
  }

  async keys(filter: OwnedFilter): Promise<LicenseKeyRecord[]> {
    const k = this.t.licenseKeys;
    const conditions = ownedConditions(this.t, filter);
    const codes = this.db.select({ authCode: this.t.entitlements.authCode }).from(this.t.entitlements).where(and(...conditions));
    return (
      await this.db
        .select()
        .from(k)
        .where(conditions.length === 0 ? undefined : inArray(k.authCode, codes))
        // Issue order: keys issued in the same millisecond keep the order they were activated in.
        .orderBy(asc(k.issuedAt), this.dialect.insertionOrder(k, 'asc'))
    ).map(toKey);
  }

  async successorOf(licenseId: string): Promise<LicenseKeyRecord | undefined> {
    const [row] = await this.db.select().from(this.t.licenseKeys).where(eq(this.t.licenseKeys.supersedes, licenseId));
    return row === undefined ? undefined : toKey(row);
  }

  async insertSession(session: SessionRecord): Promise<void> {
    await this.db.insert(this.t.sessions).values(session);
  }

  async session(idSha256: string): Promise<SessionRecord | undefined> {
    return (await this.db.select().from(this.t.sessions).where(eq(this.t.sessions.idSha256, idSha256)))[0];
  }

  async setSessionAccount(idSha256: string, siteNumber: string | null): Promise<void> {
    await this.db.update(this.t.sessions).set({ siteNumber }).where(eq(this.t.sessions.idSha256, idSha256));
  }

  async deleteSession(idSha256: string): Promise<void> {
    await this.db.delete(this.t.sessions).where(eq(this.t.sessions.idSha256, idSha256));
  }

  async deleteSessionsOf(userId: string, exceptIdSha256?: string): Promise<void> {
    const s = this.t.sessions;
    await this.db.delete(s).where(and(eq(s.userId, userId), exceptIdSha256 === undefined ? undefined : sql`${s.idSha256} <> ${exceptIdSha256}`));
  }

  async deleteExpiredSessions(nowMs: number): Promise<number> {
    return (await this.db.delete(this.t.sessions).where(lte(this.t.sessions.expiresAt, nowMs)).returning({ id: this.t.sessions.idSha256 })).length;
  }

  async insertUserToken(token: UserTokenRecord): Promise<void> {
    await this.db.insert(this.t.userTokens).values(token);
  }

  async userToken(tokenSha256: string): Promise<UserTokenRecord | undefined> {
    return (await this.db.select().from(this.t.userTokens).where(eq(this.t.userTokens.tokenSha256, tokenSha256)))[0];
  }

  async useUserToken(tokenSha256: string, purpose: UserTokenPurpose, nowMs: number): Promise<UserTokenRecord | undefined> {
    const u = this.t.userTokens;
    const [row] = await this.db
      .update(u)
      .set({ usedAt: nowMs })
      .where(and(eq(u.tokenSha256, tokenSha256), eq(u.purpose, purpose), isNull(u.usedAt), sql`${u.expiresAt} > ${nowMs}`))
      .returning();
    return row;
  }

  async insertJoinRequest(request: JoinRequestRecord): Promise<void> {
    await this.db.insert(this.t.joinRequests).values(request);
  }

  async joinRequest(requestId: string): Promise<JoinRequestRecord | undefined> {
    return (await this.db.select().from(this.t.joinRequests).where(eq(this.t.joinRequests.requestId, requestId)))[0];
  }

  async joinRequestsOf(siteNumber: string, status: JoinRequestStatus): Promise<JoinRequestRecord[]> {
    const j = this.t.joinRequests;
    return this.db
      .select()
      .from(j)
      .where(and(eq(j.siteNumber, siteNumber), eq(j.status, status)))
      .orderBy(asc(j.createdAt));
  }

  async decideJoinRequest(requestId: string, siteNumber: string, status: 'approved' | 'declined', by: string, atMs: number): Promise<boolean> {
    const j = this.t.joinRequests;
    const rows = await this.db
      .update(j)
      .set({ status, decidedAt: atMs, decidedBy: by })
      .where(and(eq(j.requestId, requestId), eq(j.siteNumber, siteNumber), eq(j.status, 'pending')))
      .returning({ requestId: j.requestId });
    return rows.length === 1;
  }

  async countHit(bucket: string, windowMs: number, nowMs: number): Promise<number> {
    const r = this.t.rateLimits;
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
    return (await this.db.delete(this.t.rateLimits).where(lt(this.t.rateLimits.windowStartMs, beforeMs)).returning({ bucket: this.t.rateLimits.bucket })).length;
  }

  async insertMail(mail: MailRecord): Promise<void> {
    await this.db.insert(this.t.mailOutbox).values({ ...mail, attachments: mail.attachments.length === 0 ? null : JSON.stringify(mail.attachments) });
  }

  async claimDueMail(nowMs: number, claimUntilMs: number, limit: number): Promise<MailRecord[]> {
    const m = this.t.mailOutbox;
    const free = and(eq(m.status, 'pending'), lte(m.nextAttemptAt, nowMs), or(isNull(m.claimedUntil), lt(m.claimedUntil, nowMs)));
    // A mail another instance is claiming right now is left to it, not waited for (PostgreSQL: SKIP LOCKED).
    const due = this.dialect.forUpdate(this.db.select({ mailId: m.mailId }).from(m).where(free).orderBy(asc(m.createdAt)).limit(limit), { skipLocked: true });
    return (await this.db.update(m).set({ claimedUntil: claimUntilMs }).where(and(inArray(m.mailId, due), free)).returning())
      .map(toMail)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  async markMailSent(mailId: string, atMs: number): Promise<void> {
    const m = this.t.mailOutbox;
    await this.db
      .update(m)
      .set({ status: 'sent', sentAt: atMs, claimedUntil: null, attempts: sql`${m.attempts} + 1` })
      .where(eq(m.mailId, mailId));
  }

  async markMailAttemptFailed(mailId: string, error: string, nextAttemptAt: number, failed: boolean): Promise<void> {
    const m = this.t.mailOutbox;
    await this.db
      .update(m)
      .set({ status: failed ? 'failed' : 'pending', lastError: error, nextAttemptAt, claimedUntil: null, attempts: sql`${m.attempts} + 1` })
      .where(eq(m.mailId, mailId));
  }

  async mails(limit: number): Promise<MailRecord[]> {
    return (await this.db.select().from(this.t.mailOutbox).orderBy(desc(this.t.mailOutbox.createdAt), this.dialect.insertionOrder(this.t.mailOutbox, 'desc')).limit(limit)).map(toMail);
  }

  async insertAudit(entry: AuditRecord): Promise<void> {
    await this.db.insert(this.t.audit).values({ ...entry, detail: JSON.stringify(entry.detail) });
  }

  async audit(filter: { readonly siteNumber?: string | undefined; readonly limit: number }): Promise<AuditRecord[]> {
    const a = this.t.audit;
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
    await this.db.insert(this.t.staff).values(staff).catch(this.dialect.conflictOr);
  }

  async staffByTokenSha256(tokenSha256: string): Promise<StaffRecord | undefined> {
    return (await this.db.select().from(this.t.staff).where(eq(this.t.staff.tokenSha256, tokenSha256)))[0];
  }

  async staffMembers(): Promise<StaffRecord[]> {
    return this.db.select().from(this.t.staff).orderBy(asc(this.t.staff.name));
  }
}
