// Usage reports, a pure function of usage rows (DESIGN.md "Growing it"): per
// interval (an hour or a UTC day) and feature — or feature and user, host or
// app — the peak and average seats in use, seat-hours, checkouts, true
// denials and queue waits. No clock, no I/O: the same rows and query give
// the same report on every node, which is what makes a closed interval's
// report the same whichever node answers. usage-report-reference.test-support.ts
// computes the same thing the slow, obvious way; a property test compares them.
//
// Definitions (docs/admin-api.md "Usage reports"):
// - A lease holds `count` seats from its checkout row to the row that ends it
//   (checkin, expiry, force-checkin, revoke); one without an end row is held
//   until `asOfMs`. The caller gives a checkout row (at the rows' start) for
//   each lease held when its rows begin (report-rows.ts); an end row of a
//   lease never checked out in the rows is ignored. Rows at the same `at`
//   apply in log order.
// - peak: the most seats held at once in the interval: every level held for
//   some time in it (so also one carried in from before it), and the level
//   right after each checkout in it (even if another row at the same
//   millisecond ends a lease). average: seat-time over the part of the
//   interval up to asOfMs, divided by that duration. seatHours: seat-time in
//   hours. Rows are never after asOfMs.
// - A denial is true unless the same client (clientId) checks the same feature
//   out after it within DENIAL_SATISFIED_WITHIN_MS (it got its seat by
//   retrying, waiting or from another version's pool).
// - checkouts and queueWaits count rows; queueWaitMsAvg averages their waits.
// - Lines: one per interval for each feature (or feature and user, host or
//   app) with anything in the report, and for each of `features`, zeros in
//   the intervals where nothing happened, so a chart has every interval.
//   Intervals run from fromMs to toMs but not past asOfMs: what has not
//   happened yet is not a zero. At most REPORT_LINES_MAX lines.

/** The fields of a usage row a report reads. */
export interface ReportUsageRow {
  readonly logIndex: number;
  /** `ms` since the epoch. */
  readonly at: number;
  readonly kind: string;
  readonly feature: string;
  readonly user: string;
  readonly host: string;
  /** The client's application, when the row records it. */
  readonly app?: string;
  readonly clientId: string;
  readonly count: number;
  readonly leaseId: string;
  readonly waitedMs: number;
}

/** What to report. */
export interface UsageReportQuery {
  /** `ms` since the epoch, inclusive. */
  readonly fromMs: number;
  /** `ms` since the epoch, exclusive. */
  readonly toMs: number;
  readonly interval: 'hour' | 'day';
  /** One feature only; every feature when undefined. */
  readonly feature?: string;
  /** Break each feature down by this field of the rows. */
  readonly by?: 'user' | 'host' | 'app';
  /** `ms`: how far the rows go (the replicated time of the last applied command); leases without an end row are held until then. */
  readonly asOfMs: number;
  /** Features reported even where their rows show nothing (the pools installed now), a line per interval each; ignored with `by`. */
  readonly features?: readonly string[];
}

/** One line of a report. */
export interface UsageReportLine {
  /** `ms` since the epoch: the interval's start (clipped to fromMs). */
  readonly startMs: number;
  /** `ms` since the epoch: its end (clipped to toMs). */
  readonly endMs: number;
  readonly feature: string;
  /** The user, host or app of a breakdown; '' without `by`. */
  readonly key: string;
  readonly peakInUse: number;
  readonly averageInUse: number;
  readonly seatHours: number;
  readonly checkouts: number;
  readonly denials: number;
  readonly queueWaits: number;
  readonly queueWaitMsAvg: number;
}

/** `ms` after a denial within which the same client's checkout of the feature makes it no true denial. */
export const DENIAL_SATISFIED_WITHIN_MS = 5 * 60_000;
/** Intervals in one report, at most (a year of hours). */
export const REPORT_INTERVALS_MAX = 366 * 24;
/** Report cells (intervals × groups with activity), at most. */
export const REPORT_CELLS_MAX = 1_000_000;
/** Lines of one report (intervals × features, or × users, hosts or apps), at most: a year of hours for eleven features, or a thousand users' days for three months. */
export const REPORT_LINES_MAX = 100_000;

/** Kinds of the rows that end a lease. */
const END_KINDS: ReadonlySet<string> = new Set(['checkin', 'expiry', 'force-checkin', 'revoke']);
const HOUR_MS = 3_600_000;
const INTERVAL_MS = { hour: HOUR_MS, day: 24 * HOUR_MS } as const;

/** A report that would exceed a limit: the caller narrows it. */
export class ReportTooLargeError extends Error {
  readonly code = 'REPORT_TOO_LARGE';
  override readonly name = 'ReportTooLargeError';
}

/**
 * The interval boundaries of `query`: aligned to the hour or the UTC day, clipped to [fromMs, toMs);
 * with `untilMs`, only those starting at or before it (a period reaching into the future ends now).
 */
