// The seat pools as they are now: pools, leases (and freeing one: a forced
// check-in through the log), sessions. Reads go through the read barrier.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AdminDeps } from '../admin-deps.ts';
import { auditStamp, type AdminEnv } from '../admin-env.ts';
import { BEARER_SECURITY, errorResponses, jsonRequestBody, jsonResponse } from '../api-schemas.ts';
import { AdminError, statusOfCode } from '../errors.ts';
import { optionalJsonBody } from '../optional-json-body.ts';
import { readAnswer, readBarrier, readSchema, staleQuerySchema } from '../read-barrier.ts';
import { requireRole } from '../require-role.ts';

/** Characters of a forced check-in's reason, at most. */
export const FORCE_CHECKIN_REASON_CHARS_MAX = 200;

/** One pool, as GET /pools lists it. */
export const poolSchema = z
  .object({
    feature: z.string(),
    version: z.string(),
    model: z.string(),
    seatsTotal: z.number().int(),
    seatsInUse: z.number().int().openapi({ description: 'seats held: in use, lingering or borrowed' }),
    seatsReservedIdle: z.number().int().openapi({ description: 'seats not in use but held back for reservations of the seat policy (apart from seatsInUse)' }),
    seatsBorrowed: z.number().int().openapi({ description: 'seats taken offline (counted in seatsInUse too)' }),
    seatsLingering: z.number().int().openapi({ description: 'seats checked in and held for their last user until the linger ends (counted in seatsInUse too)' }),
    queued: z.number().int(),
    lingerMs: z.number().int(),
    users: z.array(z.string()).openapi({ description: 'authorized-user pools: the named users' }),
  })
  .openapi('Pool');

/** One lease, as GET /leases lists it (times in ms since the epoch, on the leader's clock). */
export const leaseSchema = z
  .object({
    leaseId: z.string(),
    feature: z.string(),
    version: z.string(),
    count: z.number().int(),
    user: z.string(),
    host: z.string(),
    clientId: z.string(),
    sessionId: z.string(),
    checkedOutAt: z.number(),
    expiresAt: z.number(),
    lingering: z.boolean(),
    borrowed: z.boolean().openapi({ description: 'taken offline until expiresAt (no heartbeat needed)' }),
    borrowRevoked: z.boolean().openapi({ description: 'borrowed and revoked while its client was offline: the seat comes back at expiresAt or when the client next connects' }),
  })
  .openapi('Lease');

/** One open session, as GET /sessions lists it. */
export const sessionSchema = z
  .object({
    sessionId: z.string(),
    clientId: z.string(),
    user: z.string(),
    host: z.string(),
    app: z.string(),
    openedAt: z.number(),
    expiresAt: z.number(),
    leaseCount: z.number().int(),
    queuedCount: z.number().int(),
  })
  .openapi('Session');

/** DELETE /leases/:leaseId (the body is optional). */
export const forceCheckinSchema = z.object({ reason: z.string().max(FORCE_CHECKIN_REASON_CHARS_MAX).default('') }).strict();

/** GET /leases. */
export const leaseQuerySchema = staleQuerySchema.extend({ feature: z.string().max(64).optional() });

const listPools = createRoute({
  method: 'get',
  path: '/pools',
  summary: 'Every pool: seats in use, total, queued',
  security: BEARER_SECURITY,
  middleware: [readBarrier] as const,
  request: { query: staleQuerySchema },
  responses: { 200: jsonResponse(readSchema(z.array(poolSchema)), 'the pools'), ...errorResponses(400, 503) },
});

const listLeases = createRoute({
  method: 'get',
  path: '/leases',
  summary: "Every lease, or one feature's",
  security: BEARER_SECURITY,
  middleware: [readBarrier] as const,
  request: { query: leaseQuerySchema },
  responses: { 200: jsonResponse(readSchema(z.array(leaseSchema)), 'the leases'), ...errorResponses(400, 503) },
});

const forceCheckin = createRoute({
  method: 'delete',
  path: '/leases/{leaseId}',
  summary: 'Force a check-in: the seat is freed at once and its holder gets a revoked push (a borrowed seat of an offline client: when its borrow ends or the client next connects)',
  security: BEARER_SECURITY,
  middleware: [requireRole('operator'), optionalJsonBody] as const,
  request: { params: z.object({ leaseId: z.string() }), body: jsonRequestBody(forceCheckinSchema, false) },
  responses: {
    200: jsonResponse(
      z.object({
        leaseId: z.string(),
        seatFree: z.boolean().openapi({ description: 'false: a borrowed seat whose client is offline, not back yet' }),
        seatFreeBy: z.number().optional().openapi({ description: 'when seatFree is false: the borrow end (ms since the epoch); earlier if the client connects first' }),
        message: z.string(),
      }),
      'freed, or (a borrowed seat of an offline client) revoked',
    ),
    ...errorResponses(400, 404, 413, 415, 503),
  },
});

const listSessions = createRoute({
  method: 'get',
  path: '/sessions',
  summary: 'Every open client session',
  security: BEARER_SECURITY,
  middleware: [readBarrier] as const,
  request: { query: staleQuerySchema },
  responses: { 200: jsonResponse(readSchema(z.array(sessionSchema)), 'the sessions'), ...errorResponses(400, 503) },
});

/** The pool, lease and session routes. */
export function poolRoutes({ node }: AdminDeps) {
  return new OpenAPIHono<AdminEnv>()
    .openapi(listPools, (c) => c.json(readAnswer(c, node.pools().map((p) => ({ ...p, users: [...p.users] }))), 200))
    .openapi(listLeases, (c) => {
      const { feature } = c.req.valid('query');
      // The pool's lease view as it is, less the fencing token (a client's business, not the admin's).
      const leases = node.leases(feature === undefined || feature === '' ? undefined : feature).map(({ fencingToken: _, ...view }) => view);
      return c.json(readAnswer(c, leases), 200);
    })
    .openapi(forceCheckin, async (c) => {
      const { leaseId } = c.req.valid('param');
      const r = await node.propose({ type: 'force-checkin', leaseId, reason: c.req.valid('json').reason ?? '' }, auditStamp(c));
      if (!r.reply.ok) throw new AdminError(statusOfCode(r.reply.code), r.reply.code, r.reply.message);
      const until = r.reply.type === 'force-checked-in' ? r.reply.borrowedUntilMs : undefined;
      if (until !== undefined) {
        return c.json(
          {
            leaseId,
            seatFree: false,
            seatFreeBy: until,
            message: `The seat is borrowed by a client that is offline: it keeps a valid token until ${new Date(until).toISOString()}. The seat comes back then, or as soon as that client connects to any server.`,
          },
          200,
        );
      }
      return c.json({ leaseId, seatFree: true, message: 'The seat is free.' }, 200);
    })
    .openapi(listSessions, (c) => c.json(readAnswer(c, node.sessions()), 200));
}
