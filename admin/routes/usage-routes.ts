// GET /usage: the usage rows reports are computed from, newest first.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AdminDeps } from '../admin-deps.ts';
import type { AdminEnv } from '../admin-env.ts';
import { BEARER_SECURITY, errorResponses, jsonResponse } from '../api-schemas.ts';
import { readAnswer, readBarrier, readSchema, staleQuerySchema } from '../read-barrier.ts';

/** GET /usage. */
export const usageQuerySchema = staleQuerySchema.extend({
  feature: z.string().max(64).optional(),
  fromMs: z.coerce.number().int().nonnegative().optional().openapi({ description: 'ms since the epoch, inclusive' }),
  toMs: z.coerce.number().int().nonnegative().optional().openapi({ description: 'ms since the epoch, exclusive' }),
  limit: z.coerce.number().int().min(1).max(10_000).optional().openapi({ description: 'rows, at most (default 1,000)' }),
});

/** One usage row. */
export const usageRowSchema = z
  .object({
    logIndex: z.number().int(),
    at: z.number().openapi({ description: 'ms since the epoch' }),
    kind: z.string().openapi({ example: 'checkout', description: 'checkout, checkin, denial, expiry, queue-wait, force-checkin, revoke, user-added, user-removed (docs/admin-api.md)' }),
    feature: z.string(),
    version: z.string(),
    user: z.string(),
    host: z.string(),
    clientId: z.string(),
    count: z.number().int(),
    leaseId: z.string(),
    waitedMs: z.number(),
    code: z.string().openapi({ description: "a denial's error code; '' otherwise" }),
    reason: z.string().openapi({ description: "force-checkin: the admin's reason; revoke, user-removed: why (license-removed, license-expired, user-unassigned); '' otherwise" }),
  })
  .openapi('UsageRow');

const listUsage = createRoute({
  method: 'get',
  path: '/usage',
  summary: 'Usage rows (checkouts, checkins, denials, expiries, queue waits, forced check-ins, revocations, named-user changes), newest first',
  security: BEARER_SECURITY,
  middleware: [readBarrier] as const,
  request: { query: usageQuerySchema },
  responses: { 200: jsonResponse(readSchema(z.array(usageRowSchema)), 'the rows'), ...errorResponses(400, 503) },
});

/** The usage routes. */
export function usageRoutes({ node }: AdminDeps) {
  return new OpenAPIHono<AdminEnv>().openapi(listUsage, (c) => {
    const { feature, fromMs, toMs, limit } = c.req.valid('query');
    const rows = node.usageRows({
      ...(feature !== undefined ? { feature } : {}),
      ...(fromMs !== undefined ? { fromMs } : {}),
      ...(toMs !== undefined ? { toMs } : {}),
      ...(limit !== undefined ? { limit } : {}),
    });
    return c.json(readAnswer(c, rows), 200);
  });
}