export function reportIntervals(query: Pick<UsageReportQuery, 'fromMs' | 'toMs' | 'interval'> & { readonly untilMs?: number }): { startMs: number; endMs: number }[] {
  const step = INTERVAL_MS[query.interval];
  const first = Math.floor(query.fromMs / step) * step;
  let count = Math.max(0, Math.ceil((query.toMs - first) / step));
  if (query.untilMs !== undefined) count = Math.min(count, Math.max(0, Math.floor((query.untilMs - first) / step) + 1));
  if (count > REPORT_INTERVALS_MAX) throw new ReportTooLargeError(`${count} intervals of an ${query.interval}; at most ${REPORT_INTERVALS_MAX}: narrow from/to or use a longer interval`);
  const out: { startMs: number; endMs: number }[] = [];
  for (let i = 0; i < count; i++) out.push({ startMs: Math.max(query.fromMs, first + i * step), endMs: Math.min(query.toMs, first + (i + 1) * step) });
  return out;
}

interface Cell {
  peak: number;
  seatMs: number;
  checkouts: number;
  denials: number;
  queueWaits: number;
  queueWaitMsTotal: number;
}

interface Group {
  readonly feature: string;
  readonly key: string;
  level: number;
  /** `ms` since the level last changed (−Infinity: before every row). */
  sinceMs: number;
  readonly cells: Map<number, Cell>;
}

interface PendingDenial {
  readonly atMs: number;
  readonly logIndex: number;
  readonly group: Group;
  satisfied: boolean;
}

/**
 * The report of `rows` (sorted by `at`, then `logIndex`; they may start before
 * fromMs and go past toMs: earlier rows say which leases are held at the
 * start, later ones which denials were satisfied). Throws ReportTooLargeError.
 */
