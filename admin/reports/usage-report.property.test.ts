// computeUsageReport against the obvious reference computation, over
// generated usage logs (fast-check shrinks a failing log to a small one).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { referenceUsageReport } from './usage-report-reference.test-support.ts';
import { computeUsageReport, REPORT_LINES_MAX, type ReportUsageRow, type UsageReportLine, type UsageReportQuery } from './usage-report.ts';
import { utilizationHistogram } from './utilization.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 22, 30);
const CLIENTS = [
  { clientId: 'c1', user: 'ann', host: 'h1', app: 'cad' },
  { clientId: 'c2', user: 'bob', host: 'h1', app: 'cad' },
  { clientId: 'c3', user: 'bob', host: 'h2', app: 'sim' },
];
const END_KINDS = ['checkin', 'expiry', 'force-checkin', 'revoke'];

/** One generated step: a time step, then what happens. */
const stepArb = fc.record({
  // Often on the edges that matter: the same millisecond, the denial window's end, whole hours and days.
  dtMs: fc.oneof(
    fc.constantFrom(0, 0, 300_000, 30 * 60_000, HOUR, 6 * HOUR, 24 * HOUR),
    fc.integer({ min: 1, max: 90_000 }),
    fc.integer({ min: 1, max: 5 * HOUR }),
  ),
  sameEntry: fc.boolean(),
  what: fc.constantFrom('checkout', 'end', 'end', 'denial', 'queue-wait'),
  client: fc.nat({ max: CLIENTS.length - 1 }),
  feature: fc.constantFrom('cad', 'sim'),
  count: fc.integer({ min: 1, max: 3 }),
  pick: fc.nat(),
  endKind: fc.constantFrom(...END_KINDS),
  waitedMs: fc.integer({ min: 0, max: 600_000 }),
});

type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

/** A usage log a real pool could write: time never goes back, ends follow their checkouts. */
function buildLog(steps: readonly Step[]): ReportUsageRow[] {
  const rows: ReportUsageRow[] = [];
  const open: ReportUsageRow[] = [];
  let at = T0;
  let logIndex = 1;
  let leaseSeq = 0;
  for (const s of steps) {
    at += s.dtMs;
    if (!s.sameEntry || rows.length === 0) logIndex++;
    const c = CLIENTS[s.client]!;
    const base = { logIndex, at, feature: s.feature, ...c, count: s.count, leaseId: '', waitedMs: 0 };
    if (s.what === 'checkout') {
      const row = { ...base, kind: 'checkout', leaseId: `L${++leaseSeq}` };
      rows.push(row);
      open.push(row);
    } else if (s.what === 'end') {
      if (open.length === 0) continue;
      const [lease] = open.splice(s.pick % open.length, 1);
      rows.push({ ...lease!, logIndex, at, kind: s.endKind });
    } else if (s.what === 'denial') rows.push({ ...base, kind: 'denial' });
    else rows.push({ ...base, kind: 'queue-wait', waitedMs: s.waitedMs });
  }
  return rows;
}

const queryArb = fc.record({
  /** Where the report starts, as a share of the log's span (negative: before it). */
  fromShare: fc.double({ min: -0.2, max: 0.9, noNaN: true }),
  lengthShare: fc.double({ min: 0.01, max: 1.5, noNaN: true }),
  interval: fc.constantFrom('hour' as const, 'day' as const),
  feature: fc.option(fc.constantFrom('cad', 'sim'), { nil: undefined }),
  by: fc.option(fc.constantFrom('user' as const, 'host' as const, 'app' as const), { nil: undefined }),
  asOfExtraMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 * HOUR })),
  /** The pools installed: zero lines for them too ('plot' never has a row). */
  features: fc.option(fc.subarray(['cad', 'plot', 'sim']), { nil: undefined }),
});

/** Lines with floats rounded, so sums taken in another order compare equal. */
const rounded = (lines: UsageReportLine[]) => lines.map((l) => ({ ...l, averageInUse: Math.round(l.averageInUse * 1e9) / 1e9, seatHours: Math.round(l.seatHours * 1e9) / 1e9 }));

