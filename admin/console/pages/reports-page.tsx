// Reports: choose a period, interval and breakdown; download the usage
// report as CSV or JSON (links straight to GET /api/v1/reports/usage, which
// the browser's session authorizes; a report beyond one request's lines as
// several files), with the first lines shown.
import type { Context } from 'hono';
import { Page } from '../console-page.tsx';
import type { ConsoleDeps, ConsoleEnv } from '../console-env.ts';
import { pageOf } from '../console-context.ts';
import { reportDownloads } from '../report-downloads.ts';
import { REPORT_PAGE_MAX } from '../../routes/report-routes.ts';

/** Lines previewed on the page. */
const PREVIEW_LINES = 50;

/** GET /reports?feature&from&to&interval&by */
export async function reportsPage(c: Context<ConsoleEnv>, deps: ConsoleDeps) {
  const { api, principal, csrf, reads } = pageOf(c, deps);
  const pools = await reads.read((q) => api.pools.$get({ query: q }));
  const features = [...new Set(pools.map((p) => p.feature))];
  const today = new Date().toISOString().slice(0, 10);
  const weekAgo = new Date(Date.now() - 7 * 86_400_000).toISOString().slice(0, 10);
  const valid = (v: string | undefined, re: RegExp, fallback: string) => (v !== undefined && re.test(v) ? v : fallback);
  const params = {
    feature: valid(c.req.query('feature'), /^[\w.\-]{1,64}$/, ''),
    from: valid(c.req.query('from'), /^\d{4}-\d{2}-\d{2}$/, weekAgo),
    to: valid(c.req.query('to'), /^\d{4}-\d{2}-\d{2}$/, today),
    interval: valid(c.req.query('interval'), /^(hour|day)$/, 'day') as 'hour' | 'day',
    by: valid(c.req.query('by'), /^(user|host|app)$/, ''),
  };
  // `to` is a day: the report runs to its end.
  const toExclusive = new Date(Date.parse(`${params.to}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  const query = { from: params.from, to: toExclusive, interval: params.interval, ...(params.feature !== '' ? { feature: params.feature } : {}), ...(params.by !== '' ? { by: params.by as 'user' } : {}) };
  const answered = await reads.read((q) => api.reports.usage.$get({ query: { ...q, ...query, limit: String(PREVIEW_LINES) } }));
  const report = typeof answered === 'string' ? undefined : answered;
  const total = report?.total ?? 0;
  const downloads = (['csv', 'json'] as const).flatMap((format) => reportDownloads(query, format, total, REPORT_PAGE_MAX));
  return c.html(
    <Page title="Reports" nav="reports" principal={principal} csrf={csrf} freshness={reads.freshness()}>
      <form method="get" action="/reports" class="filters">
        <span>
          <label for="feature">Feature</label>
          <select id="feature" name="feature">
            <option value="">every feature</option>
            {features.map((f) => (
              <option value={f} selected={f === params.feature}>
                {f}
              </option>
            ))}
          </select>
        </span>
        <span>
          <label for="from">From</label>
          <input id="from" name="from" type="date" value={params.from} />
        </span>
        <span>
          <label for="to">To (inclusive)</label>
          <input id="to" name="to" type="date" value={params.to} />
        </span>
        <span>
          <label for="interval">Per</label>
          <select id="interval" name="interval">
            <option value="day" selected={params.interval === 'day'}>
              day
            </option>
            <option value="hour" selected={params.interval === 'hour'}>
              hour
            </option>
          </select>
        </span>
        <span>
          <label for="by">Break down by</label>
          <select id="by" name="by">
            {['', 'user', 'host', 'app'].map((b) => (
              <option value={b} selected={b === params.by}>
                {b === '' ? 'nothing' : b}
              </option>
            ))}
          </select>
        </span>
        <button type="submit">Show</button>
      </form>
      <p class="actions">
        {downloads.map((d) => (
          <a class="button" href={d.href} download>
            {d.label}
          </a>
        ))}
        <span class="muted">
          {total} lines{total > REPORT_PAGE_MAX ? ` (${REPORT_PAGE_MAX.toLocaleString('en-US')} a file)` : ''}; true denials only; times in UTC.
        </span>
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">Start</th>
            <th scope="col">Feature</th>
            {params.by !== '' && <th scope="col">{params.by}</th>}
            <th scope="col">Peak</th>
            <th scope="col">Average</th>
            <th scope="col">Seat-hours</th>
            <th scope="col">Checkouts</th>
            <th scope="col">Denials</th>
            <th scope="col">Queue waits</th>
          </tr>
        </thead>
        <tbody>
          {(report?.lines ?? []).map((l) => (
            <tr>
              <td>{l.start.slice(0, 16).replace('T', ' ')}</td>
              <td>{l.feature}</td>
              {params.by !== '' && <td>{(l as Record<string, unknown>)[params.by] as string}</td>}
              <td>{l.peakInUse}</td>
              <td>{l.averageInUse}</td>
              <td>{l.seatHours}</td>
              <td>{l.checkouts}</td>
              <td>{l.denials}</td>
              <td>{l.queueWaits}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {(report?.total ?? 0) > PREVIEW_LINES && <p class="muted">The first {PREVIEW_LINES} lines; download for all.</p>}
    </Page>,
  );
}
