// The key center's store, SQLite dialect: accounts and their members, orders
// and their lines, authorization codes, issued keys, and the state several
// portal instances must share (sessions, one-time tokens, rate-limit counters,
// the mail outbox, the audit trail). Declared with drizzle-orm;
// `npm run db:generate:keycenter` writes the migrations into
// keycenter/migrations/, applied when the store opens. schema-pg.ts declares
// the same store for PostgreSQL (schema-dialects.test.ts keeps them in step).
//
// Every read-then-write rule of the key center is backed by a constraint here,
// so that a second writer racing the first fails instead of slipping through:
// unique (auth_code, activation_no) — a code's activations are numbered, so two
// writers cannot both take "the next one"; unique (supersedes) — a key is
// superseded once; unique (line_id, allocation_no) — seats of an order line
// are handed out one numbered allocation at a time.
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** Named values the key center keeps, such as the secret its CSRF tokens are derived from. */
export const settings = sqliteTable('settings', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
});

/** A customer account, keyed by the site number every order of that site carries. */
export const accounts = sqliteTable('accounts', {
  siteNumber: text('site_number').primaryKey(),
  companyName: text('company_name').notNull(),
  /** ms since the Unix epoch. */
  createdAt: integer('created_at').notNull(),
});

/** A person who signs in to the portal; one e-mail, any number of accounts. */
export const users = sqliteTable('users', {
  userId: text('user_id').primaryKey(),
  /** Lower-cased; the sign-in name, not editable by its owner. */
  email: text('email').notNull().unique(),
  name: text('name').notNull(),
  /** "scrypt$N$r$p$salt$hash"; null until the user sets a password. */
  passwordHash: text('password_hash'),
  createdAt: integer('created_at').notNull(),
  passwordChangedAt: integer('password_changed_at'),
});

/** Who belongs to which account, and whether they may add members and approve requests. */
export const members = sqliteTable(
  'members',
  {
    siteNumber: text('site_number')
      .notNull()
      .references(() => accounts.siteNumber),
    userId: text('user_id')
      .notNull()
      .references(() => users.userId),
    role: text('role', { enum: ['admin', 'member'] }).notNull(),
    addedAt: integer('added_at').notNull(),
    addedBy: text('added_by').notNull(),
  },
  (t) => [primaryKey({ columns: [t.siteNumber, t.userId] }), index('members_user').on(t.userId)],
);

/** An order of one account: the customer order number and the customer's purchase-order number. */
export const orders = sqliteTable(
  'orders',
  {
    orderId: text('order_id').primaryKey(),
    siteNumber: text('site_number')
      .notNull()
      .references(() => accounts.siteNumber),
    customerOrderNumber: text('customer_order_number').notNull(),
    purchaseOrderNumber: text('purchase_order_number'),
    /** JSON array of {email, name, role} — the order's contacts. */
    contacts: text('contacts').notNull(),
    /** ms since the Unix epoch. */
    orderedAt: integer('ordered_at').notNull(),
    createdBy: text('created_by').notNull(),
  },
  (t) => [uniqueIndex('orders_site_number').on(t.siteNumber, t.customerOrderNumber)],
);

/** One line of an order: a product, its version and model, a quantity of seats. */
export const orderLines = sqliteTable(
  'order_lines',
  {
    lineId: text('line_id').primaryKey(),
    orderId: text('order_id')
      .notNull()
      .references(() => orders.orderId),
    siteNumber: text('site_number').notNull(),
    lineNo: integer('line_no').notNull(),
    product: text('product').notNull(),
    version: text('version').notNull(),
    model: text('model', { enum: ['concurrent', 'authorized-user'] }).notNull(),
    /** Seats, or named users for the authorized-user model. */
    quantity: integer('quantity').notNull(),
    /** JSON array of bundle component names; [] for a plain product. */
    components: text('components').notNull(),
    startsAt: integer('starts_at'),
    /** End of a temporary line, ms since the Unix epoch; null: perpetual. */
    expiresAt: integer('expires_at'),
    /** The earlier line this one renews (maintenance renewal); null otherwise. */
    renewsLineId: text('renews_line_id'),
    lingerSeconds: integer('linger_seconds').notNull(),
    hostsPerUserMax: integer('hosts_per_user_max').notNull(),
    /** `h`: the longest borrow (commuter use) its keys allow; null: its seats cannot be borrowed. */
    borrowHoursMax: integer('borrow_hours_max'),
  },
  (t) => [index('order_lines_order').on(t.orderId), index('order_lines_site').on(t.siteNumber)],
);

