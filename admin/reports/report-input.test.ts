import { describe, expect, it } from 'vitest';
import { REPORT_LOOKBACK_MS, reportInput, type HeldLease } from './report-input.ts';
import { computeUsageReport, type ReportUsageRow } from './usage-report.ts';

const DAY = 86_400_000;
const FROM = Date.UTC(2026, 2, 10);
const row = (logIndex: number, at: number, kind: string, leaseId: string, user = 'ann'): ReportUsageRow => ({ logIndex, at, kind, feature: 'cad', user, host: 'h', clientId: `c-${user}`, count: 1, leaseId, waitedMs: 0 });

/** A source over `log`, as the node's usage table would answer. */
function source(log: ReportUsageRow[], heldLeases: HeldLease[] = []) {
  return { scan: (r: { fromMs: number; toMs: number }) => log.filter((x) => x.at >= r.fromMs && x.at < r.toMs), heldLeases };
}

describe('reportInput', () => {
  it('counts a seat checked out long before the lookback from the report start, until its check-in', () => {
    const log = [row(1, FROM - 30 * DAY, 'checkout', 'OLD'), row(2, FROM + DAY / 2, 'checkin', 'OLD')];
    const query = { fromMs: FROM, toMs: FROM + DAY, interval: 'day' as const, asOfMs: FROM + 2 * DAY };
    expect(computeUsageReport(reportInput(source(log), query), query)).toMatchObject([{ peakInUse: 1, seatHours: 12, checkouts: 0 }]);
  });

  it('counts a seat still held now, checked out before the lookback, over the whole report', () => {
    const log = [row(1, FROM - 30 * DAY, 'checkout', 'HELD', 'bob')];
    const held: HeldLease[] = [{ leaseId: 'HELD', feature: 'cad', user: 'bob', host: 'h', clientId: 'c-bob', count: 1, checkedOutAt: FROM - 30 * DAY, lingering: false }];
    const query = { fromMs: FROM, toMs: FROM + DAY, interval: 'day' as const, asOfMs: FROM + 2 * DAY, by: 'user' as const };
    expect(computeUsageReport(reportInput(source(log, held), query), query)).toMatchObject([{ key: 'bob', peakInUse: 1, seatHours: 24 }]);
  });

  it('reads no earlier than the lookback and no later than the denial window after the end', () => {
    const seen: { fromMs: number; toMs: number }[] = [];
    const query = { fromMs: FROM, toMs: FROM + DAY };
    [...reportInput({ scan: (r) => (seen.push(r), []), heldLeases: [] }, query)];
    expect(seen[0]).toEqual({ fromMs: FROM - REPORT_LOOKBACK_MS, toMs: FROM + DAY + 5 * 60_000 + 1 });
  });
});
