// Usage history of one feature: peak and average seats in use per interval
// with the true denials on the same axis (a uPlot chart, drawn by the island
// in console.js from the report embedded in the page), and the utilization
// histogram — the share of time N seats were in use. Both come from the
// report routes (GET /reports/usage, /reports/utilization).
import type { Context } from 'hono';
import { IslandData, Page } from '../console-page.tsx';
import type { ConsoleDeps, ConsoleEnv } from '../console-env.ts';
import { pageOf } from '../console-context.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The ranges the page offers, with the interval each is drawn in. */
const RANGES = {
  day: { label: 'Last 24 hours', spanMs: DAY_MS, interval: 'hour' },
  week: { label: 'Last 7 days', spanMs: 7 * DAY_MS, interval: 'hour' },
  month: { label: 'Last 30 days', spanMs: 30 * DAY_MS, interval: 'day' },
  custom: { label: 'From … to …', spanMs: 0, interval: 'day' },
} as const;
type Range = keyof typeof RANGES;
/** Longest period drawn in hours before the chart switches to days. */
const HOURLY_SPAN_MAX_MS = 14 * DAY_MS;

/** GET /usage?feature&range=day|week|month|custom&from&to */
export async function usagePage(c: Context<ConsoleEnv>, deps: ConsoleDeps) {
  const { api, principal, csrf, reads } = pageOf(c, deps);
  const pools = await reads.read((q) => api.pools.$get({ query: q }));
  const features = [...new Set(pools.map((p) => p.feature))];
  const feature = c.req.query('feature') ?? features[0] ?? '';
  const rangeParam = c.req.query('range') ?? 'week';
  const range: Range = rangeParam in RANGES ? (rangeParam as Range) : 'week';
  const nowMs = Date.now();
  let fromMs = nowMs - RANGES[range].spanMs;
  let toMs = nowMs;
  let interval: 'hour' | 'day' = RANGES[range].interval;
  if (range === 'custom') {
    fromMs = Date.parse(`${c.req.query('from') ?? ''}T00:00:00Z`);
    toMs = Date.parse(`${c.req.query('to') ?? ''}T00:00:00Z`) + DAY_MS;
    if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || toMs <= fromMs) {
      fromMs = nowMs - 7 * DAY_MS;
      toMs = nowMs;
    }
    interval = toMs - fromMs <= HOURLY_SPAN_MAX_MS ? 'hour' : 'day';
  }
  const period = { from: String(fromMs), to: String(toMs) };
  const answered = feature === '' ? undefined : await reads.read((q) => api.reports.usage.$get({ query: { ...q, ...period, feature, interval, limit: '10000' } }));
  // JSON was asked for (the route's other answer is CSV text).
  const report = typeof answered === 'string' ? undefined : answered;
  const utilization = feature === '' ? undefined : await reads.read((q) => api.reports.utilization.$get({ query: { ...q, ...period, feature } }));
  const seatsTotal = pools.filter((p) => p.feature === feature).reduce((s, p) => s + p.seatsTotal, 0);
  // The report has a line for every interval of the period up to now, zeros where the feature was idle.
  const lines = report?.lines ?? [];
  const chart = {
    feature,
    interval,
    seatsTotal,
    /** `s` since the epoch: the x axis' span, the whole period asked for. */
    xRange: [fromMs / 1000, toMs / 1000],
    x: lines.map((l) => Date.parse(l.start) / 1000),
    peak: lines.map((l) => l.peakInUse),
    average: lines.map((l) => l.averageInUse),
    denials: lines.map((l) => l.denials),
    levels: (utilization?.levels ?? []).map((l) => l.seatsInUse),
    shares: (utilization?.levels ?? []).map((l) => Math.round(l.share * 1000) / 10),
  };
  const sum = (k: 'checkouts' | 'denials') => lines.reduce((s, l) => s + l[k], 0);
  return c.html(
    <Page title="Usage history" nav="usage" principal={principal} csrf={csrf} freshness={reads.freshness()} scripts={['/assets/uplot.css', '/assets/uplot.js']}>
      <form method="get" action="/usage" class="filters">
        <span>
          <label for="feature">Feature</label>
          <select id="feature" name="feature">
            {features.map((f) => (
              <option value={f} selected={f === feature}>
                {f}
              </option>
            ))}
          </select>
        </span>
        <span>
          <label for="range">Period</label>
          <select id="range" name="range">
            {(Object.keys(RANGES) as Range[]).map((r) => (
              <option value={r} selected={r === range}>
                {RANGES[r].label}
              </option>
            ))}
          </select>
        </span>
        <span>
          <label for="from">From</label>
          <input id="from" name="from" type="date" value={new Date(fromMs).toISOString().slice(0, 10)} />
        </span>
        <span>
          <label for="to">To</label>
          <input id="to" name="to" type="date" value={new Date(toMs - 1).toISOString().slice(0, 10)} />
        </span>
        <button type="submit">Show</button>
      </form>
      {feature === '' ? (
        <p class="muted">No feature yet: import a license.</p>
      ) : (
        <>
          <p class="muted">
            {feature}: {seatsTotal} seats licensed; in this period {sum('checkouts')} checkouts and {sum('denials')} true denials, per {interval}.
          </p>
          <figure>
            <div id="usage-chart" class="chart" data-usage-chart role="img" aria-label={`Peak and average seats in use of ${feature}, with denials`}></div>
            <figcaption>Peak and average seats in use per {interval}, and denials on the same axis.</figcaption>
          </figure>
          <figure>
            <div id="utilization-chart" class="chart small-chart" data-utilization-chart role="img" aria-label={`Share of time each number of ${feature} seats was in use`}></div>
            <figcaption>Share of time that N seats were in use: the seats needed to serve most of the time.</figcaption>
          </figure>
          <table class="compact">
            <caption>Utilization</caption>
            <thead>
              <tr>
                <th scope="col">Seats in use</th>
                <th scope="col">Share of time</th>
              </tr>
            </thead>
            <tbody>
              {chart.levels.map((n, i) => (
                <tr>
                  <td>{n}</td>
                  <td>{chart.shares[i]} %</td>
                </tr>
              ))}
            </tbody>
          </table>
          <IslandData id="usage-data" value={chart} />
        </>
      )}
    </Page>,
  );
}
