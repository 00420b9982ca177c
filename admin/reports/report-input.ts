// What a usage report reads: the rows from REPORT_LOOKBACK_MS before its
// start (so leases checked out before it are known) to
// DENIAL_SATISFIED_WITHIN_MS after its end (so denials satisfied just after
// it are known), led by a checkout row at the window's start for each lease
// held then: one whose end row is in the window without its checkout, and
// one still held now that was checked out before the window. Pure over the
// `scan` it is given, like the report itself.
//
// The one lease this misses: checked out before the window and ended after
// it (after `to` plus five minutes) — held for longer than the lookback
// plus the report. Its seats are then absent from that closed report.
import { DENIAL_SATISFIED_WITHIN_MS, type ReportUsageRow, type UsageReportQuery } from './usage-report.ts';

/** `ms` before a report's start whose rows it reads, for the leases held at its start. */
export const REPORT_LOOKBACK_MS = 7 * 86_400_000;

/** A lease held now, as the pool lists it. */
export interface HeldLease {
  readonly leaseId: string;
  readonly feature: string;
  readonly user: string;
  readonly host: string;
  readonly clientId: string;
  readonly count: number;
  /** `ms` since the epoch. */
  readonly checkedOutAt: number;
  /** Checked in and lingering: no longer in use for reports. */
  readonly lingering: boolean;
}

/** Where the rows come from: `scan` answers rows with fromMs ≤ at < toMs, oldest first. */
export interface ReportSource {
  scan(range: { readonly fromMs: number; readonly toMs: number; readonly feature?: string }): Iterable<ReportUsageRow>;
  /** The leases held now. */
  readonly heldLeases: readonly HeldLease[];
}

const END_KINDS: ReadonlySet<string> = new Set(['checkin', 'expiry', 'force-checkin', 'revoke']);

/** The rows `query`'s report reads from `source`, in order (two passes over the window). */
export function* reportInput(source: ReportSource, query: Pick<UsageReportQuery, 'fromMs' | 'toMs' | 'feature'>): Generator<ReportUsageRow> {
  const range = {
    fromMs: query.fromMs - REPORT_LOOKBACK_MS,
    toMs: query.toMs + DENIAL_SATISFIED_WITHIN_MS + 1,
    ...(query.feature !== undefined ? { feature: query.feature } : {}),
  };
  // Pass 1: leases that end in the window without having been checked out in it.
  const checkedOut = new Set<string>();
  const heldBefore = new Map<string, ReportUsageRow>();
  for (const r of source.scan(range)) {
    if (r.kind === 'checkout') checkedOut.add(r.leaseId);
    else if (END_KINDS.has(r.kind) && !checkedOut.has(r.leaseId)) heldBefore.set(r.leaseId, r);
  }
  const start = (r: Omit<ReportUsageRow, 'at' | 'logIndex' | 'kind' | 'waitedMs'>): ReportUsageRow => ({ ...r, at: range.fromMs, logIndex: 0, kind: 'checkout', waitedMs: 0 });
  for (const r of heldBefore.values()) yield start(r);
  for (const l of source.heldLeases) {
    if (l.lingering || l.checkedOutAt >= range.fromMs || heldBefore.has(l.leaseId)) continue;
    if (query.feature !== undefined && l.feature !== query.feature) continue;
    yield start(l);
  }
  // Pass 2: the window itself.
  yield* source.scan(range);
}
