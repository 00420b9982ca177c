// The Hono environment of the console's pages, and the typed in-process
// client they read and change things through: the same JSON API routes (and
// their middleware, auth and read barrier included) a browser or the CLI
// calls, never a second read model.
import { hc } from 'hono/client';
import type { Principal } from '../admin-env.ts';
import type { ApiApp } from '../api-app.ts';
import type { VerifyToken } from '../bearer-auth.ts';
import type { FloeNode } from '../../daemon/node/index.ts';
import { CSRF_HEADER, SESSION_COOKIE, type ConsoleSession, type ConsoleSessions } from './console-sessions.ts';

/** What the console's routes work over. */
export interface ConsoleDeps {
  readonly node: FloeNode;
  readonly sessions: ConsoleSessions;
  readonly verifyToken: VerifyToken;
  /** The admin app's own fetch: the pages' API calls go through it in-process. */
  readonly fetchApi: (request: Request) => Response | Promise<Response>;
}

/** The typed API client of one signed-in request. */
export type ApiClient = ReturnType<typeof apiClientOf>;

/** Hono Env of the console's signed-in pages. */
export interface ConsoleEnv {
  Variables: {
    principal: Principal;
    session: ConsoleSession;
    api: ApiClient;
  };
}

/** The /api/v1 client acting as `session` (its cookie, and its CSRF token for changes). */
export function apiClientOf(deps: ConsoleDeps, session: ConsoleSession) {
  return hc<ApiApp>('http://console.internal', {
    fetch: (input: string | URL | Request, init?: RequestInit) => Promise.resolve(deps.fetchApi(new Request(input, init))),
    headers: { cookie: `${SESSION_COOKIE}=${session.id}`, [CSRF_HEADER]: session.csrf },
  }).api.v1;
}
