// Reads of the replicated state, on any node. Linearizable by default: the
// middleware waits for a ReadIndex barrier through the leader (503
// UNAVAILABLE when none answers in time). `?stale=true` skips the barrier
// and reads this node's state as it is; readAnswer() then wraps the data in
// an envelope saying how far behind the node may be, and the headers repeat it.
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AdminEnv } from './admin-env.ts';

/** The query parameter every read route takes. */
export const staleQuerySchema = z.object({
  stale: z.enum(['true', 'false']).optional().openapi({ description: "true: answer from this node's state at once, without the barrier through the leader" }),
});

/** What a stale read answers: the data plus how far behind this node may be. */
export function staleEnvelopeSchema<T extends z.ZodType>(data: T) {
  return z.object({
    stale: z.literal(true),
    nodeId: z.string(),
    role: z.string(),
    appliedIndex: z.number().int(),
    leaderCommitIndex: z.number().int().openapi({ description: 'the commit index this node last heard from the leader' }),
    lagEntries: z.number().int(),
    data,
  });
}

/** The response schema of a read route: the data, or with ?stale=true its envelope. */
export function readSchema<T extends z.ZodType>(data: T) {
  return z.union([data, staleEnvelopeSchema(data)]);
}

function isStale(c: Context): boolean {
  return c.req.query('stale') === 'true';
}

/** Middleware of every read route: the barrier, or with ?stale=true the x-floe-stale headers. */
export const readBarrier = createMiddleware<AdminEnv>(async (c, next) => {
  const stale = isStale(c);
  if (!stale) await c.var.node.readBarrier();
  await next();
  if (stale) {
    const s = c.var.node.status();
    c.header('x-floe-stale', 'true');
    c.header('x-floe-applied-index', String(s.appliedIndex));
    c.header('x-floe-commit-index', String(s.commitIndex));
  }
});

/** The body of a read: `data`, or with ?stale=true its envelope. */
export function readAnswer<T>(c: Context<AdminEnv>, data: T): T | z.infer<ReturnType<typeof staleEnvelopeSchema<z.ZodType<T>>>> {
  if (!isStale(c)) return data;
  const s = c.var.node.status();
  return { stale: true, nodeId: s.nodeId, role: s.role, appliedIndex: s.appliedIndex, leaderCommitIndex: s.commitIndex, lagEntries: s.commitIndex - s.appliedIndex, data };
}
