// How members prove who they are: an e-mail and a password (scrypt from
// node:crypto, with a per-password salt), rate-limited per address and per
// e-mail; sessions in the store (the browser's cookie holds a random id, the
// store its SHA-256); one-time links to set a first password or reset a lost
// one (never the password itself by mail); changing a password needs the
// current one. The e-mail is the sign-in name and is not self-editable.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { atomically } from './atomically.ts';
import { recordAudit } from './audit-trail.ts';
import { newSecretToken } from './ids.ts';
import { emailAddress } from './input-checks.ts';
import type { AccountScope, KeyCenterContext } from './key-center-context.ts';
import { KeyCenterError } from './key-center-error.ts';
import { enqueueMail } from './mail/mail-outbox.ts';
import { resetPasswordMail, RESET_LINK_MINUTES } from './mail/mail-templates.ts';
import { issueUserToken, sha256Hex } from './members.ts';
import { countHit } from './rate-limiter.ts';
import type { MembershipWithAccount, SessionRecord, UserRecord, UserTokenPurpose } from './store/key-center-store.ts';

/** Shortest password, characters. */
export const PASSWORD_CHARS_MIN = 10;
/** Longest password, characters (scrypt's cost grows with it). */
export const PASSWORD_CHARS_MAX = 256;
/** How long a session lasts after sign-in, ms. */
export const SESSION_TTL_MS = 12 * 3600 * 1000;

/** scrypt's cost parameters (N = 2^14, r = 8, p = 1: ~16 MiB and ~50 ms per hash here). */
const SCRYPT = { N: 16_384, r: 8, p: 1 } as const;
const SCRYPT_KEY_BYTES = 32;
const SCRYPT_SALT_BYTES = 16;

function scryptAsync(password: string, salt: Buffer, keyBytes: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, keyBytes, { ...options, maxmem: 64 * 1024 * 1024 }, (error, key) => (error === null ? resolve(key) : reject(error))));
}

/** "scrypt$N$r$p$salt$hash" (salt and hash base64url) of `password`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SCRYPT_SALT_BYTES);
  const key = await scryptAsync(password, salt, SCRYPT_KEY_BYTES, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Whether `password` matches `stored` (a hashPassword() result); false for anything malformed. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash no password matches, verified when the e-mail is unknown so both cases take as long. */
let decoyHash: Promise<string> | undefined;

/** A new password, or PASSWORD_TOO_WEAK saying why. */
export function checkNewPassword(password: unknown, field = 'password'): string {
  if (typeof password !== 'string' || password.length < PASSWORD_CHARS_MIN) {
    throw new KeyCenterError('PASSWORD_TOO_WEAK', `a password has at least ${PASSWORD_CHARS_MIN} characters`, field);
  }
  if (password.length > PASSWORD_CHARS_MAX) throw new KeyCenterError('PASSWORD_TOO_WEAK', `a password has at most ${PASSWORD_CHARS_MAX} characters`, field);
  if (password.trim() !== password) throw new KeyCenterError('PASSWORD_TOO_WEAK', 'a password neither starts nor ends with a space (a pasted space is a common mistake)', field);
  return password;
}

/** A signed-in browser: the cookie's secret and what it stands for. */
export interface SignedIn {
  /** The session id for the cookie (the store keeps only its SHA-256). */
  readonly sessionId: string;
  readonly session: SessionRecord;
}

/** A session as a request sees it: who, which account (if chosen) and every account they may switch to. */
export interface SessionView {
  readonly idSha256: string;
  readonly user: UserRecord;
  /** The chosen account, still one the user belongs to; null until chosen. */
  readonly siteNumber: string | null;
  readonly memberships: MembershipWithAccount[];
  readonly expiresAt: number;
}

/** The scope of a session's chosen account, or undefined when none is chosen. */
export function scopeOf(view: SessionView): AccountScope | undefined {
  return view.siteNumber === null ? undefined : { siteNumber: view.siteNumber, userId: view.user.userId, email: view.user.email };
}

/**
 * Signs in with e-mail and password. INVALID_CREDENTIALS for an unknown e-mail
 * and a wrong password alike (and in the same time); RATE_LIMITED after too
 * many attempts from `address` or for the e-mail.
 */
export async function signIn(ctx: KeyCenterContext, input: { email?: unknown; password?: unknown; address: string }): Promise<SignedIn> {
  const email = typeof input.email === 'string' ? input.email.trim().toLowerCase() : '';
  const password = typeof input.password === 'string' ? input.password : '';
  await countHit(ctx, 'signInPerAddress', input.address);
  if (email !== '') await countHit(ctx, 'signInPerEmail', email);
  const user = email === '' ? undefined : await ctx.store.read((q) => q.userByEmail(email));
  decoyHash ??= hashPassword(newSecretToken());
  const ok = await verifyPassword(password.slice(0, PASSWORD_CHARS_MAX), user?.passwordHash ?? (await decoyHash));
  if (user === undefined || user.passwordHash === null || !ok) {
    throw new KeyCenterError('INVALID_CREDENTIALS', 'the e-mail address or the password is not right (passwords are case-sensitive)', 'password');
  }
  const nowMs = ctx.clock();
  const sessionId = newSecretToken();
  return ctx.store.transaction(async (q) => {
    const memberships = await q.membershipsOf(user.userId);
    const session: SessionRecord = {
      idSha256: sha256Hex(sessionId),
      userId: user.userId,
      siteNumber: memberships.length === 1 ? memberships[0]!.siteNumber : null,
      createdAt: nowMs,
      expiresAt: nowMs + SESSION_TTL_MS,
    };
    await q.insertSession(session);
    return { sessionId, session };
  });
}

