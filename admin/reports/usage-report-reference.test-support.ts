// The usage report computed the slow, obvious way, to check
// computeUsageReport against (usage-report.property.test.ts): every lease as
// a [start, end) span, every interval and group examined separately, the
// level recomputed from all leases at each moment that matters; then the
// lines kept: every interval up to asOf (or up to the last with activity)
// of every group with activity somewhere and of every feature asked for.
import { DENIAL_SATISFIED_WITHIN_MS, reportIntervals, type ReportUsageRow, type UsageReportLine, type UsageReportQuery } from './usage-report.ts';

const END_KINDS = ['checkin', 'expiry', 'force-checkin', 'revoke'];

/** A position in the rows: time, then order. */
type Pos = readonly [at: number, order: number];
const before = (a: Pos, b: Pos) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

/** The report of `rows` (in log order), computed without cleverness. */
export function referenceUsageReport(rows: readonly ReportUsageRow[], q: UsageReportQuery): UsageReportLine[] {
  const keyOf = (r: ReportUsageRow) => (q.by === undefined ? '' : q.by === 'app' ? (r.app ?? '') : r[q.by]);
  const mine = rows.map((r, order) => ({ r, pos: [r.at, order] as Pos })).filter(({ r }) => q.feature === undefined || r.feature === q.feature);
  const leases = mine
    .filter(({ r }) => r.kind === 'checkout')
    .map(({ r, pos }) => {
      const end = mine.find((x) => END_KINDS.includes(x.r.kind) && x.r.leaseId === r.leaseId && before(pos, x.pos));
      return { feature: r.feature, key: keyOf(r), count: r.count, start: pos, end: end?.pos ?? ([Infinity, Infinity] as Pos) };
    });
  const groups = new Map<string, { feature: string; key: string }>();
  for (const { r } of mine) groups.set(`${r.feature}\u0000${keyOf(r)}`, { feature: r.feature, key: keyOf(r) });
  const asked = q.by === undefined ? (q.features ?? []).filter((f) => q.feature === undefined || f === q.feature) : [];
  for (const feature of asked) groups.set(`${feature}\u0000`, { feature, key: '' });
  const endMs = Math.min(q.toMs, Math.max(q.asOfMs, q.fromMs));
  const lines: UsageReportLine[] = [];
  const intervals = reportIntervals(q);
  for (const iv of intervals) {
    for (const g of [...groups.values()].sort((a, b) => (a.feature + '\u0000' + a.key < b.feature + '\u0000' + b.key ? -1 : 1))) {
      const own = leases.filter((l) => l.feature === g.feature && l.key === g.key);
      /** Seats held just after position p. */
      const levelAfter = (p: Pos) => own.filter((l) => !before(p, l.start) && before(p, l.end)).reduce((s, l) => s + l.count, 0);
      // Seat-time: the level is constant between the times rows happen; a stretch starting at
      // time a holds the level after every row at a.
      const cuts = [...new Set([iv.startMs, ...mine.map(({ r }) => r.at).filter((t) => t > iv.startMs && t < endMs)])].sort((x, y) => x - y);
      let seatMs = 0;
      let peak = 0;
      for (let i = 0; i < cuts.length; i++) {
        const a = cuts[i]!;
        const b = Math.min(cuts[i + 1] ?? Infinity, iv.endMs, endMs);
        if (b <= a) continue;
        const level = levelAfter([a, Infinity]);
        seatMs += level * (b - a);
        if (level > peak) peak = level;
      }
      let checkouts = 0;
      let denials = 0;
      let queueWaits = 0;
      let waited = 0;
      for (const { r, pos } of mine) {
        if (r.at < iv.startMs || r.at >= iv.endMs || r.feature !== g.feature || keyOf(r) !== g.key) continue;
        if (r.kind === 'checkout') {
          checkouts++;
          peak = Math.max(peak, levelAfter(pos));
        }
        if (r.kind === 'queue-wait') {
          queueWaits++;
          waited += r.waitedMs;
        }
        if (r.kind === 'denial') {
          const satisfied = mine.some((x) => x.r.kind === 'checkout' && x.r.clientId === r.clientId && x.r.feature === r.feature && x.r.logIndex > r.logIndex && x.r.at <= r.at + DENIAL_SATISFIED_WITHIN_MS);
          if (!satisfied) denials++;
        }
      }
      const elapsedMs = Math.min(iv.endMs, endMs) - iv.startMs;
      lines.push({
        startMs: iv.startMs,
        endMs: iv.endMs,
        feature: g.feature,
        key: g.key,
        peakInUse: peak,
        averageInUse: elapsedMs > 0 ? seatMs / elapsedMs : 0,
        seatHours: seatMs / 3_600_000,
        checkouts,
        denials,
        queueWaits,
        queueWaitMsAvg: queueWaits > 0 ? waited / queueWaits : 0,
      });
    }
  }
  const active = (l: UsageReportLine) => l.seatHours !== 0 || l.peakInUse !== 0 || l.checkouts !== 0 || l.denials !== 0 || l.queueWaits !== 0;
  const kept = (l: UsageReportLine) => asked.includes(l.feature) || lines.some((m) => m.feature === l.feature && m.key === l.key && active(m));
  const lastMs = Math.max(...intervals.filter((iv) => iv.startMs < endMs || lines.some((l) => l.startMs === iv.startMs && kept(l) && active(l))).map((iv) => iv.startMs));
  return lines.filter((l) => kept(l) && l.startMs <= lastMs);
}
