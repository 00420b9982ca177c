// The key center's store, PostgreSQL dialect: the same tables, columns,
// constraints and indexes as schema.ts (the SQLite dialect), declared with
// drizzle-orm's pg-core; `npm run db:generate:keycenter` writes the migrations
// of both into keycenter/migrations/ and keycenter/migrations-pg/.
// schema-dialects.test.ts proves the two declare the same thing.
//
// What differs, and why: instants in ms since the Unix epoch are `bigint`
// (PostgreSQL's `integer` is 32 bits); the tables listed in issue order
// (entitlements, license_keys, mail_outbox) carry an identity column named
// `rowid`, standing in for SQLite's implicit one, so the queries' tie-breaks
// read the same in both dialects.
import { sql } from 'drizzle-orm';
import { bigint, index, integer, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';

/** ms since the Unix epoch (or another ms count), as a JavaScript number. */
const ms = (name: string) => bigint(name, { mode: 'number' });
/** Insertion order, for ties of equal timestamps (SQLite's implicit rowid). */
const rowid = () => bigint('rowid', { mode: 'number' }).generatedAlwaysAsIdentity();

export const settings = pgTable('settings', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
});

export const accounts = pgTable('accounts', {
  siteNumber: text('site_number').primaryKey(),
  companyName: text('company_name').notNull(),
  createdAt: ms('created_at').notNull(),
});

export const users = pgTable('users', {
  userId: text('user_id').primaryKey(),
  email: text('email').notNull().unique(),
  name: text('name').notNull(),
  passwordHash: text('password_hash'),
  createdAt: ms('created_at').notNull(),
  passwordChangedAt: ms('password_changed_at'),
});

export const members = pgTable(
  'members',
  {
    siteNumber: text('site_number')
      .notNull()
      .references(() => accounts.siteNumber),
    userId: text('user_id')
      .notNull()
      .references(() => users.userId),
    role: text('role', { enum: ['admin', 'member'] }).notNull(),
    addedAt: ms('added_at').notNull(),
    addedBy: text('added_by').notNull(),
  },
  (t) => [primaryKey({ columns: [t.siteNumber, t.userId] }), index('members_user').on(t.userId)],
);

export const orders = pgTable(
  'orders',
  {
    orderId: text('order_id').primaryKey(),
    siteNumber: text('site_number')
      .notNull()
      .references(() => accounts.siteNumber),
    customerOrderNumber: text('customer_order_number').notNull(),
    purchaseOrderNumber: text('purchase_order_number'),
    contacts: text('contacts').notNull(),
    orderedAt: ms('ordered_at').notNull(),
    createdBy: text('created_by').notNull(),
  },
  (t) => [uniqueIndex('orders_site_number').on(t.siteNumber, t.customerOrderNumber)],
);

export const orderLines = pgTable(
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
    quantity: integer('quantity').notNull(),
    components: text('components').notNull(),
    startsAt: ms('starts_at'),
    expiresAt: ms('expires_at'),
    renewsLineId: text('renews_line_id'),
    lingerSeconds: integer('linger_seconds').notNull(),
    hostsPerUserMax: integer('hosts_per_user_max').notNull(),
    /** `h`: the longest borrow (commuter use) its keys allow; null: its seats cannot be borrowed. */
    borrowHoursMax: integer('borrow_hours_max'),
  },
  (t) => [index('order_lines_order').on(t.orderId), index('order_lines_site').on(t.siteNumber)],
);

export const allocations = pgTable(
  'allocations',
  {
    allocationId: text('allocation_id').primaryKey(),
    lineId: text('line_id')
      .notNull()
      .references(() => orderLines.lineId),
    allocationNo: integer('allocation_no').notNull(),
    seats: integer('seats').notNull(),
    expiresAt: ms('expires_at'),
    createdAt: ms('created_at').notNull(),
    createdBy: text('created_by').notNull(),
  },
  (t) => [uniqueIndex('allocations_line_no').on(t.lineId, t.allocationNo)],
);

