// GET /metrics over a real node: stable names and types, values that move with checkouts.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAdminApp } from '../admin-app.ts';
import { hashToken } from '../bearer-auth.ts';
import { ADMIN_TOKEN, licenseKey, openAdminFixture, type AdminFixture } from '../admin-app.test-support.ts';

let f: AdminFixture;
beforeAll(async () => {
  f = await openAdminFixture();
  expect((await f.call('POST', '/licenses', { key: licenseKey({ seats: 2, expiresAt: Date.UTC(2099, 0, 1) }) })).status).toBe(201);
});
afterAll(() => f.close());

async function scrape(token: string | null = ADMIN_TOKEN): Promise<{ status: number; text: string }> {
  const res = await f.app.request('/metrics', token === null ? {} : { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, text: await res.text() };
}

/** The value of the series `name{labels}` in `text`, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** Every `# TYPE name type` of the floe_ metrics. */
function types(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/^# TYPE (floe_\w+) (\w+)$/gm)].map((m) => [m[1], m[2]]));
}

const cad = { feature: 'cad', version: '2' };

describe('GET /metrics', () => {
  it('needs a token', async () => {
    expect((await scrape(null)).status).toBe(401);
  });

  it('names its metrics and their types stably, with process and event-loop metrics beside them', async () => {
    const { status, text } = await scrape();
    expect(status).toBe(200);
    expect(types(text)).toEqual({
      floe_seats_total: 'gauge',
      floe_seats_in_use: 'gauge',
      floe_seats_queued: 'gauge',
      floe_seats_lingering: 'gauge',
      floe_seats_reserved: 'gauge',
      floe_seats_borrowed: 'gauge',
      floe_sessions: 'gauge',
      floe_license_expiry_timestamp_seconds: 'gauge',
      floe_checkouts_total: 'counter',
      floe_checkins_total: 'counter',
      floe_denials_total: 'counter',
      floe_queue_waits_total: 'counter',
      floe_checkout_duration_seconds: 'histogram',
      floe_storage_fsync_duration_seconds: 'histogram',
      floe_raft_role: 'gauge',
      floe_raft_has_leader: 'gauge',
      floe_raft_term: 'gauge',
      floe_raft_commit_index: 'gauge',
      floe_raft_applied_index: 'gauge',
      floe_cluster_members: 'gauge',
      floe_peer_up: 'gauge',
      floe_member_lag_entries: 'gauge',
      floe_member_clock_skew_seconds: 'gauge',
      floe_tls_certificate_expiry_timestamp_seconds: 'gauge',
    });
    expect(text).toMatch(/^# TYPE nodejs_eventloop_lag_seconds gauge$/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
    expect(text).toMatch(/^# TYPE process_cpu_seconds_total counter$/m);
    expect(sample(text, 'floe_license_expiry_timestamp_seconds', { license_id: 'LIC-A' })).toBe(Date.UTC(2099, 0, 1) / 1000);
    expect(sample(text, 'floe_raft_role', { role: 'leader' })).toBe(1);
    expect(sample(text, 'floe_raft_has_leader')).toBe(1);
    // No seat policy here: nothing reserved or borrowed; a node's skew to itself is 0.
    expect(sample(text, 'floe_seats_reserved', cad)).toBe(0);
    expect(sample(text, 'floe_seats_borrowed', cad)).toBe(0);
    expect(sample(text, 'floe_member_clock_skew_seconds', { member: 'n1' })).toBe(0);
    expect(text).not.toContain('floe_user_seats_in_use');
  });

  it('moves with checkouts, denials and forced check-ins', async () => {
    const before = (await scrape()).text;
    expect(sample(before, 'floe_seats_total', cad)).toBe(2);
    expect(sample(before, 'floe_seats_in_use', cad)).toBe(0);
    await f.node.propose({ type: 'session-open', sessionId: 'm1', clientId: 'metrics-client', user: 'ann', host: 'h', app: 'a', sessionTtlMs: 60_000 });
    const checkout = (n: number) =>
      f.node.proposeCheckout({ type: 'checkout', sessionId: 'm1', requestId: `m-${n}`, feature: 'cad', count: 1, wait: false, leaseTtlMs: 60_000, waitMs: 0 });
    const granted = await checkout(1);
    await checkout(2);
    expect((await checkout(3)).reply).toMatchObject({ ok: false, code: 'NO_SEATS' });
    if (!granted.reply.ok || granted.reply.type !== 'granted') throw new Error('not granted');
    expect((await f.call('DELETE', `/leases/${granted.reply.lease.leaseId}`, { reason: 'metrics' })).status).toBe(200);
    await vi.waitFor(async () => {
      const text = (await scrape()).text;
      expect(sample(text, 'floe_checkins_total', { feature: 'cad', reason: 'forced' })).toBe(1);
    });
    const after = (await scrape()).text;
    expect(sample(after, 'floe_seats_in_use', cad)).toBe(1);
    expect(sample(after, 'floe_sessions')).toBe(1);
    expect(sample(after, 'floe_checkouts_total', { feature: 'cad' })).toBe(2);
    expect(sample(after, 'floe_denials_total', { feature: 'cad', code: 'NO_SEATS' })).toBe(1);
    expect(sample(after, 'floe_checkout_duration_seconds_count', { result: 'ok' })).toBe(2);
    expect(sample(after, 'floe_checkout_duration_seconds_count', { result: 'refused' })).toBe(1);
    expect(sample(after, 'floe_raft_applied_index')).toBeGreaterThan(sample(before, 'floe_raft_applied_index')!);
  });

  it('gives seats per user only when configured (metricsPerUser)', async () => {
    const perUser = createAdminApp(f.node, { tokenSha256: [hashToken(ADMIN_TOKEN)], bodyBytesMax: 1024, metricsPerUser: true, processMetrics: false });
    const text = await (await perUser.request('/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
    expect(sample(text, 'floe_user_seats_in_use', { feature: 'cad', user: 'ann' })).toBe(1);
    expect(text).not.toContain('nodejs_eventloop_lag_seconds');
  });
});
