// daemon/storage: a node's SQLite database (drizzle-orm over better-sqlite3):
// the Raft log, hard state and snapshots, and the usage-events table.
export * from './open-database.ts';
export * from './sqlite-raft-storage.ts';
export * from './usage-log.ts';
