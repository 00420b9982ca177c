// What the key center's rules need from a database, and nothing of how one
// dialect provides it. The service layer (keycenter/*.ts) holds every rule and
// talks only to this interface; store/sqlite-store.ts implements it over
// better-sqlite3, store/postgres-store.ts over node-postgres (for several
// instances sharing one database), neither touching a rule. store/store-contract.test-support.ts is the suite every
// implementation must pass.
//
// Atomicity: a rule that reads then writes runs inside transaction(). Every
// such rule is also guarded by a unique constraint (see schema.ts), so under
// an isolation level that lets two writers read the same state, the second
// insert fails with StoreConflictError and the service retries the whole rule
// (atomically(), keycenter/atomically.ts), which then answers the right code.
// Where many writers contend for one row (activations of one code, codes of
// one order line), the rule first takes that row's lock (lockEntitlement,
// lockLine), so they queue instead of retrying.
import type { LicenseModel } from '../../protocol/index.ts';

export type MemberRole = 'admin' | 'member';

export interface AccountRecord {
  readonly siteNumber: string;
  readonly companyName: string;
  /** ms since the Unix epoch. */
  readonly createdAt: number;
}

export interface UserRecord {
  readonly userId: string;
  /** Lower-cased. */
  readonly email: string;
  readonly name: string;
  /** "scrypt$…"; null until a password is set. */
  readonly passwordHash: string | null;
  readonly createdAt: number;
  readonly passwordChangedAt: number | null;
}

export interface MemberRecord {
  readonly siteNumber: string;
  readonly userId: string;
  readonly role: MemberRole;
  readonly addedAt: number;
  /** Who added them: "order", "vendor:NAME", "user:EMAIL", "join". */
  readonly addedBy: string;
}

/** A member with their user's e-mail and name. */
export interface MemberWithUser extends MemberRecord {
  readonly email: string;
  readonly name: string;
}

/** A membership with its account's company name. */
export interface MembershipWithAccount extends MemberRecord {
  readonly companyName: string;
}

export interface OrderContact {
  readonly email: string;
  readonly name: string;
  /** "primary" (site's primary contact) or "technical". */
  readonly role: 'primary' | 'technical';
}

export interface OrderRecord {
  readonly orderId: string;
  readonly siteNumber: string;
  readonly customerOrderNumber: string;
  readonly purchaseOrderNumber: string | null;
  readonly contacts: OrderContact[];
  /** ms since the Unix epoch. */
  readonly orderedAt: number;
  readonly createdBy: string;
}

export interface OrderLineRecord {
  readonly lineId: string;
  readonly orderId: string;
  readonly siteNumber: string;
  /** 1, 2, … within its order. */
  readonly lineNo: number;
  readonly product: string;
  readonly version: string;
  readonly model: LicenseModel;
  /** Seats, or named users for the authorized-user model. */
  readonly quantity: number;
  /** Bundle components; empty for a plain product. */
  readonly components: string[];
  readonly startsAt: number | null;
  /** End of a temporary line, ms since the Unix epoch; null: perpetual. */
  readonly expiresAt: number | null;
  /** The line this one renews (maintenance renewal). */
  readonly renewsLineId: string | null;
  readonly lingerSeconds: number;
  readonly hostsPerUserMax: number;
  /** `h`: the longest borrow (commuter use) its keys allow; null: not borrowable. */
  readonly borrowHoursMax: number | null;
}

export interface AllocationRecord {
  readonly allocationId: string;
  readonly lineId: string;
  /** 1, 2, … per line (unique: the guard against two writers). */
  readonly allocationNo: number;
  readonly seats: number;
  /** A temporary allocation's seats go back to the line after this instant (ms). */
  readonly expiresAt: number | null;
  readonly createdAt: number;
  readonly createdBy: string;
}

export interface EntitlementRecord {
  readonly authCode: string;
  readonly product: string;
  readonly component: string | null;
  readonly version: string;
  readonly model: LicenseModel;
  readonly seats: number;
  readonly startsAt: number | null;
  readonly expiresAt: number | null;
  readonly lingerSeconds: number;
  readonly hostsPerUserMax: number;
  /** `h`: the longest borrow (commuter use) its keys allow; null: not borrowable. */
  readonly borrowHoursMax: number | null;
  readonly orderNumber: string | null;
  readonly comment: string | null;
  readonly createdAt: number;
  /** The account; null for a code entitled outside any account. */
  readonly siteNumber: string | null;
  readonly orderId: string | null;
  readonly lineId: string | null;
  readonly allocationId: string | null;
  /** Concurrent codes: activations allowed (support may raise it). */
  readonly activationsMax: number;
}

