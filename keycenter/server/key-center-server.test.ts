import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG } from '../key-center-config.ts';
import { lock, testKeyCenter } from '../key-center.test-support.ts';
import { startSmtpServer } from '../mail/smtp-server.test-support.ts';
import { createStaff } from '../staff.ts';
import { splitListen, startKeyCenterServer } from './key-center-server.ts';

describe('startKeyCenterServer', () => {
  it('serves the API on a socket and delivers the mail a request queued without waiting for the poll', async () => {
    const smtp = await startSmtpServer();
    const { kc } = await testKeyCenter({ config: { ...DEFAULT_CONFIG, mail: { smtpUrl: smtp.url, from: 'keys@example.com' } } });
    const token = await createStaff(kc.ctx, 'ann', 'cli');
    const server = await startKeyCenterServer(kc, { listen: '127.0.0.1:0' });
    try {
      const post = (path: string, body: unknown) =>
        fetch(`${server.url}/api/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
      expect((await post('/vendor/accounts', { siteNumber: 'S-1', companyName: 'Acme' })).status).toBe(201);
      const order = await post('/vendor/accounts/S-1/orders', { customerOrderNumber: 'CO-1', contacts: [{ email: 'ada@example.com', name: 'Ada' }], lines: [{ product: 'stats', version: '29', model: 'concurrent', quantity: 3 }] });
      expect(order.status).toBe(201);
      await vi.waitFor(() => expect(smtp.received).toHaveLength(2), { timeout: 10_000, interval: 50 });
      expect(smtp.received[0]?.text).toContain('/set-password/');
      const [e] = await kc.entitle({ product: 'stats', version: '29', model: 'concurrent', seats: 1 });
      const activation = await post('/activations', { authCode: e!.authCode, lockCodes: [lock(1)] });
      expect(activation.status).toBe(201);
      expect((await kc.listKeys())[0]?.issuedBy).toBe('api:127.0.0.1');
    } finally {
      await server.close();
      await smtp.close();
    }
  });

  it('reads host:port, IPv6 in brackets, and refuses anything else', () => {
    expect(splitListen('127.0.0.1:7600')).toEqual({ host: '127.0.0.1', port: 7600 });
    expect(splitListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    for (const bad of ['7600', 'host:', ':80', 'h:99999']) expect(() => splitListen(bad)).toThrow(/not host:port/);
  });
});
