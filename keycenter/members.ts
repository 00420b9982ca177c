// Who belongs to an account. Three ways in, as the vendor key centers do it:
// an order's contacts become its default members (accounts.ts); an account's
// admins — or vendor support — add members; anyone may ask to join with the
// site number and one of the account's order numbers, and an admin approves.
// A person new to the key center gets a welcome mail with a one-time link to
// set a password; one already known is told they were added.
import { createHash } from 'node:crypto';
import { atomically } from './atomically.ts';
import { recordAudit } from './audit-trail.ts';
import { newId, newSecretToken } from './ids.ts';
import { emailAddress, requiredText } from './input-checks.ts';
import type { AccountScope, Actor, KeyCenterContext } from './key-center-context.ts';
import { memberActor } from './key-center-context.ts';
import { KeyCenterError } from './key-center-error.ts';
import { enqueueMail } from './mail/mail-outbox.ts';
import { addedToAccountMail, joinDeclinedMail, joinRequestMail, welcomeMail, WELCOME_LINK_DAYS } from './mail/mail-templates.ts';
import type { AccountRecord, JoinRequestRecord, MemberRole, MemberWithUser, StoreQueries, UserRecord } from './store/key-center-store.ts';

/** Longest person name, characters. */
export const PERSON_NAME_CHARS_MAX = 120;
/** Pending join requests one account keeps at most; more are refused (RATE_LIMITED) until admins decide. */
export const JOIN_REQUESTS_PENDING_MAX = 200;

const DAY_MS = 24 * 3600 * 1000;

/** SHA-256 hex of a secret (tokens and session ids are stored only so). */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A person to make a member. */
export interface NewMember {
  readonly email: string;
  readonly name: string;
  readonly role: MemberRole;
}

/**
 * Makes `person` a member of `account` (creating their user if new) and mails
 * them: a welcome with a set-password link, or "you were added". Answers
 * false when they already were a member. Call inside a transaction.
 */
export async function ensureMember(
  q: StoreQueries,
  ctx: KeyCenterContext,
  nowMs: number,
  account: AccountRecord,
  person: NewMember,
  addedBy: string,
): Promise<boolean> {
  let user = await q.userByEmail(person.email);
  const isNew = user === undefined;
  if (user === undefined) {
    user = { userId: newId('USR'), email: person.email, name: person.name, passwordHash: null, createdAt: nowMs, passwordChangedAt: null };
    await q.insertUser(user);
  }
  const added = await q.insertMember({ siteNumber: account.siteNumber, userId: user.userId, role: person.role, addedAt: nowMs, addedBy });
  if (!added) return false;
  if (isNew || user.passwordHash === null) {
    const token = await issueUserToken(q, user, 'set-password', nowMs, nowMs + WELCOME_LINK_DAYS * DAY_MS);
    await enqueueMail(q, nowMs, welcomeMail(ctx.config, user.email, user.name, account, token));
  } else {
    await enqueueMail(q, nowMs, addedToAccountMail(ctx.config, user.email, user.name, account));
  }
  return true;
}

/** Stores a one-time token for `user` and answers its secret (for the link; the store keeps only its digest). */
export async function issueUserToken(q: StoreQueries, user: UserRecord, purpose: 'set-password' | 'reset-password', nowMs: number, expiresAt: number): Promise<string> {
  const token = newSecretToken();
  await q.insertUserToken({ tokenSha256: sha256Hex(token), userId: user.userId, purpose, createdAt: nowMs, expiresAt, usedAt: null });
  return token;
}

/** Checks a person's e-mail, name and role. */
export function checkNewMember(input: { email?: string | undefined; name?: string | undefined; role?: string | undefined }): NewMember {
  const role = input.role ?? 'member';
  if (role !== 'admin' && role !== 'member') throw new KeyCenterError('BAD_REQUEST', 'the role is admin or member', 'role');
  return { email: emailAddress(input.email), name: requiredText(input.name, 'name', PERSON_NAME_CHARS_MAX, 'name'), role };
}

async function accountOf(q: StoreQueries, siteNumber: string): Promise<AccountRecord> {
  const account = await q.account(siteNumber);
  if (account === undefined) throw new KeyCenterError('NOT_FOUND', `there is no account ${siteNumber}`, 'siteNumber');
  return account;
}

/** An admin of the scope's account, or FORBIDDEN. */
async function requireAdmin(q: StoreQueries, scope: AccountScope): Promise<AccountRecord> {
  const me = await q.member(scope.siteNumber, scope.userId);
  if (me === undefined) throw new KeyCenterError('NOT_FOUND', 'you are not a member of this account');
  if (me.role !== 'admin') throw new KeyCenterError('FORBIDDEN', "only the account's administrators may do this");
  return accountOf(q, scope.siteNumber);
}

/** Adds a member to an account: by one of its admins (`scope`), or by vendor support (`siteNumber`, audited). */
export async function addMember(
  ctx: KeyCenterContext,
  by: { readonly scope: AccountScope } | { readonly siteNumber: string; readonly actor: Actor },
  input: { email?: string | undefined; name?: string | undefined; role?: string | undefined },
): Promise<MemberWithUser> {
  const person = checkNewMember(input);
  const nowMs = ctx.clock();
  return atomically(ctx.store, async (q) => {
    const account = 'scope' in by ? await requireAdmin(q, by.scope) : await accountOf(q, by.siteNumber);
    const actor = 'scope' in by ? memberActor(by.scope) : by.actor;
    if (!(await ensureMember(q, ctx, nowMs, account, person, actor))) {
      throw new KeyCenterError('MEMBER_EXISTS', `${person.email} is already a member of account ${account.siteNumber}`, 'email');
    }
    await recordAudit(q, nowMs, actor, 'add-member', { siteNumber: account.siteNumber, target: person.email }, { role: person.role });
    const added = (await q.membersOf(account.siteNumber)).find((m) => m.email === person.email);
    if (added === undefined) throw new Error('assert: the member just added is missing');
    return added;
  });
}