/** Seats of an order line handed out as authorization codes, by one "generate". */
export const allocations = sqliteTable(
  'allocations',
  {
    allocationId: text('allocation_id').primaryKey(),
    lineId: text('line_id')
      .notNull()
      .references(() => orderLines.lineId),
    /** 1, 2, … per line; unique, so two writers cannot take the same seats. */
    allocationNo: integer('allocation_no').notNull(),
    seats: integer('seats').notNull(),
    /** A temporary allocation gives its seats back to the line after this instant. */
    expiresAt: integer('expires_at'),
    createdAt: integer('created_at').notNull(),
    createdBy: text('created_by').notNull(),
  },
  (t) => [uniqueIndex('allocations_line_no').on(t.lineId, t.allocationNo)],
);

/** One authorization code: one entitlement of one order (one bundle component). */
export const entitlements = sqliteTable(
  'entitlements',
  {
    /** Canonical grouped text, check character included. */
    authCode: text('auth_code').primaryKey(),
    /** Product name; for a bundle, the bundle's name. */
    product: text('product').notNull(),
    /** The bundle component this code grants; null for a plain product. */
    component: text('component'),
    version: text('version').notNull(),
    model: text('model', { enum: ['concurrent', 'authorized-user'] }).notNull(),
    /** Concurrent seats, or named users for the authorized-user model. */
    seats: integer('seats').notNull(),
    /** Seats are not in force before this instant, ms since the Unix epoch; null: from activation. */
    startsAt: integer('starts_at'),
    /** End of a temporary license, ms since the Unix epoch; null: perpetual. */
    expiresAt: integer('expires_at'),
    lingerSeconds: integer('linger_seconds').notNull(),
    hostsPerUserMax: integer('hosts_per_user_max').notNull(),
    /** `h`: the longest borrow (commuter use) its keys allow; null: its seats cannot be borrowed. */
    borrowHoursMax: integer('borrow_hours_max'),
    orderNumber: text('order_number'),
    comment: text('comment'),
    /** ms since the Unix epoch. */
    createdAt: integer('created_at').notNull(),
    /** The account it belongs to; null for a code the vendor entitled outside any account. */
    siteNumber: text('site_number'),
    orderId: text('order_id'),
    lineId: text('line_id'),
    allocationId: text('allocation_id'),
    /** Concurrent codes: how many times it may be activated (support may raise it). */
    activationsMax: integer('activations_max').notNull().default(1),
  },
  (t) => [index('entitlements_site').on(t.siteNumber), index('entitlements_line').on(t.lineId)],
);

/** One issued license key: an activation of an authorization code, or a key superseding another. */
export const licenseKeys = sqliteTable(
  'license_keys',
  {
    licenseId: text('license_id').primaryKey(),
    authCode: text('auth_code')
      .notNull()
      .references(() => entitlements.authCode),
    /** JSON array of canonical lock codes: 1, 3 (redundant) or 5. */
    lockCodes: text('lock_codes').notNull(),
    hostDescription: text('host_description'),
    /** Seats (named users) this key grants, those carried from the key it supersedes included. */
    seats: integer('seats').notNull(),
    /** The signed key, exactly as handed to the customer. */
    keyText: text('key_text').notNull(),
    /** ms since the Unix epoch. */
    issuedAt: integer('issued_at').notNull(),
    /** 1, 2, … for each activation that took seats from the code; null for a rehost. */
    activationNo: integer('activation_no'),
    /** Seats this key took from its code (0 for a rehost). */
    seatsFromCode: integer('seats_from_code').notNull().default(0),
    /** The key this one replaces; each key is superseded at most once. */
    supersedes: text('supersedes'),
    /** The account it belongs to (its code's); null outside any account. */
    siteNumber: text('site_number'),
    comment: text('comment'),
    /** "vendor:NAME", "user:ID", "api" or "cli". */
    issuedBy: text('issued_by').notNull().default('cli'),
  },
  (t) => [
    index('license_keys_auth_code').on(t.authCode),
    index('license_keys_host').on(t.hostDescription),
    index('license_keys_site').on(t.siteNumber),
    uniqueIndex('license_keys_activation').on(t.authCode, t.activationNo),
    uniqueIndex('license_keys_supersedes').on(t.supersedes),
  ],
);

