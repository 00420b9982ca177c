// The admin HTTP API (Hono), base /api/v1: thin routes over the node's read
// model and its propose(). Every change goes through the log like any client
// request; every error is {"error":{"code","message"}}; nothing is half-applied.
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { ProposalError } from '../daemon/raft-driver/index.ts';
import type { FloeNode } from '../daemon/node/index.ts';
import { bearerAuth } from './bearer-auth.ts';
import { AdminError, errorBody, statusOfCode } from './errors.ts';

/** Options of the admin app. */
export interface AdminAppOptions {
  /** SHA-256 hex digests of the accepted bearer tokens. */
  readonly tokenSha256: readonly string[];
  /** Bytes of a request body, at most. */
  readonly bodyBytesMax: number;
}

const memberAddSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/),
    peerUrl: z.string().url().regex(/^wss?:\/\//),
    clientUrl: z.string().url().optional(),
    publicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  })
  .strict();
const licenseImportSchema = z.object({ key: z.string().min(1).max(20_000) }).strict();
const forceCheckinSchema = z.object({ reason: z.string().max(200).default('') }).strict();
const usageQuerySchema = z.object({
  feature: z.string().max(64).optional(),
  fromMs: z.coerce.number().int().nonnegative().optional(),
  toMs: z.coerce.number().int().nonnegative().optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});

