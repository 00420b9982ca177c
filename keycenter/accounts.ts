// Accounts and their orders, from the vendor's side. An account is keyed by
// the site number every order of that site carries; an order records the
// customer order number, the customer's purchase-order number and its lines
// (product, version, model, quantity, bundle components, term, maintenance
// renewal of an earlier line). Its contacts become the account's default
// members (admins) and receive the authorization certificate by mail.
import { atomically } from './atomically.ts';
import { recordAudit } from './audit-trail.ts';
import { checkLine } from './entitlement.ts';
import { newId } from './ids.ts';
import { emailAddress, optionalText, requiredText } from './input-checks.ts';
import type { Actor, KeyCenterContext } from './key-center-context.ts';
import { KeyCenterError } from './key-center-error.ts';
import { enqueueMail } from './mail/mail-outbox.ts';
import { certificateMail } from './mail/mail-templates.ts';
import { ensureMember, PERSON_NAME_CHARS_MAX } from './members.ts';
import {
  accountInputSchema,
  dayStartMs,
  firstIssue,
  lastDayEndMs,
  orderInputSchema,
  type AccountInput,
  type OrderInput,
} from './order-input.ts';
import { StoreConflictError, type AccountRecord, type OrderContact, type OrderLineRecord, type OrderRecord, type StoreQueries } from './store/key-center-store.ts';

/** An order with its lines. */
export interface OrderWithLines extends OrderRecord {
  readonly lines: OrderLineRecord[];
}

/** Creates a customer account; ACCOUNT_EXISTS when the site number has one. */
export async function createAccount(ctx: KeyCenterContext, input: AccountInput, actor: Actor): Promise<AccountRecord> {
  const parsed = accountInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = firstIssue(parsed.error);
    throw new KeyCenterError('BAD_REQUEST', issue.message, issue.field);
  }
  const account: AccountRecord = {
    siteNumber: parsed.data.siteNumber,
    companyName: requiredText(parsed.data.companyName, 'company name', 120, 'companyName'),
    createdAt: ctx.clock(),
  };
  try {
    await atomically(ctx.store, async (q) => {
      await q.insertAccount(account);
      await recordAudit(q, account.createdAt, actor, 'create-account', { siteNumber: account.siteNumber }, { companyName: account.companyName });
    });
  } catch (error) {
    if (error instanceof StoreConflictError) throw new KeyCenterError('ACCOUNT_EXISTS', `account ${account.siteNumber} already exists`, 'siteNumber');
    throw error;
  }
  return account;
}

/** Every account, by site number. */
export async function listAccounts(ctx: KeyCenterContext): Promise<AccountRecord[]> {
  return ctx.store.read((q) => q.accounts());
}

/** One account; NOT_FOUND when there is none. */
export async function accountNamed(ctx: KeyCenterContext, siteNumber: string): Promise<AccountRecord> {
  const account = await ctx.store.read((q) => q.account(siteNumber));
  if (account === undefined) throw new KeyCenterError('NOT_FOUND', `there is no account ${siteNumber}`, 'siteNumber');
  return account;
}

/**
 * Records an order of account `siteNumber`. Its contacts become members
 * (admins) of the account — new people get a welcome mail with a link to set
 * their password — and each gets the order's authorization certificate.
 */