export interface LicenseKeyRecord {
  readonly licenseId: string;
  readonly authCode: string;
  /** Canonical lock codes, in the order given. */
  readonly lockCodes: string[];
  readonly hostDescription: string | null;
  /** Seats the key grants, any carried from the key it supersedes included. */
  readonly seats: number;
  readonly keyText: string;
  readonly issuedAt: number;
  /** 1, 2, … for an activation that took seats from its code; null for a rehost. */
  readonly activationNo: number | null;
  readonly seatsFromCode: number;
  readonly supersedes: string | null;
  readonly siteNumber: string | null;
  readonly comment: string | null;
  readonly issuedBy: string;
}

export interface SessionRecord {
  readonly idSha256: string;
  readonly userId: string;
  /** The account chosen; null until one is. */
  readonly siteNumber: string | null;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export type UserTokenPurpose = 'set-password' | 'reset-password';

export interface UserTokenRecord {
  readonly tokenSha256: string;
  readonly userId: string;
  readonly purpose: UserTokenPurpose;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly usedAt: number | null;
}

export type JoinRequestStatus = 'pending' | 'approved' | 'declined';

export interface JoinRequestRecord {
  readonly requestId: string;
  readonly siteNumber: string;
  readonly email: string;
  readonly name: string;
  readonly orderNumber: string;
  readonly status: JoinRequestStatus;
  readonly createdAt: number;
  readonly decidedAt: number | null;
  readonly decidedBy: string | null;
}

export interface MailAttachment {
  readonly filename: string;
  /** Text content (a license key file). */
  readonly content: string;
}

export interface MailRecord {
  readonly mailId: string;
  readonly createdAt: number;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string | null;
  readonly attachments: MailAttachment[];
  readonly status: 'pending' | 'sent' | 'failed';
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly claimedUntil: number | null;
  readonly sentAt: number | null;
  readonly lastError: string | null;
}

export interface AuditRecord {
  readonly at: number;
  readonly actor: string;
  readonly action: string;
  readonly siteNumber: string | null;
  readonly target: string | null;
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface StaffRecord {
  readonly name: string;
  readonly tokenSha256: string;
  readonly createdAt: number;
}

/** Which codes or keys to list; every given field must match. */
export interface OwnedFilter {
  readonly siteNumber?: string | undefined;
  readonly orderId?: string | undefined;
  readonly lineId?: string | undefined;
  readonly authCode?: string | undefined;
}

/** The queries of one transaction (or one read). Methods never see another transaction's uncommitted writes. */
export interface StoreQueries {
  /** The named setting; stores `valueIfAbsent` first when there is none (the first writer wins). */
  settingOrInsert(name: string, valueIfAbsent: string): Promise<string>;

  /** StoreConflictError when the site number exists. */
  insertAccount(account: AccountRecord): Promise<void>;
  account(siteNumber: string): Promise<AccountRecord | undefined>;
  accounts(): Promise<AccountRecord[]>;

  /** StoreConflictError when the e-mail exists. */
  insertUser(user: UserRecord): Promise<void>;
  user(userId: string): Promise<UserRecord | undefined>;
  userByEmail(email: string): Promise<UserRecord | undefined>;
  setPasswordHash(userId: string, passwordHash: string, atMs: number): Promise<void>;

  /** Adds a member; false (and nothing changed) when they already belong to the account. */
  insertMember(member: MemberRecord): Promise<boolean>;
  /** Removes a member; false when they were none. */
  deleteMember(siteNumber: string, userId: string): Promise<boolean>;
  member(siteNumber: string, userId: string): Promise<MemberRecord | undefined>;
  membersOf(siteNumber: string): Promise<MemberWithUser[]>;
  membershipsOf(userId: string): Promise<MembershipWithAccount[]>;

  /** StoreConflictError when the account already has that customer order number. */
  insertOrder(order: OrderRecord, lines: readonly OrderLineRecord[]): Promise<void>;
  order(orderId: string): Promise<OrderRecord | undefined>;
  /** Newest first. */
  ordersOf(siteNumber: string): Promise<OrderRecord[]>;
  line(lineId: string): Promise<OrderLineRecord | undefined>;
  /** By order, then line number. */
  lines(filter: { readonly orderId?: string; readonly siteNumber?: string }): Promise<OrderLineRecord[]>;

  /** StoreConflictError when that allocation number of the line is taken. */
  insertAllocation(allocation: AllocationRecord): Promise<void>;
  allocationsOf(lineId: string): Promise<AllocationRecord[]>;