/** The session a cookie names, if it is live; its account is dropped when the user no longer belongs to it. */
export async function sessionFor(ctx: KeyCenterContext, sessionId: string): Promise<SessionView | undefined> {
  const idSha256 = sha256Hex(sessionId);
  const nowMs = ctx.clock();
  return ctx.store.read(async (q) => {
    const session = await q.session(idSha256);
    if (session === undefined || session.expiresAt <= nowMs) return undefined;
    const user = await q.user(session.userId);
    if (user === undefined) return undefined;
    const memberships = await q.membershipsOf(user.userId);
    const siteNumber = memberships.some((m) => m.siteNumber === session.siteNumber) ? session.siteNumber : null;
    return { idSha256, user, siteNumber, memberships, expiresAt: session.expiresAt };
  });
}

/** Makes `siteNumber` the session's account; NOT_FOUND unless the user belongs to it. */
export async function chooseAccount(ctx: KeyCenterContext, view: SessionView, siteNumber: string): Promise<void> {
  await ctx.store.transaction(async (q) => {
    if ((await q.member(siteNumber, view.user.userId)) === undefined) throw new KeyCenterError('NOT_FOUND', `you are not a member of account ${siteNumber}`, 'siteNumber');
    await q.setSessionAccount(view.idSha256, siteNumber);
  });
}

export async function signOut(ctx: KeyCenterContext, idSha256: string): Promise<void> {
  await ctx.store.transaction((q) => q.deleteSession(idSha256));
}

/** The user a one-time link is for, while it is usable (to show its form); undefined otherwise. */
export async function userOfToken(ctx: KeyCenterContext, token: string, purpose: UserTokenPurpose): Promise<UserRecord | undefined> {
  const nowMs = ctx.clock();
  return ctx.store.read(async (q) => {
    const t = await q.userToken(sha256Hex(token));
    if (t === undefined || t.purpose !== purpose || t.usedAt !== null || t.expiresAt <= nowMs) return undefined;
    return q.user(t.userId);
  });
}

/** Sets a password through a one-time link (used once); signs the user out everywhere. TOKEN_INVALID for a used, expired or unknown link. */
export async function setPasswordWithToken(ctx: KeyCenterContext, input: { token: string; purpose: UserTokenPurpose; password: unknown }): Promise<UserRecord> {
  const password = checkNewPassword(input.password);
  const passwordHash = await hashPassword(password);
  const nowMs = ctx.clock();
  return atomically(ctx.store, async (q) => {
    const used = await q.useUserToken(sha256Hex(input.token), input.purpose, nowMs);
    if (used === undefined) {
      throw new KeyCenterError('TOKEN_INVALID', 'this link was already used or has expired; ask for a new one with "Forgot your password?"');
    }
    await q.setPasswordHash(used.userId, passwordHash, nowMs);
    await q.deleteSessionsOf(used.userId);
    const user = await q.user(used.userId);
    if (user === undefined) throw new Error('assert: token of a missing user');
    await recordAudit(q, nowMs, `user:${user.email}`, input.purpose, { target: user.email });
    return user;
  });
}

/**
 * Sets the password of the user with `email` directly (a demo's member, support
 * tooling); signs them out everywhere. Audited. NOT_FOUND for an unknown e-mail.
 * Members set theirs through one-time links; no password is ever mailed.
 */
export async function setMemberPassword(ctx: KeyCenterContext, email: string, password: string, actor: string): Promise<void> {
  const passwordHash = await hashPassword(checkNewPassword(password));
  const nowMs = ctx.clock();
  await ctx.store.transaction(async (q) => {
    const user = await q.userByEmail(email.trim().toLowerCase());
    if (user === undefined) throw new KeyCenterError('NOT_FOUND', `there is no user ${email}`, 'email');
    await q.setPasswordHash(user.userId, passwordHash, nowMs);
    await q.deleteSessionsOf(user.userId);
    await recordAudit(q, nowMs, actor, 'set-password', { target: user.email });
  });
}

/** Mails a one-time reset link when the e-mail is known; answers the same either way (RATE_LIMITED aside). */
export async function requestPasswordReset(ctx: KeyCenterContext, input: { email?: string | undefined; address: string }): Promise<void> {
  const email = emailAddress(input.email);
  await countHit(ctx, 'passwordResetPerAddress', input.address);
  await countHit(ctx, 'passwordResetPerEmail', email);
  const nowMs = ctx.clock();
  await ctx.store.transaction(async (q) => {
    const user = await q.userByEmail(email);
    if (user === undefined) return;
    const token = await issueUserToken(q, user, 'reset-password', nowMs, nowMs + RESET_LINK_MINUTES * 60_000);
    await enqueueMail(q, nowMs, resetPasswordMail(ctx.config, user.email, user.name, token));
  });
}

/** Changes a password, given the current one; signs the user out of every other session. */
export async function changePassword(ctx: KeyCenterContext, view: SessionView, input: { current: unknown; next: unknown }): Promise<void> {
  const next = checkNewPassword(input.next, 'newPassword');
  const current = typeof input.current === 'string' ? input.current.slice(0, PASSWORD_CHARS_MAX) : '';
  if (view.user.passwordHash === null || !(await verifyPassword(current, view.user.passwordHash))) {
    throw new KeyCenterError('PASSWORD_WRONG', 'the current password is not right', 'currentPassword');
  }
  const passwordHash = await hashPassword(next);
  const nowMs = ctx.clock();
  await ctx.store.transaction(async (q) => {
    await q.setPasswordHash(view.user.userId, passwordHash, nowMs);
    await q.deleteSessionsOf(view.user.userId, view.idSha256);
    await recordAudit(q, nowMs, `user:${view.user.email}`, 'change-password', { target: view.user.email });
  });
}
