// GET /health: no token, no barrier; what a load balancer or `floe status` asks first.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AdminDeps } from '../admin-deps.ts';
import type { AdminEnv } from '../admin-env.ts';
import { jsonResponse } from '../api-schemas.ts';

const DAY_MS = 24 * 3600 * 1000;

/** GET /health. */
export const healthSchema = z
  .object({
    status: z.literal('ok'),
    nodeId: z.string(),
    role: z.string(),
    leaderId: z.string(),
    term: z.number().int(),
    appliedIndex: z.number().int(),
    readyCount: z.number().int().openapi({ description: 'Raft Readys handled since start' }),
    transactionCount: z.number().int().openapi({ description: 'storage transactions written since start' }),
    syncCount: z.number().int().openapi({ description: 'fdatasyncs of the log since start' }),
    rejoining: z.boolean().openapi({ description: "this node's storage lost acknowledged entries: it catches up and does not vote until the leader confirms it" }),
    tls: z
      .object({
        subject: z.string(),
        issuer: z.string(),
        nodeIds: z.array(z.string()),
        notAfter: z.string().openapi({ description: 'ISO 8601: when this node\'s certificate ends' }),
        daysLeft: z.number().openapi({ description: 'days until then (negative: expired)' }),
        caNotAfter: z.string().optional().openapi({ description: 'ISO 8601: when the earliest CA certificate of tls.caFile ends' }),
        loadedAt: z.string().openapi({ description: 'ISO 8601: when the files were loaded (start, or the latest SIGHUP reload)' }),
      })
      .optional()
      .openapi({ description: 'absent when the node serves plain http' }),
  })
  .openapi('Health');

const getHealth = createRoute({
  method: 'get',
  path: '/health',
  summary: "This node's health and role (no token)",
  responses: { 200: jsonResponse(healthSchema, 'the node answers') },
});

/** The health route (mounted before the bearer check). */
export function healthRoutes({ node, tlsStatus }: AdminDeps) {
  return new OpenAPIHono<AdminEnv>().openapi(getHealth, (c) => {
    const s = node.status();
    const t = tlsStatus?.();
    return c.json(
      {
        status: 'ok' as const,
        nodeId: s.nodeId,
        role: s.role,
        leaderId: s.leaderId,
        term: s.term,
        appliedIndex: s.appliedIndex,
        readyCount: node.readyCount,
        transactionCount: node.transactionCount,
        syncCount: node.syncCount,
        rejoining: s.rejoining,
        ...(t !== undefined
          ? {
              tls: {
                subject: t.subject,
                issuer: t.issuer,
                nodeIds: [...t.nodeIds],
                notAfter: t.notAfter,
                daysLeft: Math.floor(((t.notAfterMs - Date.now()) / DAY_MS) * 10) / 10,
                ...(t.caNotAfterMs !== undefined ? { caNotAfter: new Date(t.caNotAfterMs).toISOString() } : {}),
                loadedAt: new Date(t.loadedAtMs).toISOString(),
              },
            }
          : {}),
      },
      200,
    );
  });
}