describe('usage reports', () => {
  it('computeUsageReport equals the reference computation on any usage log and query', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 8, maxLength: 80 }), queryArb, (steps, q) => {
        const rows = buildLog(steps);
        const lastAt = rows.at(-1)?.at ?? T0;
        const spanMs = Math.max(lastAt - T0, HOUR);
        const fromMs = T0 + Math.round(q.fromShare * spanMs);
        const query: UsageReportQuery = {
          fromMs,
          toMs: fromMs + Math.max(1, Math.round(q.lengthShare * spanMs)),
          interval: q.interval,
          asOfMs: lastAt + q.asOfExtraMs,
          ...(q.feature !== undefined ? { feature: q.feature } : {}),
          ...(q.by !== undefined ? { by: q.by } : {}),
          ...(q.features !== undefined ? { features: q.features } : {}),
        };
        expect(rounded(computeUsageReport(rows, query))).toEqual(rounded(referenceUsageReport(rows, query)));
      }),
      { numRuns: 1000 },
    );
  });

  it('the utilization histogram spreads exactly the report\'s seat-time over the levels, and its times add up to the period', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 8, maxLength: 80 }), fc.nat({ max: 6 }), fc.integer({ min: 0, max: 3 * HOUR }), (steps, dayOffset, asOfExtraMs) => {
        const rows = buildLog(steps);
        const fromMs = Date.UTC(2026, 0, 5) + dayOffset * 24 * HOUR;
        const q = { fromMs, toMs: fromMs + 24 * HOUR, asOfMs: (rows.at(-1)?.at ?? T0) + asOfExtraMs, feature: 'cad' };
        const levels = utilizationHistogram(rows, q);
        const elapsedMs = Math.max(0, Math.min(q.toMs, Math.max(q.asOfMs, q.fromMs)) - q.fromMs);
        expect(levels.reduce((s, l) => s + l.ms, 0)).toBe(elapsedMs);
        const seatMs = levels.reduce((s, l) => s + l.seatsInUse * l.ms, 0);
        const [line] = computeUsageReport(rows, { ...q, interval: 'day' });
        expect(seatMs / 3_600_000).toBeCloseTo(line?.seatHours ?? 0, 9);
      }),
      { numRuns: 300 },
    );
  });

  it('counts a denial the client satisfied within five minutes as no denial, and one it did not as one', () => {
    const row = (logIndex: number, at: number, kind: string, leaseId = '') => ({ logIndex, at, kind, feature: 'cad', user: 'ann', host: 'h', clientId: 'c1', count: 1, leaseId, waitedMs: 0 });
    const rows = [row(1, T0, 'denial'), row(2, T0 + 60_000, 'checkout', 'L1'), row(3, T0 + 10 * 60_000, 'denial')];
    const [line] = computeUsageReport(rows, { fromMs: T0, toMs: T0 + HOUR, interval: 'hour', asOfMs: T0 + HOUR });
    expect(line).toMatchObject({ denials: 1, checkouts: 1, peakInUse: 1 });
  });

  it('gives peak, average and seat-hours of a simple day', () => {
    const day = Date.UTC(2026, 0, 6);
    const row = (logIndex: number, at: number, kind: string, leaseId: string, count = 1) => ({ logIndex, at, kind, feature: 'cad', user: 'ann', host: 'h', clientId: 'c1', count, leaseId, waitedMs: 0 });
    // Two seats from 06:00 to 18:00, one more from 09:00 to 10:00.
    const rows = [row(1, day + 6 * HOUR, 'checkout', 'A', 2), row(2, day + 9 * HOUR, 'checkout', 'B'), row(3, day + 10 * HOUR, 'checkin', 'B'), row(4, day + 18 * HOUR, 'checkin', 'A', 2)];
    const [line] = computeUsageReport(rows, { fromMs: day, toMs: day + 24 * HOUR, interval: 'day', asOfMs: day + 30 * HOUR });
    expect(line).toMatchObject({ peakInUse: 3, seatHours: 25, averageInUse: 25 / 24, checkouts: 2, denials: 0 });
  });

  it('does not count a level that ended exactly at an interval\'s start as that interval\'s peak', () => {
    const row = (logIndex: number, at: number, kind: string, leaseId: string) => ({ logIndex, at, kind, feature: 'cad', user: 'ann', host: 'h', clientId: 'c1', count: 1, leaseId, waitedMs: 0 });
    const ten = Date.UTC(2026, 0, 6, 10);
    // Three seats from 09:30; two of them end at 10:00 sharp, one at 10:30.
    const rows = [row(1, ten - HOUR / 2, 'checkout', 'A'), row(2, ten - HOUR / 2, 'checkout', 'B'), row(3, ten - HOUR / 2, 'checkout', 'C'), row(4, ten, 'checkin', 'A'), row(5, ten, 'checkin', 'B'), row(6, ten + HOUR / 2, 'checkin', 'C')];
    const lines = computeUsageReport(rows, { fromMs: ten - HOUR, toMs: ten + HOUR, interval: 'hour', asOfMs: ten + HOUR });
    expect(lines.map((l) => [l.peakInUse, l.seatHours])).toEqual([
      [3, 1.5],
      [1, 0.5],
    ]);
  });

  it('gives every hour from `from` to asOf a line, zeros where nothing happened, also for a pool never used', () => {
    const row = (logIndex: number, at: number, kind: string, leaseId: string) => ({ logIndex, at, kind, feature: 'cad', user: 'ann', host: 'h', clientId: 'c1', count: 1, leaseId, waitedMs: 0 });
    const ten = Date.UTC(2026, 0, 6, 10);
    // One seat from 11:15 to 11:45; the report runs 10:00–16:00, the rows up to 13:30.
    const rows = [row(1, ten + 75 * 60_000, 'checkout', 'A'), row(2, ten + 105 * 60_000, 'checkin', 'A')];
    const lines = computeUsageReport(rows, { fromMs: ten, toMs: ten + 6 * HOUR, interval: 'hour', asOfMs: ten + 3.5 * HOUR, features: ['cad', 'plot'] });
    expect(lines.map((l) => [new Date(l.startMs).toISOString().slice(11, 16), l.feature, l.peakInUse, l.seatHours, l.checkouts])).toEqual([
      ['10:00', 'cad', 0, 0, 0],
      ['10:00', 'plot', 0, 0, 0],
      ['11:00', 'cad', 1, 0.5, 1],
      ['11:00', 'plot', 0, 0, 0],
      ['12:00', 'cad', 0, 0, 0],
      ['12:00', 'plot', 0, 0, 0],
      ['13:00', 'cad', 0, 0, 0],
      ['13:00', 'plot', 0, 0, 0],
    ]);
  });

  it(`refuses a report of more than ${REPORT_LINES_MAX.toLocaleString('en-US')} lines with REPORT_TOO_LARGE`, () => {
    const day = Date.UTC(2026, 0, 1);
    const features = Array.from({ length: 20 }, (_, i) => `f${i}`);
    const query = { fromMs: day, toMs: day + 365 * 24 * HOUR, interval: 'hour' as const, asOfMs: day + 365 * 24 * HOUR, features };
    expect(() => computeUsageReport([], query)).toThrow(expect.objectContaining({ code: 'REPORT_TOO_LARGE', message: expect.stringMatching(/175200 lines/) }));
    // The same year per day is 7,300 lines.
    expect(computeUsageReport([], { ...query, interval: 'day' })).toHaveLength(365 * 20);
  });

  it('counts a denial satisfied exactly five minutes later as satisfied', () => {
    const row = (logIndex: number, at: number, kind: string, leaseId = '') => ({ logIndex, at, kind, feature: 'cad', user: 'ann', host: 'h', clientId: 'c1', count: 1, leaseId, waitedMs: 0 });
    const rows = [row(1, T0, 'denial'), row(2, T0 + 300_000, 'checkout', 'L1')];
    expect(computeUsageReport(rows, { fromMs: T0, toMs: T0 + HOUR, interval: 'hour', asOfMs: T0 + HOUR })[0]).toMatchObject({ denials: 0 });
  });
});
