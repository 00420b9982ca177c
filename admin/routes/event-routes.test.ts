// GET /events over a real node: the stream shows checkouts, lease ends and denials as they apply.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN_TOKEN, licenseKey, openAdminFixture, type AdminFixture } from '../admin-app.test-support.ts';

let f: AdminFixture;
beforeAll(async () => {
  f = await openAdminFixture();
  expect((await f.call('POST', '/licenses', { key: licenseKey({ seats: 1 }) })).status).toBe(201);
});
afterAll(() => f.close());

/** Opens GET /events and collects its messages as {event, data}. */
async function openStream() {
  const res = await f.app.request('/api/v1/events', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const messages: { event: string; data: any; id?: string | undefined }[] = [];
  let buffer = '';
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
        if (fields['event'] !== undefined) messages.push({ event: fields['event'], data: JSON.parse(fields['data'] ?? 'null'), id: fields['id'] });
      }
    }
  })().catch(() => {});
  return { messages, close: () => reader.cancel() };
}

describe('GET /events', () => {
  it('needs a token', async () => {
    expect((await f.app.request('/api/v1/events')).status).toBe(401);
  });

  it('streams a pools snapshot at once, then checkouts, denials and forced check-ins as they apply, with the pools after each', async () => {
    const stream = await openStream();
    await vi.waitFor(() => expect(stream.messages[0]).toMatchObject({ event: 'pools', data: { role: 'leader', pools: [{ feature: 'cad', seatsInUse: 0 }] } }));
    const leaseId = await f.checkout('cad', 'carol');
    await vi.waitFor(() => expect(stream.messages.map((m) => m.event)).toContain('checkout'), { timeout: 1000 });
    const checkout = stream.messages.find((m) => m.event === 'checkout')!;
    expect(checkout.data).toMatchObject({ feature: 'cad', user: 'carol', count: 1, leaseId });
    expect(Number(checkout.id)).toBeGreaterThan(0);
    await vi.waitFor(() => expect(stream.messages.at(-1)).toMatchObject({ event: 'pools', data: { pools: [{ seatsInUse: 1 }] } }));

    await expect(f.checkout('cad', 'dave')).rejects.toThrow(/NO_SEATS/);
    await vi.waitFor(() => expect(stream.messages.find((m) => m.event === 'denial')?.data).toMatchObject({ user: 'dave', code: 'NO_SEATS' }));

    expect((await f.call('DELETE', `/leases/${leaseId}`, { reason: 'console test' })).status).toBe(200);
    await vi.waitFor(() => expect(stream.messages.find((m) => m.event === 'checkin')?.data).toMatchObject({ leaseId, reason: 'forced', detail: 'console test' }));
    await vi.waitFor(() => expect(stream.messages.at(-1)).toMatchObject({ event: 'pools', data: { pools: [{ seatsInUse: 0 }] } }));
    await stream.close();
  });
});
