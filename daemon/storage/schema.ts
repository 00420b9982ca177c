// The SQLite schema of one node, declared with drizzle-orm. Migrations in
// ./migrations are generated from it by `npm run db:generate:daemon`.

import { blob, index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** The Raft log after the latest compaction: one row per entry. */
export const raftLog = sqliteTable('raft_log', {
  /** The entry's log index. */
  idx: integer('idx').primaryKey(),
  term: integer('term').notNull(),
  /** 0: normal, 1: conf-change. */
  kind: integer('kind').notNull(),
  data: blob('data', { mode: 'buffer' }).notNull(),
});

/**
 * One row (id = 1): the hard state and the log's base (the last compacted
 * entry, whose term stays readable).
 */
export const raftState = sqliteTable('raft_state', {
  id: integer('id').primaryKey(),
  term: integer('term').notNull(),
  vote: text('vote').notNull(),
  commitIndex: integer('commit_index').notNull(),
  baseIndex: integer('base_index').notNull(),
  baseTerm: integer('base_term').notNull(),
  /** 1 while HardState.rejoining: this member's storage lost acknowledged entries; it does not vote until the leader confirms it. */
  rejoining: integer('rejoining').notNull().default(0),
  /**
   * Random id of this database, made when it is created (hex, 32 characters;
   * '' in a database of a version before it, filled in at open). A database
   * put in place of another has another id: storage-lineage.ts compares it
   * with the id the data directory last ran with.
   */
  storageId: text('storage_id').notNull().default(''),
});

/** One row (id = 1): the latest snapshot of the seat pools and its Raft metadata. */
export const raftSnapshot = sqliteTable('raft_snapshot', {
  id: integer('id').primaryKey(),
  snapIndex: integer('snap_index').notNull(),
  snapTerm: integer('snap_term').notNull(),
  /** JSON of the ConfState: {"voters":[…],"learners":[…]}. */
  confState: text('conf_state').notNull(),
  data: blob('data', { mode: 'buffer' }).notNull(),
});

/** Usage reports: one row per checkout, checkin, denial, expiry, queue wait, forced check-in, revocation or named-user change. */
export const usageEvents = sqliteTable(
  'usage_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** Log index of the command that caused it: replaying the log never writes a row twice. */
    logIndex: integer('log_index').notNull(),
    /** `ms` since the epoch (the command's `at`). */
    at: integer('at').notNull(),
    kind: text('kind').notNull(),
    feature: text('feature').notNull(),
    version: text('version').notNull(),
    user: text('user').notNull(),
    host: text('host').notNull(),
    clientId: text('client_id').notNull(),
    count: integer('count').notNull(),
    leaseId: text('lease_id').notNull(),
    waitedMs: integer('waited_ms').notNull(),
    code: text('code').notNull(),
    /** force-checkin: the admin's reason; revoke, user-removed: why (daemon/pool UsageKind); '' otherwise. */
    reason: text('reason').notNull().default(''),
  },
  (t) => [index('usage_events_at').on(t.at), index('usage_events_feature_at').on(t.feature, t.at)],
);