export const entitlements = pgTable(
  'entitlements',
  {
    authCode: text('auth_code').primaryKey(),
    product: text('product').notNull(),
    component: text('component'),
    version: text('version').notNull(),
    model: text('model', { enum: ['concurrent', 'authorized-user'] }).notNull(),
    seats: integer('seats').notNull(),
    startsAt: ms('starts_at'),
    expiresAt: ms('expires_at'),
    lingerSeconds: integer('linger_seconds').notNull(),
    hostsPerUserMax: integer('hosts_per_user_max').notNull(),
    /** `h`: the longest borrow (commuter use) its keys allow; null: its seats cannot be borrowed. */
    borrowHoursMax: integer('borrow_hours_max'),
    orderNumber: text('order_number'),
    comment: text('comment'),
    createdAt: ms('created_at').notNull(),
    siteNumber: text('site_number'),
    orderId: text('order_id'),
    lineId: text('line_id'),
    allocationId: text('allocation_id'),
    activationsMax: integer('activations_max').notNull().default(1),
    rowid: rowid(),
  },
  (t) => [index('entitlements_site').on(t.siteNumber), index('entitlements_line').on(t.lineId)],
);

export const licenseKeys = pgTable(
  'license_keys',
  {
    licenseId: text('license_id').primaryKey(),
    authCode: text('auth_code')
      .notNull()
      .references(() => entitlements.authCode),
    lockCodes: text('lock_codes').notNull(),
    hostDescription: text('host_description'),
    seats: integer('seats').notNull(),
    keyText: text('key_text').notNull(),
    issuedAt: ms('issued_at').notNull(),
    activationNo: integer('activation_no'),
    seatsFromCode: integer('seats_from_code').notNull().default(0),
    supersedes: text('supersedes'),
    siteNumber: text('site_number'),
    comment: text('comment'),
    issuedBy: text('issued_by').notNull().default('cli'),
    rowid: rowid(),
  },
  (t) => [
    index('license_keys_auth_code').on(t.authCode),
    index('license_keys_host').on(t.hostDescription),
    index('license_keys_site').on(t.siteNumber),
    uniqueIndex('license_keys_activation').on(t.authCode, t.activationNo),
    uniqueIndex('license_keys_supersedes').on(t.supersedes),
  ],
);

export const sessions = pgTable(
  'sessions',
  {
    idSha256: text('id_sha256').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.userId),
    siteNumber: text('site_number'),
    createdAt: ms('created_at').notNull(),
    expiresAt: ms('expires_at').notNull(),
  },
  (t) => [index('sessions_user').on(t.userId)],
);

export const userTokens = pgTable('user_tokens', {
  tokenSha256: text('token_sha256').primaryKey(),
  userId: text('user_id')
    .notNull()
    .references(() => users.userId),
  purpose: text('purpose', { enum: ['set-password', 'reset-password'] }).notNull(),
  createdAt: ms('created_at').notNull(),
  expiresAt: ms('expires_at').notNull(),
  usedAt: ms('used_at'),
});

export const joinRequests = pgTable(
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
    createdAt: ms('created_at').notNull(),
    decidedAt: ms('decided_at'),
    decidedBy: text('decided_by'),
  },
  (t) => [index('join_requests_site').on(t.siteNumber, t.status)],
);

export const rateLimits = pgTable('rate_limits', {
  bucket: text('bucket').primaryKey(),
  windowStartMs: ms('window_start_ms').notNull(),
  count: integer('count').notNull(),
});

export const mailOutbox = pgTable(
  'mail_outbox',
  {
    mailId: text('mail_id').primaryKey(),
    createdAt: ms('created_at').notNull(),
    to: text('to_address').notNull(),
    subject: text('subject').notNull(),
    text: text('text').notNull(),
    html: text('html'),
    attachments: text('attachments'),
    status: text('status', { enum: ['pending', 'sent', 'failed'] }).notNull(),
    attempts: integer('attempts').notNull(),
    nextAttemptAt: ms('next_attempt_at').notNull(),
    claimedUntil: ms('claimed_until'),
    sentAt: ms('sent_at'),
    lastError: text('last_error'),
    rowid: rowid(),
  },
  (t) => [index('mail_outbox_due').on(t.status, t.nextAttemptAt)],
);

export const audit = pgTable(
  'audit',
  {
    auditId: bigint('audit_id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    at: ms('at').notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    siteNumber: text('site_number'),
    target: text('target'),
    detail: text('detail').notNull().default(sql`'{}'`),
  },
  (t) => [index('audit_site').on(t.siteNumber, t.at)],
);

export const staff = pgTable('staff', {
  name: text('name').primaryKey(),
  tokenSha256: text('token_sha256').notNull().unique(),
  createdAt: ms('created_at').notNull(),
});
