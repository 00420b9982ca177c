import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from './sqlite-store.ts';
import { storeContract } from './store-contract.test-support.ts';

storeContract('sqlite', async () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'floe-kc-store-'));
  const store = openSqliteStore(join(dir, 'keycenter.db'), true);
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteStore', () => {
  it('refuses (loudly) a store call made from inside a transaction, which would deadlock', async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'floe-kc-store-'));
    const store = openSqliteStore(join(dir, 'keycenter.db'), true);
    try {
      await expect(store.transaction(() => store.read((q) => q.accounts()))).rejects.toThrow(/assert/);
      expect(await store.read((q) => q.accounts())).toEqual([]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs transactions one at a time, so interleaved async rules never see each other half-done', async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'floe-kc-store-'));
    const store = openSqliteStore(join(dir, 'keycenter.db'), true);
    try {
      const seen: number[] = [];
      await Promise.all(
        [1, 2, 3].map((n) =>
          store.transaction(async (q) => {
            const before = (await q.accounts()).length;
            await new Promise((r) => setTimeout(r, 5));
            await q.insertAccount({ siteNumber: `S${n}`, companyName: 'x', createdAt: 0 });
            seen.push(before);
          }),
        ),
      );
      expect(seen).toEqual([0, 1, 2]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SqliteStore migrations', () => {
  it('a store from before accounts keeps its keys counted: each an activation of its code with all its seats', async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'floe-kc-store-'));
    try {
      // A 0.1 store: only the first migration applied, two keys of one authorized-user code.
      const oldMigrations = join(dir, 'migrations');
      mkdirSync(join(oldMigrations, 'meta'), { recursive: true });
      const here = fileURLToPath(new URL('../migrations', import.meta.url));
      copyFileSync(join(here, '0000_issuing_store.sql'), join(oldMigrations, '0000_issuing_store.sql'));
      const journal = JSON.parse(readFileSync(join(here, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
      writeFileSync(join(oldMigrations, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries: journal.entries.slice(0, 1) }));
      const client = new Database(join(dir, 'keycenter.db'));
      migrate(drizzle({ client }), { migrationsFolder: oldMigrations });
      client.exec(`INSERT INTO entitlements (auth_code, product, version, model, seats, linger_seconds, hosts_per_user_max, created_at) VALUES ('C1', 'stats', '29', 'authorized-user', 10, 0, 1, 1)`);
      client.exec(`INSERT INTO license_keys (license_id, auth_code, lock_codes, seats, key_text, issued_at) VALUES ('K1', 'C1', '["L1"]', 4, 'x', 1), ('K2', 'C1', '["L2"]', 6, 'y', 2)`);
      client.close();
      const store = openSqliteStore(join(dir, 'keycenter.db'), false);
      try {
        expect((await store.read((q) => q.keys({ authCode: 'C1' }))).map((k) => [k.licenseId, k.activationNo, k.seatsFromCode, k.issuedBy])).toEqual([
          ['K1', 1, 4, 'cli'],
          ['K2', 2, 6, 'cli'],
        ]);
        expect((await store.read((q) => q.entitlement('C1')))?.activationsMax).toBe(1);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
