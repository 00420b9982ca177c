// The key center's issuing store: what was entitled and what was issued.
// Declared here with drizzle-orm; `npm run db:generate:keycenter` writes the
// migrations into keycenter/migrations/, applied when the store opens.
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** One authorization code: one entitlement of one order (one bundle component). */
export const entitlements = sqliteTable('entitlements', {
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
  orderNumber: text('order_number'),
  comment: text('comment'),
  /** ms since the Unix epoch. */
  createdAt: integer('created_at').notNull(),
});

/** One issued license key: an activation of an authorization code. */
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
    /** Seats (named users) this key grants; all of a concurrent code's. */
    seats: integer('seats').notNull(),
    /** The signed key, exactly as handed to the customer. */
    keyText: text('key_text').notNull(),
    /** ms since the Unix epoch. */
    issuedAt: integer('issued_at').notNull(),
  },
  (t) => [index('license_keys_auth_code').on(t.authCode), index('license_keys_host').on(t.hostDescription)],
);
