import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type FloeDatabase } from './open-database.ts';
import { UsageLog, type UsageRow } from './usage-log.ts';

/** Rows whose every field differs from row to row and from field to field. */
function rows(count: number): UsageRow[] {
  return Array.from({ length: count }, (_, i) => ({
    logIndex: 10 + i,
    at: 1_700_000_000_000 + i * 7,
    kind: i % 3 === 0 ? 'checkout' : i % 3 === 1 ? 'checkin' : 'denial',
    feature: `feature-${i % 2}`,
    version: `v${i}`,
    user: `user-${i}`,
    host: `host-${i}`,
    clientId: `client-${i}`,
    count: 1 + (i % 4),
    leaseId: `lease-${i}`,
    waitedMs: i * 3,
    code: i % 3 === 2 ? 'NO_SEATS' : '',
    reason: i % 5 === 0 ? `reason ${i}` : '',
  }));
}

describe('UsageLog', () => {
  let database: FloeDatabase | undefined;
  afterEach(() => database?.close());

  it('reads back every field of every row it wrote, whole batches and the rest alike', () => {
    database = openDatabase(':memory:');
    const log = new UsageLog(database);
    // 32 rows go in one INSERT; 75 = two full ones and 11 alone.
    const written = rows(75);
    for (const row of written) log.record(row);
    log.flush();
    expect([...log.scan({ fromMs: 0, toMs: Number.MAX_SAFE_INTEGER })]).toEqual(written);
    expect(log.query({ feature: 'feature-1', limit: 10_000 })).toEqual(written.filter((r) => r.feature === 'feature-1').reverse());
    expect(log.page(0, Number.MAX_SAFE_INTEGER, 10_000).rows).toEqual(written);
  });

  it('a second flush adds its rows after the first ones', () => {
    database = openDatabase(':memory:');
    const log = new UsageLog(database);
    const [first, second] = [rows(40), rows(80).slice(40)];
    for (const row of first) log.record(row);
    log.flush();
    for (const row of second) log.record(row);
    log.flush();
    expect([...log.scan({ fromMs: 0, toMs: Number.MAX_SAFE_INTEGER })]).toEqual([...first, ...second]);
  });
});
