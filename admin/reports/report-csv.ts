// Usage reports as CSV (RFC 4180): fields with a comma, quote or line break
// are quoted; a field a spreadsheet would run as a formula (=, +, -, @, tab,
// carriage return first) gets a leading apostrophe, since user and host
// names come from clients.
import type { UsageReportLine } from './usage-report.ts';

/** One CSV field. */
export function csvField(value: string | number): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The CSV text of report lines; `keyColumn`: the breakdown's column name (user, host, app), if any. */
export function reportCsv(lines: readonly UsageReportLine[], keyColumn: string | undefined): string {
  const header = ['start', 'end', 'feature', ...(keyColumn !== undefined ? [keyColumn] : []), 'peak_in_use', 'average_in_use', 'seat_hours', 'checkouts', 'denials', 'queue_waits', 'queue_wait_ms_avg'];
  const out = [header.join(',')];
  for (const l of lines) {
    out.push(
      [
        new Date(l.startMs).toISOString(),
        new Date(l.endMs).toISOString(),
        l.feature,
        ...(keyColumn !== undefined ? [l.key] : []),
        l.peakInUse,
        round3(l.averageInUse),
        round3(l.seatHours),
        l.checkouts,
        l.denials,
        l.queueWaits,
        Math.round(l.queueWaitMsAvg),
      ]
        .map(csvField)
        .join(','),
    );
  }
  return `${out.join('\r\n')}\r\n`;
}

/** `n` with at most three decimals. */
export function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
