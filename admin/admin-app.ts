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
//    token: node.propose(command, auditStamp(c))), and throws AdminError(status, CODE, message) for a
//    refusal (statusOfCode(code) for the pool's codes); it returns
//    `c.json(body, status)` with a status its route declares.
// 4. Chain it in the group's factory (`new OpenAPIHono<AdminEnv>().openapi(…)`)
//    and mount a new group below with `.route('/', fooRoutes(deps))`.
// admin-app.test.ts holds the shared behaviour; each group has its test.
import { OpenAPIHono, type Hook } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import type { FloeNode } from '../daemon/node/index.ts';
import type { AdminDeps } from './admin-deps.ts';
import type { AdminEnv } from './admin-env.ts';
import { bearerAuth, nodeTokenVerifier, type VerifyToken } from './bearer-auth.ts';
import { AdminError, errorBody, errorResponse } from './errors.ts';
import { auditRoutes } from './routes/audit-routes.ts';
import { clusterRoutes } from './routes/cluster-routes.ts';
import { healthRoutes } from './routes/health-routes.ts';
import { licenseRoutes } from './routes/license-routes.ts';
import { lockCodeRoutes } from './routes/lock-code-routes.ts';
import { poolRoutes } from './routes/pool-routes.ts';
import { tokenRoutes } from './routes/token-routes.ts';
import { usageRoutes } from './routes/usage-routes.ts';
import { usersRoutes } from './routes/users-routes.ts';
import { backupRoutes } from './routes/backup-routes.ts';
import { eventRoutes } from './routes/event-routes.ts';
import { reportRoutes } from './routes/report-routes.ts';
import { EventHub } from './events/event-hub.ts';
import { metricsRoutes } from './routes/metrics-routes.ts';
import { createNodeMetrics } from './metrics/node-metrics.ts';

/** Options of the admin app. */
export interface AdminAppOptions {
  /** SHA-256 hex digests of the config's bearer tokens (admin tokens). */
  readonly tokenSha256: readonly string[];
  /** Bytes of a request body, at most. */
  readonly bodyBytesMax: number;
  /** GET /metrics also gives per-user series (config metricsPerUser); default false. */
  readonly metricsPerUser?: boolean;
  /** GET /metrics also gives prom-client's process and Node.js metrics; default true. */
  readonly processMetrics?: boolean;
  /** Operational log lines (what failed without failing a request). */
  readonly log?: (line: string) => void;
  /** Who holds a token; default: the config's tokens, then those created through the API (nodeTokenVerifier). */
  readonly verifyToken?: VerifyToken;
}

/** The base path of the JSON API. */
export const API_BASE_PATH = '/api/v1';

/** The OpenAPI document's header. */
const OPENAPI_INFO = {
  openapi: '3.0.3',
  info: { title: 'Floe admin API', version: '0.2', description: 'The admin API of one Floe node; every node serves the same.' },
};

/** A request that fails its route's schema: 400 BAD_REQUEST naming the first issue. */
const badRequestHook: Hook<unknown, AdminEnv, string, unknown> = (result) => {
  if (result.success) return;
  const issue = result.error.issues[0];
  const where = result.target === 'json' ? 'body' : result.target;
  throw new AdminError(400, 'BAD_REQUEST', `invalid ${where}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim());
};

/** Middleware: hands every route the node (c.var.node), so route middleware can be module-level constants. */
function provideNode(node: FloeNode) {
  return createMiddleware<AdminEnv>(async (c, next) => {
    c.set('node', node);
    await next();
  });
}

/** Builds the admin API over `node`; serve it with @hono/node-server or test it with app.request(). */
export function createAdminApp(node: FloeNode, options: AdminAppOptions) {
  const deps: AdminDeps = { node, log: options.log ?? (() => {}) };
  const events = new EventHub(node);
  const verifyToken = options.verifyToken ?? nodeTokenVerifier(node, options.tokenSha256);
  // The root app's registry holds every route with its full path; it exists once the routes do.
  let openApiDocument = (): object => ({});
  // A route comes first: hc's types lose the routes of an app whose first call is use().
  const api = new OpenAPIHono<AdminEnv>({ defaultHook: badRequestHook })
    .route('/', healthRoutes(deps))
    // Public like /health: it describes the API, not the state (generated from every route's schemas).
    .get('/openapi.json', (c) => c.json(openApiDocument()))
    .use(provideNode(node))
    .use(bearerAuth({ verifyToken }))
    .use(
      bodyLimit({
        maxSize: options.bodyBytesMax,
        onError: () => {
          throw new AdminError(413, 'BAD_REQUEST', `the body is larger than ${options.bodyBytesMax} bytes`);
        },
      }),
    )
    .route('/', clusterRoutes(deps))
    .route('/', licenseRoutes(deps))
    .route('/', lockCodeRoutes(deps))
    .route('/', poolRoutes(deps))
    .route('/', usageRoutes(deps))
    .route('/', usersRoutes(deps))
    .route('/', backupRoutes(deps))
    .route('/', tokenRoutes(deps, options.tokenSha256.length))
    .route('/', auditRoutes(deps))
    .route('/', eventRoutes(events))
    .route('/', reportRoutes(deps));

  const metrics = createNodeMetrics(node, { perUser: options.metricsPerUser ?? false, processMetrics: options.processMetrics ?? true });
  const app = new OpenAPIHono<AdminEnv>()
    .route(API_BASE_PATH, api)
    .route('/', metricsRoutes(metrics, bearerAuth({ verifyToken })));
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'an admin token' });
  openApiDocument = () => app.getOpenAPIDocument(OPENAPI_INFO);
  app.notFound((c) => c.json(errorBody('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`), 404));
  app.onError(errorResponse);
  return app;
}

/** The admin app's type, for the typed client: `hc<AdminApp>(adminUrl)`. */
export type AdminApp = ReturnType<typeof createAdminApp>;
