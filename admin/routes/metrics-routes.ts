// GET /metrics at the admin server's root (not under /api/v1, where
// Prometheus looks by default): the node's metrics in Prometheus' text
// format, for any token (Prometheus sends it as `authorization.credentials`).
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { AdminEnv } from '../admin-env.ts';
import { BEARER_SECURITY, errorResponses } from '../api-schemas.ts';
import type { NodeMetrics } from '../metrics/node-metrics.ts';

const getMetrics = (auth: MiddlewareHandler<AdminEnv>) => createRoute({
  method: 'get',
  middleware: [auth] as const,
  path: '/metrics',
  summary: "This node's metrics, Prometheus text format (docs/metrics.md)",
  security: BEARER_SECURITY,
  responses: {
    200: { description: 'the metrics', content: { 'text/plain': { schema: z.string().openapi({ example: 'floe_seats_in_use{feature="cad",version="2"} 3' }) } } },
    ...errorResponses(),
  },
});

/** The metrics route over `metrics`, behind `auth` (the bearer check: the root app has none of its own). */
export function metricsRoutes(metrics: NodeMetrics, auth: MiddlewareHandler<AdminEnv>) {
  return new OpenAPIHono<AdminEnv>().openapi(getMetrics(auth), async (c) => {
    const text = await metrics.registry.metrics();
    return c.text(text, 200, { 'content-type': metrics.registry.contentType });
  });
}
