// Mail enters the outbox table in the transaction of what it tells (a welcome
// mail with its account, a key with its activation), so a mail is never sent
// for a change that rolled back, and never lost for one that committed. A
// MailSender (mail-sender.ts) delivers the outbox afterwards, from any instance.
import { newId } from '../ids.ts';
import type { MailAttachment, StoreQueries } from '../store/key-center-store.ts';

/** A message to send. */
export interface OutgoingMail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html?: string | undefined;
  readonly attachments?: readonly MailAttachment[] | undefined;
}

/** Queues `mail` for delivery; call it inside the transaction of the change it tells about. */
export async function enqueueMail(q: StoreQueries, nowMs: number, mail: OutgoingMail): Promise<string> {
  const mailId = newId('ML');
  await q.insertMail({
    mailId,
    createdAt: nowMs,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    html: mail.html ?? null,
    attachments: [...(mail.attachments ?? [])],
    status: 'pending',
    attempts: 0,
    nextAttemptAt: nowMs,
    claimedUntil: null,
    sentAt: null,
    lastError: null,
  });
  return mailId;
}
