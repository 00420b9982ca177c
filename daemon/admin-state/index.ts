// daemon/admin-state: the admin state machine (tokens, audit log), a pure
// sibling of the seat-pool state machine applied from the same Raft log.
export * from './admin-commands.ts';
export * from './admin-limits.ts';
export * from './admin-queries.ts';
export * from './admin-roles.ts';
export * from './admin-snapshot.ts';
export * from './admin-state.ts';
