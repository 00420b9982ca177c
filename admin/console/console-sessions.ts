// Sessions of the web console: a browser signs in once with an admin token
// and then holds only a random session id, in a Secure, HttpOnly,
// SameSite=Strict cookie. This node keeps the session in memory with the
// token's digest (never the token), and asks on every request whether that
// token still holds its role, so a revoked token ends its sessions at once.
// Each session has a CSRF token that every change must bring back (a form
// field, or the x-csrf-token header of the console's own scripts). Sessions
// are per node: signing in on another node signs in there.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import type { Principal } from '../admin-env.ts';
import type { VerifyTokenDigest } from '../bearer-auth.ts';
import { AdminError } from '../errors.ts';

/** The session cookie's name. */
export const SESSION_COOKIE = 'floe_console';
/** The header the console's scripts send the CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';
/** The form field forms send it in. */
export const CSRF_FIELD = '_csrf';
/** Sessions kept at once; the least recently used goes beyond it. */
export const CONSOLE_SESSIONS_MAX = 1000;
/** `ms` a session lives without use. */
export const SESSION_IDLE_MS = 8 * 3_600_000;
/** `ms` a session lives at most. */
export const SESSION_LIFETIME_MS = 24 * 3_600_000;

/** One signed-in browser. */
export interface ConsoleSession {
  readonly id: string;
  readonly tokenSha256: string;
  readonly csrf: string;
  readonly createdAtMs: number;
  lastSeenMs: number;
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The console's sessions on this node. */
export class ConsoleSessions {
  /** By id, least recently used first (Map order; a use moves it to the end). */
  private readonly sessions = new Map<string, ConsoleSession>();

  constructor(
    private readonly verifyDigest: VerifyTokenDigest,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Starts a session for the token whose digest is `tokenSha256`. */
  create(tokenSha256: string): ConsoleSession {
    const now = this.clock();
    const session: ConsoleSession = { id: randomBytes(32).toString('base64url'), tokenSha256, csrf: randomBytes(32).toString('base64url'), createdAtMs: now, lastSeenMs: now };
    this.sessions.set(session.id, session);
    while (this.sessions.size > CONSOLE_SESSIONS_MAX) this.sessions.delete(this.sessions.keys().next().value!);
    return session;
  }

  /** Ends a session. */
  remove(id: string): void {
    this.sessions.delete(id);
  }

  /** The request's live session and who holds it, or undefined (none, expired, or its token revoked). */
  of(c: Context): { session: ConsoleSession; principal: Principal } | undefined {
    const id = getCookie(c, SESSION_COOKIE);
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    const now = this.clock();
    const principal = this.verifyDigest(session.tokenSha256);
    if (principal === undefined || now - session.lastSeenMs > SESSION_IDLE_MS || now - session.createdAtMs > SESSION_LIFETIME_MS) {
      this.sessions.delete(id);
      return undefined;
    }
    session.lastSeenMs = now;
    this.sessions.delete(id);
    this.sessions.set(id, session);
    return { session, principal };
  }

  /**
   * The bearer middleware's cookieAuth: the session's holder, after checking
   * the CSRF token of a change (403 CSRF_TOKEN_INVALID without it).
   */
  readonly cookieAuth = (c: Context): Principal | undefined => {
    const found = this.of(c);
    if (found === undefined) return undefined;
    if (UNSAFE_METHODS.has(c.req.method) && !csrfMatches(found.session, c.req.header(CSRF_HEADER))) {
      throw new AdminError(403, 'CSRF_TOKEN_INVALID', 'this change did not come from the console page; reload it and try again');
    }
    return found.principal;
  };
}

/** True when `sent` is the session's CSRF token (constant time). */
export function csrfMatches(session: ConsoleSession, sent: string | undefined): boolean {
  if (sent === undefined || sent.length !== session.csrf.length) return false;
  return timingSafeEqual(Buffer.from(sent), Buffer.from(session.csrf));
}
