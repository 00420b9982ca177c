// The console's islands of client script, plain JavaScript with no build
// step. Each finds its element by a data- attribute and does nothing on
// pages without one:
// - [data-live-pools]: the pools table follows GET /api/v1/events (server-
//   sent events; the browser's EventSource reconnects by itself), no polling;
//   each `pools` event carries the pools that changed (every pool when
//   `full`), and a busy site's events beyond a few a second are counted;
// - [data-usage-chart], [data-utilization-chart]: uPlot charts of the report
//   embedded in the page (#usage-data);
// - [data-api-reference]: Swagger UI over /api/v1/openapi.json, sending the
//   page's CSRF token with the changes it tries out.
'use strict';

const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
/** Events listed on the pools page, at most. */
const EVENTS_SHOWN_MAX = 30;

function livePools(table) {
  const status = document.querySelector('[data-live-status]');
  const list = document.querySelector('[data-live-events]');
  const source = new EventSource('/api/v1/events');
  source.addEventListener('open', () => status && (status.textContent = 'Live: connected.'));
  source.addEventListener('error', () => status && (status.textContent = 'Live: reconnecting…'));
  source.addEventListener('pools', (e) => {
    const data = JSON.parse(e.data);
    if (status) {
      const lag = data.role === 'leader' ? '' : ` — this node is a ${data.role}, ${data.lagEntries} entries behind the leader's commit`;
      status.textContent = `Live: node ${data.nodeId} (${data.role}), applied index ${data.appliedIndex}${lag}.`;
    }
    const body = table.tBodies[0];
    // A full list (at once, after a gap or a leadership change) names every pool: a row it lacks is a pool removed.
    if (data.full) {
      const listed = new Set(data.pools.map((p) => `${p.feature}@${p.version}`));
      for (const row of body.querySelectorAll('tr[data-pool]')) if (!listed.has(row.getAttribute('data-pool'))) row.remove();
    }
    // Otherwise it carries only the pools whose figures changed.
    for (const p of data.pools) {
      const key = `${p.feature}@${p.version}`;
      let row = body.querySelector(`tr[data-pool="${CSS.escape(key)}"]`);
      if (!row) {
        // A pool that appeared since the page loaded: reload for its whole row.
        location.reload();
        return;
      }
      let changed = false;
      // Reserved and borrowed have cells only where the pools report them (seat policy).
      for (const field of ['seatsInUse', 'seatsTotal', 'queued', 'seatsLingering', 'seatsReservedIdle', 'seatsBorrowed']) {
        const cell = row.querySelector(`[data-field="${field}"]`);
        if (cell && p[field] !== undefined && cell.textContent !== String(p[field])) {
          cell.textContent = String(p[field]);
          changed = true;
        }
      }
      const meter = row.querySelector('meter');
      if (meter) {
        meter.max = Math.max(1, p.seatsTotal);
        meter.high = Math.max(1, p.seatsTotal) * 0.95;
        meter.value = p.seatsInUse;
      }
      if (changed) {
        row.classList.add('changed');
        setTimeout(() => row.classList.remove('changed'), 1200);
      }
    }
  });
  const show = (text) => {
    if (!list) return;
    const li = document.createElement('li');
    li.textContent = `${new Date().toISOString().slice(11, 19)} UTC — ${text}`;
    li.className = 'fresh';
    list.prepend(li);
    setTimeout(() => li.classList.remove('fresh'), 1500);
    while (list.children.length > EVENTS_SHOWN_MAX) list.lastElementChild.remove();
  };
  source.addEventListener('checkout', (e) => {
    const d = JSON.parse(e.data);
    show(`${d.user}@${d.host} checked out ${d.count} ${d.feature}`);
  });
  source.addEventListener('checkin', (e) => {
    const d = JSON.parse(e.data);
    show(`${d.user}@${d.host} gave back ${d.count} ${d.feature} (${d.reason}${d.detail ? `: ${d.detail}` : ''})`);
  });
  source.addEventListener('denial', (e) => {
    const d = JSON.parse(e.data);
    show(`${d.user}@${d.host} was refused ${d.feature}: ${d.code}`);
  });
  source.addEventListener('leader', (e) => {
    const d = JSON.parse(e.data);
    show(`leader is now ${d.leaderId || 'unknown'} (term ${d.term})`);
  });
  source.addEventListener('dropped', (e) => {
    const d = JSON.parse(e.data);
    const kinds = Object.entries(d.byEvent ?? {}).map(([event, n]) => `${n} ${event}`).join(', ');
    show(`${d.count} more events not listed here${kinds ? ` (${kinds})` : ''}; the table is current`);
  });
  source.addEventListener('gap', () => show('some events were skipped (this page fell behind); the table is current'));
}

