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
  it('reports the peak, checkouts and true denials of the day so far', async () => {
    const r = await f.call('GET', '/reports/usage?feature=cad&interval=day');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ interval: 'day', by: null, total: 1, nextCursor: null });
    expect(r.body.lines).toEqual([
      expect.objectContaining({ feature: 'cad', peakInUse: 2, checkouts: 2, denials: 1, queueWaits: 0 }),
    ]);
    expect(r.body.lines[0].seatHours).toBeGreaterThanOrEqual(0);
  });

  it('breaks a feature down by user, one line each, in pages', async () => {
    const r = await f.call('GET', '/reports/usage?interval=hour&by=user&limit=1');
    expect(r.body.total).toBeGreaterThanOrEqual(3);
    expect(r.body.lines).toHaveLength(1);
    const next = await f.call('GET', `/reports/usage?interval=hour&by=user&limit=10&cursor=${r.body.nextCursor}`);
    const users = [r.body.lines[0].user, ...next.body.lines.map((l: { user: string }) => l.user)];
    expect(users).toEqual(expect.arrayContaining(['ann', 'bob', 'cid']));
    expect(next.body.lines.find((l: { user: string }) => l.user === 'cid')).toMatchObject({ denials: 1, checkouts: 0 });
  });

  it('downloads CSV with a header line and a file name', async () => {
    const res = await f.app.request('/api/v1/reports/usage?feature=cad&format=csv&from=2020-01-01&interval=day', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="floe-usage-2020-01-01-\d{4}-\d{2}-\d{2}\.csv"$/);
    const lines = (await res.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('start,end,feature,peak_in_use,average_in_use,seat_hours,checkouts,denials,queue_waits,queue_wait_ms_avg');
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
