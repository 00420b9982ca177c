// The utilization histogram: for how much of a period exactly N seats of a
// feature were in use, for each N — the figure that answers "how many seats
// do we need?" (if 12 were in use only 1 % of the time, 11 would do). A pure
// function of usage rows with the same lease rules as usage-report.ts; the
// property test checks it against the report's average (Σ N × time ÷ period).
import type { ReportUsageRow } from './usage-report.ts';

/** Time at one level. */
export interface UtilizationLevel {
  readonly seatsInUse: number;
  /** `ms` the feature spent at exactly this many seats in use. */
  readonly ms: number;
}

const END_KINDS: ReadonlySet<string> = new Set(['checkin', 'expiry', 'force-checkin', 'revoke']);

/**
 * Time at each level from 0 to the highest reached, over [fromMs, min(toMs,
 * asOfMs)), for `feature`'s rows (sorted by `at`, then `logIndex`; a
 * checkout row for each lease held when they begin, as for the report).
 */
export function utilizationHistogram(rows: Iterable<ReportUsageRow>, q: { readonly fromMs: number; readonly toMs: number; readonly asOfMs: number; readonly feature: string }): UtilizationLevel[] {
  const endMs = Math.min(q.toMs, Math.max(q.asOfMs, q.fromMs));
  const msAtLevel: number[] = [];
  const leases = new Map<string, number>();
  let level = 0;
  let sinceMs = -Infinity;
  const account = (t: number) => {
    const a = Math.max(sinceMs, q.fromMs);
    const b = Math.min(t, endMs);
    if (b > a) msAtLevel[level] = (msAtLevel[level] ?? 0) + (b - a);
    sinceMs = t;
  };
  for (const r of rows) {
    if (r.feature !== q.feature) continue;
    if (r.kind === 'checkout') {
      account(r.at);
      leases.set(r.leaseId, r.count);
      level += r.count;
    } else if (END_KINDS.has(r.kind)) {
      const count = leases.get(r.leaseId);
      if (count === undefined) continue;
      account(r.at);
      leases.delete(r.leaseId);
      level -= count;
    }
  }
  account(Infinity);
  return Array.from({ length: msAtLevel.length }, (_, n) => ({ seatsInUse: n, ms: msAtLevel[n] ?? 0 }));
}
