// The JSON API (/api/v1, with its OpenAPI document) and /metrics of one
// node, typed for hc: admin-app.ts adds the web console in front of it. How
// to add a route: see the top of admin-app.ts.
import { OpenAPIHono, type Hook } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import type { FloeNode } from '../daemon/node/index.ts';
import type { TlsCertificateStatus } from '../daemon/index.ts';
import type { AdminDeps } from './admin-deps.ts';
import type { AdminEnv } from './admin-env.ts';
import { bearerAuth, type VerifyToken } from './bearer-auth.ts';
import type { ConsoleSessions } from './console/console-sessions.ts';
import { AdminError, errorBody, errorResponse } from './errors.ts';
import { auditRoutes } from './routes/audit-routes.ts';
import { clusterRoutes } from './routes/cluster-routes.ts';
import { healthRoutes } from './routes/health-routes.ts';
import { licenseRoutes } from './routes/license-routes.ts';
import { lockCodeRoutes } from './routes/lock-code-routes.ts';
import { policyRoutes } from './routes/policy-routes.ts';
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
  /** This node's TLS certificate as last loaded (GET /health and /metrics show its expiry); absent or undefined: plain http. */
  readonly tlsStatus?: () => TlsCertificateStatus | undefined;
  /** Who holds a token; default: the config's tokens, then those created through the API (nodeTokenVerifier). */
  readonly verifyToken?: VerifyToken;
}

/** The base path of the JSON API. */
export const API_BASE_PATH = '/api/v1';

/** The OpenAPI document's header. */
const OPENAPI_INFO = {
  openapi: '3.1.0',
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

/** The JSON API and /metrics, typed for hc. */
export function createApiApp(node: FloeNode, options: AdminAppOptions, verifyToken: VerifyToken, sessions: ConsoleSessions) {
  const deps: AdminDeps = { node, log: options.log ?? (() => {}), ...(options.tlsStatus !== undefined ? { tlsStatus: options.tlsStatus } : {}) };
  const events = new EventHub(node);
  const auth = bearerAuth({ verifyToken, cookieAuth: sessions.cookieAuth });
  // The root app's registry holds every route with its full path; it exists once the routes do.
  let openApiDocument = (): object => ({});
  // A route comes first: hc's types lose the routes of an app whose first call is use().
  const api = new OpenAPIHono<AdminEnv>({ defaultHook: badRequestHook })
    .route('/', healthRoutes(deps))
    // Public like /health: it describes the API, not the state (generated from every route's schemas).
    .get('/openapi.json', (c) => c.json(openApiDocument()))
    .use(provideNode(node))
    .use(auth)
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
    .route('/', reportRoutes(deps))
    .route('/', policyRoutes(deps));

  const metrics = createNodeMetrics(node, {
    perUser: options.metricsPerUser ?? false,
    processMetrics: options.processMetrics ?? true,
    ...(options.tlsStatus !== undefined ? { tlsStatus: options.tlsStatus } : {}),
  });
  const app = new OpenAPIHono<AdminEnv>()
    .route(API_BASE_PATH, api)
    .route('/', metricsRoutes(metrics, auth));
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'an admin token' });
  openApiDocument = () => app.getOpenAPI31Document(OPENAPI_INFO);
  app.notFound((c) => c.json(errorBody('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`), 404));
  app.onError(errorResponse);
  return app;
}

/** The JSON API's app type, for the typed client: `hc<ApiApp>(adminUrl)`. */
export type ApiApp = ReturnType<typeof createApiApp>;
