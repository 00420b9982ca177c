// The portal's session cookie: a random id (the store keeps its SHA-256),
// HTTP-only, SameSite=Lax, Secure (browsers keep Secure cookies over https://
// and on http://localhost or 127.0.0.1 only; `secureCookies = false` in the
// config drops it for a plain-HTTP test bed). loadSession() reads it on every
// request; requireScope() answers what a member route may reach.
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import type { AccountScope } from '../key-center-context.ts';
import { KeyCenterError } from '../key-center-error.ts';
import { scopeOf, sessionFor, SESSION_TTL_MS, type SessionView } from '../member-auth.ts';
import type { KcEnv } from './server-env.ts';

/** The session cookie's name. */
export const SESSION_COOKIE = 'floe_kc_session';

/** Longest cookie value read, characters (a session id is 43). */
const COOKIE_CHARS_MAX = 128;

/** Middleware: c.var.session is the live session the cookie names, if any. */
export const loadSession = createMiddleware<KcEnv>(async (c, next) => {
  const id = getCookie(c, SESSION_COOKIE);
  c.set('session', id === undefined || id.length > COOKIE_CHARS_MAX ? undefined : await sessionFor(c.var.kc.ctx, id));
  await next();
});

/** Sets the session cookie after sign-in. */
export function setSessionCookie(c: Context<KcEnv>, sessionId: string): void {
  setCookie(c, SESSION_COOKIE, sessionId, {
    path: '/',
    httpOnly: true,
    secure: c.var.kc.ctx.config.secureCookies,
    sameSite: 'Lax',
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
  });
}

export function clearSessionCookie(c: Context<KcEnv>): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/', secure: c.var.kc.ctx.config.secureCookies });
}

/** The signed-in member's session; UNAUTHORIZED when there is none. */
export function requireSession(c: Context<KcEnv>): SessionView {
  const session = c.var.session;
  if (session === undefined) throw new KeyCenterError('UNAUTHORIZED', 'sign in first');
  return session;
}

/** The member's chosen account; UNAUTHORIZED signed out, ACCOUNT_NOT_CHOSEN before they pick one. */
export function requireScope(c: Context<KcEnv>): AccountScope {
  const scope = scopeOf(requireSession(c));
  if (scope === undefined) throw new KeyCenterError('ACCOUNT_NOT_CHOSEN', 'choose one of your accounts first');
  return scope;
}
