// GET /reports/usage over a real node: the rows the node wrote become report lines, as JSON or CSV.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, licenseKey, openAdminFixture, type AdminFixture } from '../admin-app.test-support.ts';

let f: AdminFixture;
beforeAll(async () => {
  f = await openAdminFixture();
  expect((await f.call('POST', '/licenses', { key: licenseKey({ seats: 2 }) })).status).toBe(201);
  const a = await f.checkout('cad', 'ann');
  await f.checkout('cad', 'bob');
  await expect(f.checkout('cad', 'cid')).rejects.toThrow(/NO_SEATS/);
  expect((await f.call('DELETE', `/leases/${a}`, { reason: 'report test' })).status).toBe(200);
});
afterAll(() => f.close());

describe('GET /reports/usage', () => {
  it('reports the peak, checkouts and true denials of the day so far, and zeros for the days of the week before', async () => {
    const r = await f.call('GET', '/reports/usage?feature=cad&interval=day');
    expect(r.status).toBe(200);
    // The default period is the last 7 days: the part-day a week ago, six whole days, today so far.
    expect(r.body).toMatchObject({ interval: 'day', by: null, total: 8, nextCursor: null });
    const zero = { feature: 'cad', peakInUse: 0, averageInUse: 0, seatHours: 0, checkouts: 0, denials: 0, queueWaits: 0, queueWaitMsAvg: 0 };
    expect(r.body.lines.slice(0, 7)).toEqual(Array.from({ length: 7 }, () => expect.objectContaining(zero)));
    expect(r.body.lines.map((l: { start: string }) => Date.parse(l.start))).toEqual([...r.body.lines.map((l: { start: string }) => Date.parse(l.start))].sort((a, b) => a - b));
    expect(r.body.lines[7]).toEqual(expect.objectContaining({ feature: 'cad', peakInUse: 2, checkouts: 2, denials: 1, queueWaits: 0 }));
    expect(r.body.lines[7].seatHours).toBeGreaterThanOrEqual(0);
  });

  it('gives a pool without usage its lines of zeros, and no lines after now', async () => {
    expect((await f.call('POST', '/licenses', { key: licenseKey({ licenseId: 'LIC-PLOT', authCode: 'AUTH-PLOT', product: 'plot', seats: 1 }) })).status).toBe(201);
    const today = new Date().toISOString().slice(0, 10);
    const r = await f.call('GET', `/reports/usage?interval=hour&from=${today}&to=2999-01-01`);
    expect(r.status).toBe(200);
    const plot = r.body.lines.filter((l: { feature: string }) => l.feature === 'plot');
    // Every hour of today up to now, and none of the hours still to come.
    expect(plot).toHaveLength(new Date().getUTCHours() + 1);
    expect(plot.every((l: { peakInUse: number; checkouts: number }) => l.peakInUse === 0 && l.checkouts === 0)).toBe(true);
    expect(r.body.lines.filter((l: { feature: string }) => l.feature === 'cad')).toHaveLength(plot.length);
  });

  it('breaks a feature down by user, a line for each in each interval, in pages', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const r = await f.call('GET', `/reports/usage?interval=day&from=${today}&by=user&limit=1`);
    expect(r.body.total).toBe(3);
    expect(r.body.lines).toHaveLength(1);
    const next = await f.call('GET', `/reports/usage?interval=day&from=${today}&by=user&limit=10&cursor=${r.body.nextCursor}`);
    const users = [r.body.lines[0].user, ...next.body.lines.map((l: { user: string }) => l.user)];
    expect(users).toEqual(['ann', 'bob', 'cid']);
    expect(next.body.lines.find((l: { user: string }) => l.user === 'cid')).toMatchObject({ denials: 1, checkouts: 0 });
  });

  it('downloads CSV with a header line and a file name', async () => {
    const res = await f.app.request('/api/v1/reports/usage?feature=cad&format=csv&from=2026-01-01&interval=day', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="floe-usage-2026-01-01-\d{4}-\d{2}-\d{2}\.csv"$/);
    const lines = (await res.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('start,end,feature,peak_in_use,average_in_use,seat_hours,checkouts,denials,queue_waits,queue_wait_ms_avg');
    // A line a day since January 1, zeros on the days without use.
    expect(lines[1]).toBe('2026-01-01T00:00:00.000Z,2026-01-02T00:00:00.000Z,cad,0,0,0,0,0,0,0');
    expect(lines.at(-1)).toMatch(/^\d{4}-\d{2}-\d{2}T00:00:00\.000Z,\S+,cad,2,[\d.]+,[\d.]+,2,1,0,0$/);
  });

  it('names a CSV page after the lines it holds when the report has more than one page', async () => {
    const res = await f.app.request('/api/v1/reports/usage?format=csv&from=2020-01-01&interval=day&by=user&limit=1&cursor=1', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="floe-usage-2020-01-01-\d{4}-\d{2}-\d{2}-lines-2-2\.csv"$/);
    expect((await res.text()).trimEnd().split('\r\n')).toHaveLength(2);
  });

  it('refuses a bad time (400) and a report of too many intervals (422 REPORT_TOO_LARGE)', async () => {
    expect(await f.call('GET', '/reports/usage?from=yesterday')).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST' } } });
    expect(await f.call('GET', '/reports/usage?from=2000-01-01&interval=hour')).toMatchObject({ status: 422, body: { error: { code: 'REPORT_TOO_LARGE' } } });
  });
});
