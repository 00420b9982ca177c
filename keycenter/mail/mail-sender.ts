// Delivers the mail outbox with nodemailer: over SMTP when the config names
// an SMTP URL, else as one .eml file per message in KC/outbox/ (the embedded
// default, so a key center with no mail server loses nothing: an operator can
// forward the files). Any instance may deliver: a mail is claimed in the store
// for a while before it is sent, so two senders never send the same one; a
// failed attempt is retried later, with growing delays, up to a limit.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { KeyCenterContext } from '../key-center-context.ts';
import type { MailRecord } from '../store/key-center-store.ts';

/** How long a claimed mail is held by its sender before another may take it, ms. */
export const MAIL_CLAIM_MS = 2 * 60_000;
/** Mails claimed at once. */
export const MAIL_BATCH_MAX = 20;
/** Batches one deliverDue() call handles at most (a bound on one run). */
export const MAIL_BATCHES_PER_RUN_MAX = 50;
/** Attempts before a mail is given up (status "failed"). */
export const MAIL_ATTEMPTS_MAX = 10;
/** First retry delay, ms; doubled per attempt up to MAIL_RETRY_DELAY_MAX_MS. */
export const MAIL_RETRY_DELAY_MS = 30_000;
export const MAIL_RETRY_DELAY_MAX_MS = 3600_000;
/** SMTP connection, greeting and socket timeouts, ms. */
export const SMTP_TIMEOUT_MS = 15_000;

/** What one run delivered. */
export interface DeliveryReport {
  readonly sent: number;
  readonly failed: number;
}

export interface MailSenderOptions {
  /** Where .eml files go when no SMTP URL is configured. */
  readonly outboxDir: string;
  readonly log?: ((line: string) => void) | undefined;
}

/** Delivers the outbox; call deliverDue() after changes that mail, or start() a periodic loop. */
export class MailSender {
  private readonly transport: Transporter;
  private readonly from: string;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<DeliveryReport> | undefined;
  private again = false;

  constructor(
    private readonly ctx: KeyCenterContext,
    private readonly options: MailSenderOptions,
  ) {
    const smtpUrl = ctx.config.mail.smtpUrl;
    this.transport =
      smtpUrl === undefined
        ? nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' })
        : nodemailer.createTransport({ url: smtpUrl, connectionTimeout: SMTP_TIMEOUT_MS, greetingTimeout: SMTP_TIMEOUT_MS, socketTimeout: SMTP_TIMEOUT_MS });
    this.from = `"${ctx.config.vendorName.replace(/["\\]/g, '')}" <${ctx.config.mail.from}>`;
  }

  /** Where mail goes: the SMTP server's host, or the outbox directory. */
  describe(): string {
    const smtpUrl = this.ctx.config.mail.smtpUrl;
    return smtpUrl === undefined ? `.eml files in ${this.options.outboxDir}` : `SMTP ${new URL(smtpUrl).host}`;
  }

  /** Delivers every mail due now (bounded); runs once at a time — a call during a run makes it go round again. */
  deliverDue(): Promise<DeliveryReport> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    const run = (async () => {
      let total = { sent: 0, failed: 0 };
      do {
        this.again = false;
        const r = await this.deliverBatches();
        total = { sent: total.sent + r.sent, failed: total.failed + r.failed };
      } while (this.again);
      return total;
    })();
    this.running = run.finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async deliverBatches(): Promise<DeliveryReport> {
    let sent = 0;
    let failed = 0;
    for (let batch = 0; batch < MAIL_BATCHES_PER_RUN_MAX; batch++) {
      const nowMs = this.ctx.clock();
      const mails = await this.ctx.store.transaction((q) => q.claimDueMail(nowMs, nowMs + MAIL_CLAIM_MS, MAIL_BATCH_MAX));
      if (mails.length === 0) break;
      for (const mail of mails) {
        if (await this.deliver(mail)) sent++;
        else failed++;
      }
    }
    return { sent, failed };
  }

  private async deliver(mail: MailRecord): Promise<boolean> {
    try {
      const info = (await this.transport.sendMail({
        from: this.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        ...(mail.html === null ? {} : { html: mail.html }),
        attachments: mail.attachments.map((a) => ({ filename: a.filename, content: a.content, contentType: 'text/plain; charset=utf-8' })),
        messageId: `<${mail.mailId}@floe-keycenter>`,
        date: new Date(mail.createdAt),
      })) as { message?: unknown };
      if (this.ctx.config.mail.smtpUrl === undefined) {
        mkdirSync(this.options.outboxDir, { recursive: true, mode: 0o700 });
        const stamp = new Date(mail.createdAt).toISOString().replace(/[:.]/g, '-');
        writeFileSync(join(this.options.outboxDir, `${stamp}-${mail.mailId}.eml`), info.message as Buffer, { mode: 0o600 });
      }
      await this.ctx.store.transaction((q) => q.markMailSent(mail.mailId, this.ctx.clock()));
      return true;
    } catch (error) {
      const attempts = mail.attempts + 1;
      const giveUp = attempts >= MAIL_ATTEMPTS_MAX;
      const delayMs = Math.min(MAIL_RETRY_DELAY_MS * 2 ** (attempts - 1), MAIL_RETRY_DELAY_MAX_MS);
      const message = error instanceof Error ? error.message : String(error);
      this.options.log?.(`mail ${mail.mailId} to ${mail.to}: attempt ${attempts} failed (${message})${giveUp ? '; giving up' : `; retrying in ${Math.round(delayMs / 1000)} s`}`);
      await this.ctx.store.transaction((q) => q.markMailAttemptFailed(mail.mailId, message.slice(0, 500), this.ctx.clock() + delayMs, giveUp));
      return false;
    }
  }

  /** Delivers every `intervalMs` (and whenever notify() is called) until stop(). */
  start(intervalMs: number): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.notify(), intervalMs);
    this.timer.unref();
  }

  /** Delivers soon (something was just queued). */
  notify(): void {
    this.deliverDue().catch((error: unknown) => this.options.log?.(`mail delivery failed: ${error instanceof Error ? error.message : String(error)}`));
  }

  /** Stops the loop and waits for a delivery in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
    this.transport.close();
  }
}