/** `seconds` since the epoch as the reports write it, in UTC: "2026-12-04" when `dayOnly`, else "2026-12-04 09:00". */
function utcText(seconds, dayOnly) {
  const iso = new Date(seconds * 1000).toISOString();
  return dayOnly ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/** uPlot's x-axis labels in UTC: dates for day ticks; else the time, with the date under the first tick of each day. */
function utcTicks(u, splits, axis, space, incr) {
  let lastDay = '';
  return splits.map((v) => {
    const text = utcText(v, false);
    const day = text.slice(0, 10);
    if (incr >= 86400) return day;
    const firstOfDay = day !== lastDay;
    lastDay = day;
    return firstOfDay ? `${text.slice(11)}\n${day}` : text.slice(11);
  });
}

function usageCharts() {
  const dataEl = document.getElementById('usage-data');
  if (!dataEl || typeof uPlot === 'undefined') return;
  const d = JSON.parse(dataEl.textContent);
  const usageEl = document.querySelector('[data-usage-chart]');
  if (usageEl) {
    const width = usageEl.clientWidth - 16;
    const bars = uPlot.paths.bars({ size: [0.6, 40] });
    new uPlot(
      {
        width,
        height: 320,
        scales: { x: { time: true, range: () => d.xRange }, y: { range: (u, min, max) => [0, Math.max(max, d.seatsTotal, 1)] } },
        series: [
          { label: 'UTC', value: (u, v) => (v == null ? '' : utcText(v, false)) },
          { label: 'peak in use', stroke: '#2457c5', width: 2, paths: uPlot.paths.stepped({ align: 1 }) },
          { label: 'average in use', stroke: '#1f7a4d', width: 2 },
          { label: 'denials', stroke: '#b42318', fill: 'rgba(180,35,24,0.35)', paths: bars, points: { show: false } },
        ],
        // Dates as the reports write them (ISO 8601, UTC), not the browser's locale.
        axes: [{ label: 'UTC', space: 70, size: 62, values: utcTicks }, { label: 'seats' }],
      },
      [d.x, d.peak, d.average, d.denials],
      usageEl,
    );
  }
  const utilEl = document.querySelector('[data-utilization-chart]');
  if (utilEl && d.levels.length > 0) {
    new uPlot(
      {
        width: utilEl.clientWidth - 16,
        height: 220,
        scales: { x: { time: false, range: (u, min, max) => [min - 0.5, max + 0.5] }, y: { range: [0, 100] } },
        series: [{ label: 'seats in use' }, { label: 'share of time %', stroke: '#2457c5', fill: 'rgba(36,87,197,0.35)', paths: uPlot.paths.bars({ size: [0.8, 60] }), points: { show: false } }],
        axes: [{ label: 'seats in use', incrs: [1, 2, 5, 10, 20, 50, 100] }, { label: '% of time' }],
      },
      [d.levels, d.shares],
      utilEl,
    );
  }
}

function apiReference(el) {
  if (typeof SwaggerUIBundle === 'undefined') return;
  SwaggerUIBundle({
    url: '/api/v1/openapi.json',
    domNode: el,
    deepLinking: true,
    // The session cookie goes along (same origin); changes need the page's CSRF token too.
    requestInterceptor: (req) => {
      req.headers['x-csrf-token'] = csrf;
      return req;
    },
  });
}

document.addEventListener('DOMContentLoaded', () => {
  const pools = document.querySelector('[data-live-pools]');
  if (pools) livePools(pools);
  usageCharts();
  const ref = document.querySelector('[data-api-reference]');
  if (ref) apiReference(ref);
});