export function computeUsageReport(rows: Iterable<ReportUsageRow>, query: UsageReportQuery): UsageReportLine[] {
  const step = INTERVAL_MS[query.interval];
  const first = Math.floor(query.fromMs / step) * step;
  const endMs = Math.min(query.toMs, Math.max(query.asOfMs, query.fromMs));
  // Nothing happens after asOf: the intervals after it are neither counted nor reported.
  const intervals = reportIntervals({ ...query, untilMs: endMs });
  const groups = new Map<string, Group>();
  const leases = new Map<string, { group: Group; count: number }>();
  const pendingByClient = new Map<string, PendingDenial[]>();
  const pending: PendingDenial[] = [];
  let pendingHead = 0;
  let cellCount = 0;
  let lastAt = -Infinity;
  let lastIndex = -Infinity;

  const intervalOf = (t: number) => Math.floor((t - first) / step);
  const inReport = (t: number) => t >= query.fromMs && t < query.toMs;
  const cell = (g: Group, i: number): Cell => {
    let c = g.cells.get(i);
    if (c === undefined) {
      if (++cellCount > REPORT_CELLS_MAX) throw new ReportTooLargeError(`more than ${REPORT_CELLS_MAX} report cells: narrow the report (a feature, fewer intervals, no breakdown)`);
      c = { peak: 0, seatMs: 0, checkouts: 0, denials: 0, queueWaits: 0, queueWaitMsTotal: 0 };
      g.cells.set(i, c);
    }
    return c;
  };
  const groupOf = (feature: string, key: string): Group => {
    const id = `${feature}\u0000${key}`;
    let g = groups.get(id);
    if (g === undefined) {
      g = { feature, key, level: 0, sinceMs: -Infinity, cells: new Map() };
      groups.set(id, g);
    }
    return g;
  };
  /** Accounts g's level from g.sinceMs to `t` (clipped to the report and asOf). */
  const advance = (g: Group, t: number) => {
    if (g.level > 0) {
      const a = Math.max(g.sinceMs, query.fromMs);
      const b = Math.min(t, endMs);
      if (b > a) {
        for (let i = intervalOf(a); i <= intervalOf(b - 1) && i < intervals.length; i++) {
          const iv = intervals[i]!;
          const overlap = Math.min(b, iv.endMs) - Math.max(a, iv.startMs);
          if (overlap <= 0) continue;
          const c = cell(g, i);
          c.seatMs += g.level * overlap;
          if (g.level > c.peak) c.peak = g.level;
        }
      }
    }
    g.sinceMs = t;
  };
  const setLevel = (g: Group, t: number, level: number) => {
    advance(g, t);
    const rose = level > g.level;
    g.level = level;
    // A level reached by a checkout counts even if it lasts no time; a lower one counts once it is held.
    if (rose && inReport(t)) {
      const c = cell(g, intervalOf(t));
      if (level > c.peak) c.peak = level;
    }
  };
  const settleDenials = (beforeMs: number) => {
    while (pendingHead < pending.length && pending[pendingHead]!.atMs + DENIAL_SATISFIED_WITHIN_MS < beforeMs) {
      const d = pending[pendingHead++]!;
      if (!d.satisfied) cell(d.group, intervalOf(d.atMs)).denials++;
    }
  };
  const keyOf = (r: ReportUsageRow) => (query.by === undefined ? '' : query.by === 'app' ? (r.app ?? '') : r[query.by]);

  for (const r of rows) {
    if (r.at < lastAt || (r.at === lastAt && r.logIndex < lastIndex)) throw new Error('assert: usage rows out of order');
    lastAt = r.at;
    lastIndex = r.logIndex;
    if (query.feature !== undefined && r.feature !== query.feature) continue;
    settleDenials(r.at);
    if (r.kind === 'checkout') {
      const g = groupOf(r.feature, keyOf(r));
      leases.set(r.leaseId, { group: g, count: r.count });
      setLevel(g, r.at, g.level + r.count);
      if (inReport(r.at)) cell(g, intervalOf(r.at)).checkouts++;
      for (const d of pendingByClient.get(`${r.clientId}\u0000${r.feature}`) ?? []) {
        if (r.at <= d.atMs + DENIAL_SATISFIED_WITHIN_MS && r.logIndex > d.logIndex) d.satisfied = true;
      }
    } else if (END_KINDS.has(r.kind)) {
      const lease = leases.get(r.leaseId);
      // A lease whose checkout row is not among the rows is unknown here: the caller gives a
      // checkout row (at the rows' start) for each lease held when its rows begin.
      if (lease === undefined) continue;
      leases.delete(r.leaseId);
      setLevel(lease.group, r.at, lease.group.level - lease.count);
    } else if (r.kind === 'denial') {
      if (!inReport(r.at)) continue;
      const d: PendingDenial = { atMs: r.at, logIndex: r.logIndex, group: groupOf(r.feature, keyOf(r)), satisfied: false };
      pending.push(d);
      const k = `${r.clientId}\u0000${r.feature}`;
      const list = pendingByClient.get(k);
      if (list === undefined) pendingByClient.set(k, [d]);
      else list.push(d);
    } else if (r.kind === 'queue-wait') {
      if (!inReport(r.at)) continue;
      const c = cell(groupOf(r.feature, keyOf(r)), intervalOf(r.at));
      c.queueWaits++;
      c.queueWaitMsTotal += r.waitedMs;
    }
    if (pendingHead > 1024 && pendingHead * 2 > pending.length) {
      pending.splice(0, pendingHead);
      pendingHead = 0;
      for (const [k, list] of pendingByClient) {
        const kept = list.filter((d) => d.atMs + DENIAL_SATISFIED_WITHIN_MS >= lastAt);
        if (kept.length === 0) pendingByClient.delete(k);
        else pendingByClient.set(k, kept);
      }
    }
  }
  settleDenials(Infinity);
  for (const g of groups.values()) advance(g, Infinity);

  // Zero-fill: every group with anything in the report (a cell), and each feature asked for, over
  // every interval up to asOf (and up to the last with activity: a checkout at asOf exactly).
  if (query.by === undefined) for (const feature of query.features ?? []) if (query.feature === undefined || feature === query.feature) groupOf(feature, '');
  const ordered = [...groups.values()].filter((g) => g.cells.size > 0 || (query.by === undefined && query.features?.includes(g.feature) === true));
  ordered.sort((a, b) => (a.feature < b.feature ? -1 : a.feature > b.feature ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  let intervalCount = 0;
  while (intervalCount < intervals.length && intervals[intervalCount]!.startMs < endMs) intervalCount++;
  for (const g of ordered) for (const i of g.cells.keys()) intervalCount = Math.max(intervalCount, i + 1);
  if (intervalCount * ordered.length > REPORT_LINES_MAX) {
    throw new ReportTooLargeError(`${intervalCount * ordered.length} lines (${intervalCount} intervals × ${ordered.length} ${query.by ?? 'feature'}s); at most ${REPORT_LINES_MAX}: narrow from/to, use a longer interval, or name a feature`);
  }
  const lines: UsageReportLine[] = [];
  const zero: Cell = { peak: 0, seatMs: 0, checkouts: 0, denials: 0, queueWaits: 0, queueWaitMsTotal: 0 };
  for (let i = 0; i < intervalCount; i++) {
    const iv = intervals[i]!;
    const elapsedMs = Math.min(iv.endMs, endMs) - iv.startMs;
    for (const g of ordered) {
      const c = g.cells.get(i) ?? zero;
      lines.push({
        startMs: iv.startMs,
        endMs: iv.endMs,
        feature: g.feature,
        key: g.key,
        peakInUse: c.peak,
        averageInUse: elapsedMs > 0 ? c.seatMs / elapsedMs : 0,
        seatHours: c.seatMs / HOUR_MS,
        checkouts: c.checkouts,
        denials: c.denials,
        queueWaits: c.queueWaits,
        queueWaitMsAvg: c.queueWaits > 0 ? c.queueWaitMsTotal / c.queueWaits : 0,
      });
    }
  }
  return lines;
}
