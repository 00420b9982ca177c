import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { addOrder, createAccount } from '../accounts.ts';
import { DEFAULT_CONFIG, OUTBOX_DIR_NAME } from '../key-center-config.ts';
import { queuedMail, testKeyCenter } from '../key-center.test-support.ts';
import { MAIL_RETRY_DELAY_MS, MailSender } from './mail-sender.ts';
import { startSmtpServer, type TestSmtpServer } from './smtp-server.test-support.ts';

const servers: TestSmtpServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

const anOrder = {
  customerOrderNumber: 'CO-1',
  purchaseOrderNumber: 'PO-77',
  contacts: [{ email: 'ada@example.com', name: 'Ada Lovelace', role: 'primary' as const }],
  lines: [{ product: 'stats', version: '29', model: 'concurrent' as const, quantity: 10 }],
};

describe('MailSender', () => {
  it('delivers the outbox over SMTP: the welcome mail arrives with its one-time link', async () => {
    const smtp = await startSmtpServer();
    servers.push(smtp);
    const config = { ...DEFAULT_CONFIG, vendorName: 'Acme Key Center', publicUrl: 'https://keys.example.com', mail: { smtpUrl: smtp.url, from: 'keys@example.com' } };
    const { kc, dir } = await testKeyCenter({ config });
    await createAccount(kc.ctx, { siteNumber: 'S-1', companyName: 'Customer' }, 'cli');
    await addOrder(kc.ctx, 'S-1', anOrder, 'cli');
    const sender = new MailSender(kc.ctx, { outboxDir: join(dir, OUTBOX_DIR_NAME) });
    expect(await sender.deliverDue()).toEqual({ sent: 2, failed: 0 });
    await sender.stop();
    expect(smtp.received.map((m) => m.to)).toEqual([['ada@example.com'], ['ada@example.com']]);
    const welcome = smtp.received.find((m) => m.text.includes('Subject: Welcome'))!;
    expect(welcome.from).toBe('keys@example.com');
    expect(welcome.text).toMatch(/From: "?Acme Key Center"? <keys@example.com>/);
    expect(welcome.text).toMatch(/https:\/\/keys\.example\.com\/set-password\/[A-Za-z0-9_-]{43}/);
    expect(welcome.text).not.toContain('no public address');
    expect((await queuedMail(kc)).map((m) => m.status)).toEqual(['sent', 'sent']);
    expect(existsSync(join(dir, OUTBOX_DIR_NAME))).toBe(false);
  });

  it('without a publicUrl, a mail with a link says the link assumes the key center\'s own machine and whom to ask', async () => {
    const { kc } = await testKeyCenter();
    await createAccount(kc.ctx, { siteNumber: 'S-1', companyName: 'Customer' }, 'cli');
    await addOrder(kc.ctx, 'S-1', anOrder, 'cli');
    const welcome = (await queuedMail(kc)).find((m) => m.subject.startsWith('Welcome'))!;
    expect(welcome.text).toMatch(/^Set your password:\nhttp:\/\/127\.0\.0\.1:7600\/set-password\/\S+$/m);
    expect(welcome.text).toContain(
      "(This key center has no public address configured, so the link points at http://127.0.0.1:7600, which works only on the key center's own machine. If it does not open, ask Floe Key Center for the portal's address.)",
    );
    expect(welcome.html).toContain('no public address configured');
  });

  it('without an SMTP URL, writes each mail as an .eml file in KC/outbox/', async () => {
    const { kc, dir } = await testKeyCenter();
    await createAccount(kc.ctx, { siteNumber: 'S-1', companyName: 'Customer' }, 'cli');
    await addOrder(kc.ctx, 'S-1', anOrder, 'cli');
    const sender = new MailSender(kc.ctx, { outboxDir: join(dir, OUTBOX_DIR_NAME) });
    expect(await sender.deliverDue()).toEqual({ sent: 2, failed: 0 });
    expect(await sender.deliverDue()).toEqual({ sent: 0, failed: 0 });
    await sender.stop();
    const files = readdirSync(join(dir, OUTBOX_DIR_NAME)).sort();
    expect(files).toHaveLength(2);
    expect(files.every((f) => f.endsWith('.eml'))).toBe(true);
    const eml = files.map((f) => readFileSync(join(dir, OUTBOX_DIR_NAME, f), 'utf8')).join('\n');
    expect(eml).toContain('To: ada@example.com');
    expect(eml).toContain('Subject: Authorization certificate for order CO-1');
  });

  it('keeps a mail the SMTP server could not take, and delivers it on a later run', async () => {
    const smtp = await startSmtpServer();
    const url = smtp.url;
    await smtp.close();
    const { kc, dir, clock } = await testKeyCenter({ config: { ...DEFAULT_CONFIG, mail: { smtpUrl: url, from: 'keys@example.com' } } });
    await createAccount(kc.ctx, { siteNumber: 'S-1', companyName: 'Customer' }, 'cli');
    await addOrder(kc.ctx, 'S-1', { ...anOrder, contacts: [anOrder.contacts[0]!] }, 'cli');
    const lines: string[] = [];
    const sender = new MailSender(kc.ctx, { outboxDir: join(dir, OUTBOX_DIR_NAME), log: (l) => lines.push(l) });
    expect(await sender.deliverDue()).toEqual({ sent: 0, failed: 2 });
    expect(lines[0]).toMatch(/attempt 1 failed .*retrying in 30 s/);
    expect((await queuedMail(kc)).map((m) => [m.status, m.attempts])).toEqual([
      ['pending', 1],
      ['pending', 1],
    ]);
    expect(await sender.deliverDue()).toEqual({ sent: 0, failed: 0 });
    await sender.stop();
    clock.nowMs += MAIL_RETRY_DELAY_MS;
    const again = await startSmtpServer();
    servers.push(again);
    // The same port may not be free again: point a new sender (as a restarted instance would) at the new server.
    const retry = new MailSender({ ...kc.ctx, config: { ...kc.ctx.config, mail: { smtpUrl: again.url, from: 'keys@example.com' } } }, { outboxDir: join(dir, OUTBOX_DIR_NAME) });
    expect(await retry.deliverDue()).toEqual({ sent: 2, failed: 0 });
    await retry.stop();
    expect(again.received).toHaveLength(2);
  });
});
