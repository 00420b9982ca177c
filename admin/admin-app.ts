// The admin HTTP API (Hono), base /api/v1: thin routes over the node's read
// model and its propose(). Every change goes through the log like any client
// request; every error is {"error":{"code","message"}}; nothing is half-applied.
// The OpenAPI document (GET /api/v1/openapi.json) is generated from the same
// zod schemas the routes validate with, and the chained routes give the CLI a
// typed client: hc<AdminApp>(url).api.v1.pools.$get().
//
// How to add a route (keep to this one pattern):
// 1. In admin/routes/<group>-routes.ts (a new file for a new group), export
//    the zod schemas of its body, query and answer (z from @hono/zod-openapi;
//    a named type is `.openapi('Name')`), then `createRoute({ method, path
//    ('/things/{id}'), summary, security: BEARER_SECURITY, middleware,
//    request, responses: { 200: jsonResponse(…), ...errorResponses(…) } })`.
// 2. middleware: `requireRole('operator' | 'admin')` for anything that
//    changes state (any token may read); `readBarrier` on every read of
//    replicated state, answering with `readAnswer(c, data)` and
//    `readSchema(…)` so ?stale=true works; `optionalJsonBody` before an
//    optional JSON body.
// 3. The handler reads `c.req.valid('json' | 'query' | 'param')`, proposes
//    through the node with `auditStamp(c)` (so the audit log names the
//    token: node.propose(command, auditStamp(c))), and throws
//    AdminError(status, CODE, message) for a refusal (statusOfCode(code) for
//    the pool's codes); it returns `c.json(body, status)` with a status its
//    route declares.
// 4. Chain it in the group's factory (`new OpenAPIHono<AdminEnv>().openapi(…)`)
//    and mount a new group in api-app.ts with `.route('/', fooRoutes(deps))`.
// 5. The console (admin/console/) shows it by calling the route in-process
//    (c.var.api), never by reading the node itself.
// admin-app.test.ts holds the shared behaviour; each group has its test.
import type { FloeNode } from '../daemon/node/index.ts';
import { createApiApp, type AdminAppOptions, type ApiApp } from './api-app.ts';
import { nodeDigestVerifier, nodeTokenVerifier } from './bearer-auth.ts';
import { consoleRoutes } from './console/console-routes.tsx';
import { ConsoleSessions } from './console/console-sessions.ts';

export { API_BASE_PATH, type AdminAppOptions, type ApiApp } from './api-app.ts';

/**
 * Builds the admin server over `node`: the JSON API under /api/v1, /metrics,
 * and the web console at / (admin/console/, pages over the same API); serve
 * it with @hono/node-server or test it with app.request().
 */
export function createAdminApp(node: FloeNode, options: AdminAppOptions): ApiApp {
  const verifyToken = options.verifyToken ?? nodeTokenVerifier(node, options.tokenSha256);
  const sessions = new ConsoleSessions(nodeDigestVerifier(node, options.tokenSha256));
  const app = createApiApp(node, options, verifyToken, sessions);
  // The console's pages call the API in-process, through every middleware a browser's call meets.
  const pages = consoleRoutes({ node, sessions, verifyToken, fetchApi: (request) => app.fetch(request) });
  app.route('/', pages);
  return app;
}

/** The admin app's type for the typed client (the console's pages add no JSON routes). */
export type AdminApp = ApiApp;
