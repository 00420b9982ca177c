import { describe, expect, it } from 'vitest';
import { StoreConflictError } from './key-center-store.ts';
import { openPostgresStore, redactedDatabaseUrl } from './postgres-store.ts';
import { postgresSkipReason, usePostgres } from './postgres-store.test-support.ts';
import { code, key, storeContract } from './store-contract.test-support.ts';

const pg = usePostgres();

describe.skipIf(postgresSkipReason !== undefined)('PostgresStore', () => {
  storeContract('postgres', async () => {
    const store = await pg.freshStore();
    return { store, cleanup: () => store.close() };
  });

  it('two instances opening one new database together migrate it once', async () => {
    const url = await pg.freshDatabaseUrl();
    // A database without the schema: every instance starts its migration at once.
    const bare = url.replace(/\/[^/]+$/, '/kc_bare');
    await pg.server!.createDatabase('kc_bare');
    const stores = await Promise.all([openPostgresStore(bare), openPostgresStore(bare), openPostgresStore(bare)]);
    try {
      expect(await stores[0]!.read((q) => q.accounts())).toEqual([]);
    } finally {
      for (const s of stores) await s.close();
    }
  });

  it("two instances taking a code's next activation at the same moment: one key, the other a StoreConflictError", async () => {
    const url = await pg.freshDatabaseUrl();
    const a = await openPostgresStore(url);
    const b = await openPostgresStore(url);
    try {
      await a.transaction((q) => q.insertEntitlements([code('C1')]));
      // Both read "no key yet" before either writes: READ COMMITTED lets them; the unique (auth_code, activation_no) does not.
      let release!: () => void;
      const bothRead = new Promise<void>((r) => (release = r));
      let reads = 0;
      const take = (store: typeof a, licenseId: string) =>
        store.transaction(async (q) => {
          const earlier = await q.keys({ authCode: 'C1' });
          if (++reads === 2) release();
          await bothRead;
          await q.insertKey(key(licenseId, 'C1', { activationNo: earlier.length + 1 }));
          return licenseId;
        });
      const results = await Promise.allSettled([take(a, 'K1'), take(b, 'K2')]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected');
      expect(refused?.status === 'rejected' && refused.reason).toBeInstanceOf(StoreConflictError);
      expect(await a.read((q) => q.keys({ authCode: 'C1' }))).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a database URL in a log line hides its password', () => {
    expect(redactedDatabaseUrl('postgres://kc:s3cret@db.example:5432/keys')).toBe('postgres://kc:***@db.example:5432/keys');
    expect(redactedDatabaseUrl('postgres://db.example/keys')).toBe('postgres://db.example/keys');
  });
});