  insertEntitlements(rows: readonly EntitlementRecord[]): Promise<void>;
  entitlement(authCode: string): Promise<EntitlementRecord | undefined>;
  /** Oldest first. */
  entitlements(filter: OwnedFilter): Promise<EntitlementRecord[]>;
  setActivationsMax(authCode: string, activationsMax: number): Promise<void>;
  /** Holds the code until this transaction ends: another transaction's lockEntitlement of it waits, then reads what this one wrote. */
  lockEntitlement(authCode: string): Promise<void>;
  /** Holds the order line until this transaction ends (as lockEntitlement). */
  lockLine(lineId: string): Promise<void>;

  /** StoreConflictError when the code's activation number or the superseded key is taken. */
  insertKey(key: LicenseKeyRecord): Promise<void>;
  key(licenseId: string): Promise<LicenseKeyRecord | undefined>;
  /** In issue order. `orderId` matches keys of that order's codes. */
  keys(filter: OwnedFilter): Promise<LicenseKeyRecord[]>;
  /** The key that supersedes `licenseId`, if any. */
  successorOf(licenseId: string): Promise<LicenseKeyRecord | undefined>;

  insertSession(session: SessionRecord): Promise<void>;
  session(idSha256: string): Promise<SessionRecord | undefined>;
  setSessionAccount(idSha256: string, siteNumber: string | null): Promise<void>;
  deleteSession(idSha256: string): Promise<void>;
  /** Signs a user out everywhere but `exceptIdSha256`. */
  deleteSessionsOf(userId: string, exceptIdSha256?: string): Promise<void>;
  deleteExpiredSessions(nowMs: number): Promise<number>;

  insertUserToken(token: UserTokenRecord): Promise<void>;
  userToken(tokenSha256: string): Promise<UserTokenRecord | undefined>;
  /** Marks the token used if it is unused, unexpired and for `purpose`; answers it then, else undefined. */
  useUserToken(tokenSha256: string, purpose: UserTokenPurpose, nowMs: number): Promise<UserTokenRecord | undefined>;

  insertJoinRequest(request: JoinRequestRecord): Promise<void>;
  joinRequest(requestId: string): Promise<JoinRequestRecord | undefined>;
  /** Oldest first. */
  joinRequestsOf(siteNumber: string, status: JoinRequestStatus): Promise<JoinRequestRecord[]>;
  /** Moves a pending request of `siteNumber` to `status`; false when it is not pending (any more). */
  decideJoinRequest(requestId: string, siteNumber: string, status: 'approved' | 'declined', by: string, atMs: number): Promise<boolean>;

  /** Counts one hit in `bucket`'s fixed window of `windowMs`; answers the hits in the current window, this one included. */
  countHit(bucket: string, windowMs: number, nowMs: number): Promise<number>;
  deleteStaleRateLimits(beforeMs: number): Promise<number>;

  insertMail(mail: MailRecord): Promise<void>;
  /** Claims up to `limit` pending mails due by `nowMs` that no sender holds, until `claimUntilMs`. */
  claimDueMail(nowMs: number, claimUntilMs: number, limit: number): Promise<MailRecord[]>;
  markMailSent(mailId: string, atMs: number): Promise<void>;
  /** Records a failed attempt: retry at `nextAttemptAt`, or give up (`failed`). */
  markMailAttemptFailed(mailId: string, error: string, nextAttemptAt: number, failed: boolean): Promise<void>;
  /** Newest first, at most `limit`. */
  mails(limit: number): Promise<MailRecord[]>;

  insertAudit(entry: AuditRecord): Promise<void>;
  /** Newest first, at most `limit`. */
  audit(filter: { readonly siteNumber?: string | undefined; readonly limit: number }): Promise<AuditRecord[]>;

  /** StoreConflictError when the name exists. */
  insertStaff(staff: StaffRecord): Promise<void>;
  staffByTokenSha256(tokenSha256: string): Promise<StaffRecord | undefined>;
  staffMembers(): Promise<StaffRecord[]>;
}

/** A key-center database. */
export interface KeyCenterStore {
  /** Runs `fn` atomically: all of its writes or none. Keep slow work (password hashing) outside. */
  transaction<T>(fn: (q: StoreQueries) => Promise<T>): Promise<T>;
  /** Runs reads on one consistent view. */
  read<T>(fn: (q: StoreQueries) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A unique constraint refused a write: another writer got there first. */
export class StoreConflictError extends Error {
  override readonly name = 'StoreConflictError';
  constructor(
    /** The constraint's columns, "table.column[,column]". */
    readonly constraint: string,
    message: string,
  ) {
    super(message);
  }
}