/** Signed-in browsers. The cookie holds the id; the store only its SHA-256. */
export const sessions = sqliteTable(
  'sessions',
  {
    idSha256: text('id_sha256').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.userId),
    /** The account chosen after sign-in; null until one is. */
    siteNumber: text('site_number'),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('sessions_user').on(t.userId)],
);

/** One-time links (set a first password, reset a lost one); the mail holds the token, the store its SHA-256. */
export const userTokens = sqliteTable('user_tokens', {
  tokenSha256: text('token_sha256').primaryKey(),
  userId: text('user_id')
    .notNull()
    .references(() => users.userId),
  purpose: text('purpose', { enum: ['set-password', 'reset-password'] }).notNull(),
  createdAt: integer('created_at').notNull(),
  expiresAt: integer('expires_at').notNull(),
  /** Set once, by the one use; a used token is refused. */
  usedAt: integer('used_at'),
});

/** "Let me into this account": site number and one of its order numbers; an admin decides. */
export const joinRequests = sqliteTable(
  'join_requests',
  {
    requestId: text('request_id').primaryKey(),
    siteNumber: text('site_number')
      .notNull()
      .references(() => accounts.siteNumber),
    email: text('email').notNull(),
    name: text('name').notNull(),
    orderNumber: text('order_number').notNull(),
    status: text('status', { enum: ['pending', 'approved', 'declined'] }).notNull(),
    createdAt: integer('created_at').notNull(),
    decidedAt: integer('decided_at'),
    decidedBy: text('decided_by'),
  },
  (t) => [index('join_requests_site').on(t.siteNumber, t.status)],
);

/** Fixed-window counters (sign-in attempts, activations) shared by every instance. */
export const rateLimits = sqliteTable('rate_limits', {
  bucket: text('bucket').primaryKey(),
  windowStartMs: integer('window_start_ms').notNull(),
  count: integer('count').notNull(),
});

/** Mail waiting to be delivered, written in the same transaction as what it tells. */
export const mailOutbox = sqliteTable(
  'mail_outbox',
  {
    mailId: text('mail_id').primaryKey(),
    createdAt: integer('created_at').notNull(),
    to: text('to_address').notNull(),
    subject: text('subject').notNull(),
    text: text('text').notNull(),
    html: text('html'),
    /** JSON array of {filename, content} (text attachments), or null. */
    attachments: text('attachments'),
    status: text('status', { enum: ['pending', 'sent', 'failed'] }).notNull(),
    attempts: integer('attempts').notNull(),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    /** A sender holds the mail until then; another may take it after. */
    claimedUntil: integer('claimed_until'),
    sentAt: integer('sent_at'),
    lastError: text('last_error'),
  },
  (t) => [index('mail_outbox_due').on(t.status, t.nextAttemptAt)],
);

/** What vendor staff and members did, for support and for the customer's own review. */
export const audit = sqliteTable(
  'audit',
  {
    auditId: integer('audit_id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    /** "vendor:NAME", "user:EMAIL", "cli" or "api". */
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    siteNumber: text('site_number'),
    /** What it was done to: a license id, a code, an e-mail. */
    target: text('target'),
    /** JSON object with the details. */
    detail: text('detail').notNull().default(sql`'{}'`),
  },
  (t) => [index('audit_site').on(t.siteNumber, t.at)],
);

/** Vendor staff: a name and the SHA-256 of their API token. */
export const staff = sqliteTable('staff', {
  name: text('name').primaryKey(),
  tokenSha256: text('token_sha256').notNull().unique(),
  createdAt: integer('created_at').notNull(),
});