/** Removes a member from the scope's account (admins only); an account keeps at least one admin. Audited. */
export async function removeMember(ctx: KeyCenterContext, scope: AccountScope, userId: string): Promise<void> {
  const nowMs = ctx.clock();
  await atomically(ctx.store, async (q) => {
    await requireAdmin(q, scope);
    const members = await q.membersOf(scope.siteNumber);
    const member = members.find((m) => m.userId === userId);
    if (member === undefined) throw new KeyCenterError('NOT_FOUND', 'there is no such member in this account');
    if (member.role === 'admin' && members.filter((m) => m.role === 'admin').length === 1) {
      throw new KeyCenterError('FORBIDDEN', 'an account keeps at least one administrator; make someone else one first');
    }
    await q.deleteMember(scope.siteNumber, userId);
    await recordAudit(q, nowMs, memberActor(scope), 'remove-member', { siteNumber: scope.siteNumber, target: member.email });
  });
}

/** The members of the scope's account. */
export async function membersOf(ctx: KeyCenterContext, siteNumber: string): Promise<MemberWithUser[]> {
  return ctx.store.read((q) => q.membersOf(siteNumber));
}

/**
 * Asks to join an account. When the site number and order number match, the
 * request is recorded and the account's admins mailed; otherwise nothing
 * happens. The answer is the same either way, so it reveals no account.
 */
export async function requestToJoin(
  ctx: KeyCenterContext,
  input: { siteNumber?: string | undefined; orderNumber?: string | undefined; email?: string | undefined; name?: string | undefined },
): Promise<void> {
  const email = emailAddress(input.email);
  const name = requiredText(input.name, 'name', PERSON_NAME_CHARS_MAX, 'name');
  const siteNumber = requiredText(input.siteNumber, 'site number', 32, 'siteNumber');
  const orderNumber = requiredText(input.orderNumber, 'order number', 64, 'orderNumber');
  const nowMs = ctx.clock();
  await atomically(ctx.store, async (q) => {
    const account = await q.account(siteNumber);
    if (account === undefined) return;
    const orders = await q.ordersOf(siteNumber);
    if (!orders.some((o) => o.customerOrderNumber === orderNumber)) return;
    const pending = await q.joinRequestsOf(siteNumber, 'pending');
    if (pending.some((r) => r.email === email)) return;
    if (pending.length >= JOIN_REQUESTS_PENDING_MAX) {
      throw new KeyCenterError('RATE_LIMITED', 'this account has too many requests waiting for its administrators; try again later', undefined, 3600);
    }
    const user = await q.userByEmail(email);
    if (user !== undefined && (await q.member(siteNumber, user.userId)) !== undefined) return;
    const request: JoinRequestRecord = { requestId: newId('JR'), siteNumber, email, name, orderNumber, status: 'pending', createdAt: nowMs, decidedAt: null, decidedBy: null };
    await q.insertJoinRequest(request);
    for (const admin of (await q.membersOf(siteNumber)).filter((m) => m.role === 'admin')) {
      await enqueueMail(q, nowMs, joinRequestMail(ctx.config, admin.email, account, request));
    }
    await recordAudit(q, nowMs, `user:${email}`, 'request-join', { siteNumber, target: email }, { orderNumber });
  });
}

/** The pending join requests of the scope's account (admins only). */
export async function pendingJoinRequests(ctx: KeyCenterContext, scope: AccountScope): Promise<JoinRequestRecord[]> {
  return ctx.store.read(async (q) => {
    await requireAdmin(q, scope);
    return q.joinRequestsOf(scope.siteNumber, 'pending');
  });
}

/** Approves (the requester becomes a member) or declines a pending request of the scope's account. */
export async function decideJoinRequest(ctx: KeyCenterContext, scope: AccountScope, requestId: string, approve: boolean): Promise<JoinRequestRecord> {
  const nowMs = ctx.clock();
  return atomically(ctx.store, async (q) => {
    const account = await requireAdmin(q, scope);
    const request = await q.joinRequest(requestId);
    if (request === undefined || request.siteNumber !== scope.siteNumber) throw new KeyCenterError('NOT_FOUND', `there is no join request ${requestId} in this account`);
    const actor = memberActor(scope);
    if (!(await q.decideJoinRequest(requestId, scope.siteNumber, approve ? 'approved' : 'declined', actor, nowMs))) {
      throw new KeyCenterError('JOIN_REQUEST_DECIDED', `the request of ${request.email} was already ${request.status}`);
    }
    if (approve) await ensureMember(q, ctx, nowMs, account, { email: request.email, name: request.name, role: 'member' }, actor);
    else await enqueueMail(q, nowMs, joinDeclinedMail(ctx.config, request.email, account));
    await recordAudit(q, nowMs, actor, approve ? 'approve-join' : 'decline-join', { siteNumber: scope.siteNumber, target: request.email });
    return { ...request, status: approve ? 'approved' : 'declined', decidedAt: nowMs, decidedBy: actor };
  });
}
