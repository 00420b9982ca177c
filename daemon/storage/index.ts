// daemon/storage: a node's SQLite database (drizzle-orm over better-sqlite3):
// the Raft log, hard state and snapshots, and the usage-events table; and the
// members learned from the log (member-directory.ts, a file beside it, of
// member-record.ts's records); which
// database the data directory last ran with (storage-lineage.ts).
export * from './open-database.ts';
export * from './sqlite-raft-storage.ts';
export * from './usage-log.ts';
export * from './member-directory.ts';
export * from './member-record.ts';
export * from './storage-lineage.ts';