async function jsonBody<T>(c: Context, schema: z.ZodType<T>, emptyAllowed = false): Promise<T> {
  const text = await c.req.text();
  let raw: unknown = {};
  if (text.trim() !== '' || !emptyAllowed) {
    try {
      raw = JSON.parse(text);
    } catch {
      throw new AdminError(400, 'BAD_REQUEST', 'the body is not JSON');
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AdminError(400, 'BAD_REQUEST', `invalid body: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim());
  }
  return parsed.data;
}

/** Builds the admin API over `node`; serve it with @hono/node-server or test it with app.request(). */
export function createAdminApp(node: FloeNode, options: AdminAppOptions): Hono {
  const app = new Hono();
  const api = new Hono();

  api.get('/health', (c) => {
    const s = node.status();
    return c.json({ status: 'ok', nodeId: s.nodeId, role: s.role, leaderId: s.leaderId, term: s.term, appliedIndex: s.appliedIndex, readyCount: node.readyCount, transactionCount: node.transactionCount, syncCount: node.syncCount });
  });

  api.use('*', bearerAuth(options.tokenSha256));
  api.use(
    '*',
    bodyLimit({
      maxSize: options.bodyBytesMax,
      onError: (c) => c.json(errorBody('BAD_REQUEST', `the body is larger than ${options.bodyBytesMax} bytes`), 413),
    }),
  );

  // Reads are linearizable by default (a ReadIndex barrier through the leader; 503 UNAVAILABLE
  // when none answers); ?stale=true reads this node's state as it is and says how far behind it may be.
  api.use('*', async (c, next) => {
    if (c.req.method !== 'GET' || c.req.path.endsWith('/health') || c.req.path.endsWith('/cluster')) return next();
    const stale = c.req.query('stale') === 'true';
    if (!stale) await node.readBarrier();
    await next();
    if (stale) {
      const s = node.status();
      c.header('x-floe-stale', 'true');
      c.header('x-floe-applied-index', String(s.appliedIndex));
      c.header('x-floe-commit-index', String(s.commitIndex));
    }
  });

  /** A stale read's body: the data plus how far behind this node may be. */
  const staleBody = <T>(c: Context, data: T) => {
    if (c.req.query('stale') !== 'true') return data;
    const s = node.status();
    return { stale: true, nodeId: s.nodeId, role: s.role, appliedIndex: s.appliedIndex, leaderCommitIndex: s.commitIndex, lagEntries: s.commitIndex - s.appliedIndex, data };
  };

  api.get('/cluster', (c) => {
    const s = node.status();
    return c.json({ ...node.clusterStatus(), engine: s.engine });
  });

  api.post('/cluster/members', async (c) => {
    const body = await jsonBody(c, memberAddSchema);
    await node.addMember(body.id, { peerUrl: body.peerUrl, publicKey: body.publicKey, ...(body.clientUrl !== undefined ? { clientUrl: body.clientUrl } : {}) });
    return c.json({ ...node.clusterStatus() }, 201);
  });

  api.delete('/cluster/members/:id', async (c) => {
    await node.removeMember(c.req.param('id'));
    return c.json({ ...node.clusterStatus() });
  });

  api.post('/licenses', async (c) => {
    const body = await jsonBody(c, licenseImportSchema);
    const r = await node.importLicense(body.key);
    if (!r.ok) throw new AdminError(statusOfCode(r.code), r.code, r.message);
    return c.json({ licenseId: r.licenseId, features: r.features }, 201);
  });

  api.get('/licenses', (c) =>
    c.json(
      staleBody(c, node.licenses().map((l) => ({
        licenseId: l.licenseId,
        status: l.status,
        features: l.features,
        product: l.payload.product,
        version: l.payload.version,
        model: l.payload.model,
        seats: l.payload.seats,
        notBefore: l.payload.notBefore,
        expiresAt: l.payload.expiresAt ?? null,
        lockCodes: l.payload.lockCodes,
        hostDescription: l.payload.hostDescription ?? null,
        installedAt: l.installedAt,
      }))),
    ),
  );

  api.delete('/licenses/:licenseId', async (c) => {
    const licenseId = c.req.param('licenseId');
    const r = await node.propose({ type: 'license-remove', licenseId });
    if (!r.reply.ok) throw new AdminError(statusOfCode(r.reply.code), r.reply.code, r.reply.message);
    return c.json({ licenseId });
  });

  api.get('/pools', (c) =>
    c.json(
      staleBody(c, node.pools().map((p) => ({
        feature: p.feature,
        version: p.version,
        model: p.model,
        seatsTotal: p.seatsTotal,
        seatsInUse: p.seatsInUse,
        queued: p.queued,
        lingerMs: p.lingerMs,
        users: p.users,
      }))),
    ),
  );

  api.get('/leases', (c) => {
    const feature = c.req.query('feature');
    return c.json(
      // The pool's lease view as it is, less the fencing token (a client's business, not the admin's).
      staleBody(c, node.leases(feature === undefined || feature === '' ? undefined : feature).map(({ fencingToken: _, ...view }) => view)),
    );
  });

  api.delete('/leases/:leaseId', async (c) => {
    const leaseId = c.req.param('leaseId');
    const body = await jsonBody(c, forceCheckinSchema, true);
    const r = await node.propose({ type: 'force-checkin', leaseId, reason: body.reason });
    if (!r.reply.ok) throw new AdminError(statusOfCode(r.reply.code), r.reply.code, r.reply.message);
    return c.json({ leaseId });
  });

  api.get('/sessions', (c) => c.json(staleBody(c, node.sessions())));

  api.get('/usage', (c) => {
    const q = usageQuerySchema.safeParse(c.req.query());
    if (!q.success) throw new AdminError(400, 'BAD_REQUEST', 'usage takes feature, fromMs, toMs and limit');
    const o = q.data;
    return c.json(
      node.usageRows({
        ...(o.feature !== undefined ? { feature: o.feature } : {}),
        ...(o.fromMs !== undefined ? { fromMs: o.fromMs } : {}),
        ...(o.toMs !== undefined ? { toMs: o.toMs } : {}),
        ...(o.limit !== undefined ? { limit: o.limit } : {}),
      }),
    );
  });

  app.route('/api/v1', api);
  app.notFound((c) => c.json(errorBody('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`), 404));
  app.onError((error, c) => {
    if (error instanceof AdminError) return c.json(errorBody(error.code, error.message), error.status);
    if (error instanceof ProposalError) {
      const leader = error.leaderId === '' ? '' : ` (leader: ${error.leaderId})`;
      return c.json(errorBody('UNAVAILABLE', `${error.message}${leader}; retry`), 503);
    }
    return c.json(errorBody('INTERNAL', 'the server failed to answer'), 500);
  });
  return app;
}
