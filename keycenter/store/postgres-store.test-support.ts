// PostgreSQL stores for tests: one real server per test file (started in
// beforeAll, stopped in afterAll), one migrated template database, and a fresh
// database copied from it for every store a test opens. Where PostgreSQL
// cannot run, `postgresSkipReason` says why (printed once) and the tests skip.
import { afterAll, beforeAll } from 'vitest';
import { openPostgresStore, type PostgresStore } from './postgres-store.ts';
import { postgresUnavailableReason, startPostgres, type PostgresServer } from './postgres-server.test-support.ts';

/** Why the PostgreSQL tests of this run skip; undefined when they run. */
export const postgresSkipReason = postgresUnavailableReason();
if (postgresSkipReason !== undefined) console.warn(`PostgreSQL tests skipped: ${postgresSkipReason}`);

const TEMPLATE = 'kc_template';

export interface TestPostgres {
  /** The running server (set once beforeAll ran). */
  server: PostgresServer | undefined;
  /** A fresh, migrated, empty database: its URL. */
  freshDatabaseUrl(): Promise<string>;
  /** A store over a fresh database. */
  freshStore(): Promise<PostgresStore>;
}

/** Starts a server for this test file (when PostgreSQL can run) and answers how to get fresh databases on it. */
export function usePostgres(): TestPostgres {
  let databases = 0;
  const state: TestPostgres = {
    server: undefined,
    async freshDatabaseUrl() {
      const server = state.server;
      if (server === undefined) throw new Error('assert: usePostgres() server not started (skipped?)');
      const name = `kc_${++databases}`;
      await server.createDatabase(name, TEMPLATE);
      return server.urlOf(name);
    },
    async freshStore() {
      return openPostgresStore(await state.freshDatabaseUrl());
    },
  };
  beforeAll(async () => {
    if (postgresSkipReason !== undefined) return;
    const server = await startPostgres();
    state.server = server;
    await server.createDatabase(TEMPLATE);
    await (await openPostgresStore(server.urlOf(TEMPLATE))).close();
  }, 120_000);
  afterAll(async () => {
    await state.server?.stop();
  }, 30_000);
  return state;
}