export async function addOrder(ctx: KeyCenterContext, siteNumber: string, input: OrderInput, actor: Actor): Promise<OrderWithLines> {
  const parsed = orderInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = firstIssue(parsed.error);
    throw new KeyCenterError('BAD_REQUEST', issue.message, issue.field);
  }
  const body = parsed.data;
  const nowMs = ctx.clock();
  const orderId = newId('ORD');
  const orderedAt = body.orderedOn === undefined ? nowMs : dayStartMs(body.orderedOn);
  const contacts: OrderContact[] = body.contacts.map((c, i) => ({
    email: emailAddress(c.email, `contacts.${i}.email`),
    name: requiredText(c.name, 'name', PERSON_NAME_CHARS_MAX, `contacts.${i}.name`),
    role: c.role,
  }));
  const lines: OrderLineRecord[] = body.lines.map((l, i) => {
    const line = checkLine(
      {
        product: l.product,
        version: l.version,
        model: l.model,
        seats: l.quantity,
        components: l.components,
        days: l.days,
        expiresAt: l.expires === undefined ? undefined : lastDayEndMs(l.expires),
        startsAt: l.starts === undefined ? undefined : dayStartMs(l.starts),
        lingerSeconds: l.lingerSeconds,
        hostsPerUserMax: l.hostsPerUserMax,
        borrowAllowed: l.borrowAllowed,
        borrowHoursMax: l.borrowHoursMax,
      },
      nowMs,
      `lines.${i}.`,
    );
    return {
      lineId: newId('LN'),
      orderId,
      siteNumber,
      lineNo: i + 1,
      product: line.product,
      version: line.version,
      model: line.model,
      quantity: line.seats,
      components: line.components,
      startsAt: line.startsAt,
      expiresAt: line.expiresAt,
      renewsLineId: l.renewsLineId ?? null,
      lingerSeconds: line.lingerSeconds,
      hostsPerUserMax: line.hostsPerUserMax,
      borrowHoursMax: line.borrowHoursMax,
    };
  });
  const order: OrderRecord = {
    orderId,
    siteNumber,
    customerOrderNumber: requiredText(body.customerOrderNumber, 'customer order number', 64, 'customerOrderNumber'),
    purchaseOrderNumber: optionalText(body.purchaseOrderNumber, 'purchase-order number', 64, 'purchaseOrderNumber'),
    contacts,
    orderedAt,
    createdBy: actor,
  };
  return atomically(ctx.store, async (q) => {
    const account = await q.account(siteNumber);
    if (account === undefined) throw new KeyCenterError('NOT_FOUND', `there is no account ${siteNumber}`, 'siteNumber');
    for (const [i, line] of lines.entries()) {
      if (line.renewsLineId === null) continue;
      const renewed = await q.line(line.renewsLineId);
      if (renewed === undefined || renewed.siteNumber !== siteNumber) {
        throw new KeyCenterError('BAD_REQUEST', `line ${line.renewsLineId} (renewed by line ${i + 1}) is not a line of account ${siteNumber}`, `lines.${i}.renewsLineId`);
      }
    }
    try {
      await q.insertOrder(order, lines);
    } catch (error) {
      if (error instanceof StoreConflictError) {
        throw new KeyCenterError('ORDER_EXISTS', `account ${siteNumber} already has order ${order.customerOrderNumber}`, 'customerOrderNumber');
      }
      throw error;
    }
    for (const c of contacts) await ensureMember(q, ctx, nowMs, account, { email: c.email, name: c.name, role: 'admin' }, `order:${order.customerOrderNumber}`);
    await sendCertificate(q, ctx, nowMs, account, order, lines);
    await recordAudit(q, nowMs, actor, 'add-order', { siteNumber, target: order.customerOrderNumber }, { orderId, lines: lines.length });
    return { ...order, lines };
  });
}

async function sendCertificate(q: StoreQueries, ctx: KeyCenterContext, nowMs: number, account: AccountRecord, order: OrderRecord, lines: readonly OrderLineRecord[]): Promise<void> {
  for (const c of order.contacts) await enqueueMail(q, nowMs, certificateMail(ctx.config, c.email, account, order, lines));
}

/** Sends an order's authorization certificate to its contacts again (support). Audited. */
export async function resendCertificate(ctx: KeyCenterContext, orderId: string, actor: Actor): Promise<OrderWithLines> {
  const nowMs = ctx.clock();
  return atomically(ctx.store, async (q) => {
    const order = await q.order(orderId);
    const account = order === undefined ? undefined : await q.account(order.siteNumber);
    if (order === undefined || account === undefined) throw new KeyCenterError('NOT_FOUND', `there is no order ${orderId}`, 'orderId');
    const lines = await q.lines({ orderId });
    await sendCertificate(q, ctx, nowMs, account, order, lines);
    await recordAudit(q, nowMs, actor, 'resend-certificate', { siteNumber: order.siteNumber, target: order.customerOrderNumber }, { to: order.contacts.map((c) => c.email) });
    return { ...order, lines };
  });
}

/** The orders of an account, newest first, with their lines. */
export async function ordersOf(ctx: KeyCenterContext, siteNumber: string): Promise<OrderWithLines[]> {
  return ctx.store.read(async (q) => {
    const lines = await q.lines({ siteNumber });
    return (await q.ordersOf(siteNumber)).map((o) => ({ ...o, lines: lines.filter((l) => l.orderId === o.orderId) }));
  });
}

/** One order of the account `siteNumber`; NOT_FOUND for an order of any other account. */
export async function orderOf(ctx: KeyCenterContext, siteNumber: string, orderId: string): Promise<OrderWithLines> {
  return ctx.store.read(async (q) => {
    const order = await q.order(orderId);
    if (order === undefined || order.siteNumber !== siteNumber) throw new KeyCenterError('NOT_FOUND', `there is no order ${orderId} in this account`, 'orderId');
    return { ...order, lines: await q.lines({ orderId }) };
  });
}
