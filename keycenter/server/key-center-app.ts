// The key center's web server (Hono): the JSON API at /api/v1 — activation by
// code for license servers, the vendor role, a member's reads — and the
// self-service portal's pages at /, all over the same rule functions as the
// CLI. Serve it with key-center-server.ts, or test it with app.request().
//
// Adding an API route: in routes/<group>-routes.ts, createRoute() with its
// zod schemas (api-schemas.ts for answers and errors; `middleware:
// [staffAuth]` for a vendor route), a handler calling the rule function and
// throwing KeyCenterError for a refusal; chain it in the group's factory.
import { getConnInfo } from '@hono/node-server/conninfo';
import { OpenAPIHono, type Hook } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import type { KeyCenter } from '../key-center.ts';
import { KeyCenterError } from '../key-center-error.ts';
import { apiErrorResponse, errorBody } from './api-errors.ts';
import { activationRoutes } from './routes/activation-routes.ts';
import { memberApiRoutes } from './routes/member-api-routes.ts';
import { vendorRoutes } from './routes/vendor-routes.ts';
import type { KcEnv } from './server-env.ts';
import { loadSession } from './session-cookie.ts';
import { notFoundPage, pageErrorResponse, portalPages } from './portal/portal-pages.tsx';

/** The base path of the JSON API. */
export const API_BASE_PATH = '/api/v1';
/** Bytes of an API request body, at most (an order of 100 lines fits). */
export const API_BODY_BYTES_MAX = 256 * 1024;

export interface KeyCenterAppOptions {
  /** Take the client address from X-Forwarded-For (behind a reverse proxy you run); default false. */
  readonly trustProxy?: boolean | undefined;
  /** Called after every request that may have changed something (to deliver queued mail soon). */
  readonly onChange?: (() => void) | undefined;
  readonly log?: ((line: string) => void) | undefined;
}

/** A request that fails its route's schema: 400 BAD_REQUEST naming the first issue. */
const badRequestHook: Hook<unknown, KcEnv, string, unknown> = (result) => {
  if (result.success) return;
  const issue = result.error.issues[0];
  const path = issue?.path.join('.') ?? '';
  throw new KeyCenterError('BAD_REQUEST', `invalid ${result.target === 'json' ? 'body' : result.target}: ${path} ${issue?.message ?? ''}`.trim(), path === '' ? undefined : path);
};

/** Middleware: c.var.kc and c.var.address for every route. */
function provide(kc: KeyCenter, trustProxy: boolean) {
  return createMiddleware<KcEnv>(async (c, next) => {
    c.set('kc', kc);
    let address = 'unknown';
    const forwarded = trustProxy ? c.req.header('x-forwarded-for')?.split(',')[0]?.trim() : undefined;
    if (forwarded !== undefined && forwarded !== '') address = forwarded.slice(0, 64);
    else {
      try {
        address = getConnInfo(c).remote.address ?? 'unknown';
      } catch {
        // app.request() in tests: no socket.
      }
    }
    c.set('address', address);
    await next();
  });
}

/** Builds the key center's app over `kc`. */
export function createKeyCenterApp(kc: KeyCenter, options: KeyCenterAppOptions = {}) {
  let openApiDocument = (): object => ({});
  const api = new OpenAPIHono<KcEnv>({ defaultHook: badRequestHook })
    .get('/health', (c) => c.json({ status: 'ok', vendorKeyId: kc.vendorKeyId }))
    .get('/openapi.json', (c) => c.json(openApiDocument()))
    .use(
      bodyLimit({
        maxSize: API_BODY_BYTES_MAX,
        onError: (c) => c.json(errorBody('BAD_REQUEST', `the body is larger than ${API_BODY_BYTES_MAX} bytes`), 413),
      }),
    )
    .route('/', activationRoutes())
    .route('/', vendorRoutes())
    .route('/', memberApiRoutes())
    // Last: every other path under the API is a JSON 404 here, so none reaches the portal's pages.
    .all('/*', (c) => c.json(errorBody('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`), 404));
  api.onError((error, c) => apiErrorResponse(error, c, options.log));

  const app = new OpenAPIHono<KcEnv>();
  app.use(provide(kc, options.trustProxy === true));
  app.use(async (c, next) => {
    await next();
    if (c.req.method !== 'GET' && c.res.status < 400) options.onChange?.();
  });
  app.use(loadSession);
  app.route(API_BASE_PATH, api);
  app.route('/', portalPages(kc));
  app.notFound((c) => notFoundPage(c));
  app.onError((error, c) => (c.req.path.startsWith(`${API_BASE_PATH}/`) ? apiErrorResponse(error, c, options.log) : pageErrorResponse(error, c, options.log)));
  app.openAPIRegistry.registerComponent('securitySchemes', 'staffToken', { type: 'http', scheme: 'bearer', description: 'a staff token (floe keycenter staff add)' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'sessionCookie', { type: 'apiKey', in: 'cookie', name: 'floe_kc_session' });
  openApiDocument = () =>
    app.getOpenAPIDocument({
      openapi: '3.0.3',
      info: { title: 'Floe key center API', version: '0.2', description: 'Activation by authorization code, the vendor role, and what a signed-in member reads.' },
    });
  return app;
}

/** The key center app's type. */
export type KeyCenterApp = ReturnType<typeof createKeyCenterApp>;
