// The download links of a usage report on the Reports page. One request
// answers at most REPORT_PAGE_MAX lines, so a larger report is offered as
// several files, each naming the lines it holds, instead of one download
// that silently stops at the page limit.
import { API_BASE_PATH } from '../api-app.ts';

/** A download link: what it says and where it goes. */
export interface ReportDownload {
  readonly label: string;
  readonly href: string;
}

/**
 * The links to download a report of `total` lines in `format`, at most
 * `linesPerFile` lines a file: one link, or one per part ("lines 1–10,000").
 */
export function reportDownloads(query: Record<string, string>, format: 'csv' | 'json', total: number, linesPerFile: number): ReportDownload[] {
  const name = format.toUpperCase();
  const href = (cursor: number) => `${API_BASE_PATH}/reports/usage?${new URLSearchParams({ ...query, format, limit: String(linesPerFile), ...(cursor > 0 ? { cursor: String(cursor) } : {}) }).toString()}`;
  if (total <= linesPerFile) return [{ label: `Download ${name}`, href: href(0) }];
  const parts: ReportDownload[] = [];
  for (let cursor = 0; cursor < total; cursor += linesPerFile) {
    const last = Math.min(total, cursor + linesPerFile);
    parts.push({ label: `${name} lines ${(cursor + 1).toLocaleString('en-US')}–${last.toLocaleString('en-US')}`, href: href(cursor) });
  }
  return parts;
}
