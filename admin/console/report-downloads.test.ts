// The Reports page's download links: one file while the report fits one
// request, else one file per part, together holding every line once.
import { describe, expect, it } from 'vitest';
import { reportDownloads } from './report-downloads.ts';

const query = { from: '2026-11-01', to: '2026-12-01', interval: 'hour', by: 'user' };
const paramsOf = (href: string) => Object.fromEntries(new URL(href, 'http://console').searchParams);

describe('reportDownloads', () => {
  it('offers one download while the report fits one request', () => {
    const [only, ...rest] = reportDownloads(query, 'csv', 10_000, 10_000);
    expect(rest).toEqual([]);
    expect(only!.label).toBe('Download CSV');
    expect(paramsOf(only!.href)).toEqual({ ...query, format: 'csv', limit: '10000' });
  });

  it('offers a report larger than one request as parts that hold every line exactly once', () => {
    const parts = reportDownloads(query, 'json', 25_001, 10_000);
    expect(parts.map((p) => p.label)).toEqual(['JSON lines 1–10,000', 'JSON lines 10,001–20,000', 'JSON lines 20,001–25,001']);
    expect(parts.map((p) => paramsOf(p.href)['cursor'] ?? '0')).toEqual(['0', '10000', '20000']);
    for (const p of parts) expect(p.href.startsWith('/api/v1/reports/usage?')).toBe(true);
  });
});
