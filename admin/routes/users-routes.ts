// The named users of authorized-user pools (CONTRACT.md: PUT
// /pools/:feature/users): only the users an admin names may check a seat of
// such a pool out. Setting the list is one users-assign command through the
// log; a user no longer named loses its leases, and the usage rows record
// each user added and removed. A feature may have pools of several versions:
// with more than one authorized-user pool the request names the version.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { PoolView } from '../../daemon/pool/index.ts';
import type { FloeNode } from '../../daemon/node/index.ts';
import type { AdminDeps } from '../admin-deps.ts';
import { auditStamp, type AdminEnv } from '../admin-env.ts';
import { BEARER_SECURITY, errorResponses, jsonRequestBody, jsonResponse } from '../api-schemas.ts';
import { AdminError, statusOfCode } from '../errors.ts';
import { readAnswer, readBarrier, readSchema, staleQuerySchema } from '../read-barrier.ts';
import { requireRole } from '../require-role.ts';

/** Users one request may name, at most (a pool names at most its seat count anyway). */
export const NAMED_USERS_MAX = 10_000;
/** Characters of a user name, as a client's hello carries it. */
export const USER_NAME_CHARS_MAX = 128;

const userNameSchema = z.string().min(1).max(USER_NAME_CHARS_MAX);
const versionSchema = z.string().min(1).max(64).optional().openapi({ description: "the pool's version; needed when the feature has several authorized-user pools" });

/** PUT /pools/:feature/users. */
export const usersSetSchema = z
  .object({
    users: z.array(userNameSchema).max(NAMED_USERS_MAX).openapi({ description: 'the named users, replacing the previous list (duplicates count once)' }),
    version: versionSchema,
  })
  .strict()
  .openapi('NamedUsersSet');

/** What both routes answer: the pool's named users. */
export const namedUsersSchema = z
  .object({
    feature: z.string(),
    version: z.string(),
    users: z.array(z.string()),
    seatsTotal: z.number().int().openapi({ description: 'how many users may be named' }),
    seatsInUse: z.number().int().openapi({ description: 'named users holding a seat now' }),
  })
  .openapi('NamedUsers');

const featureParamSchema = z.object({ feature: z.string().min(1).max(64) });

const setUsers = createRoute({
  method: 'put',
  path: '/pools/{feature}/users',
  summary: 'Name the users of an authorized-user pool (replaces the list; a user no longer named loses its seat)',
  security: BEARER_SECURITY,
  middleware: [requireRole('operator')] as const,
  request: { params: featureParamSchema, body: jsonRequestBody(usersSetSchema) },
  responses: { 200: jsonResponse(namedUsersSchema, 'the named users now'), ...errorResponses(400, 404, 409, 413, 415, 422, 503) },
});

const getUsers = createRoute({
  method: 'get',
  path: '/pools/{feature}/users',
  summary: 'The named users of an authorized-user pool',
  security: BEARER_SECURITY,
  middleware: [readBarrier] as const,
  request: { params: featureParamSchema, query: staleQuerySchema.extend({ version: versionSchema }) },
  responses: { 200: jsonResponse(readSchema(namedUsersSchema), 'the named users'), ...errorResponses(400, 404, 409, 422, 503) },
});

/** The authorized-user pool of `feature` the request means; throws AdminError when none or several could be. */
function namedPool(node: FloeNode, feature: string, version: string | undefined): PoolView {
  const pools = node.pools().filter((p) => p.feature === feature);
  if (pools.length === 0) throw new AdminError(404, 'POOL_NOT_FOUND', `no pool of ${feature}: no license of it is installed`);
  if (version !== undefined) {
    const pool = pools.find((p) => p.version === version);
    if (pool === undefined) throw new AdminError(404, 'POOL_NOT_FOUND', `${feature} has no pool of version ${version} (there are ${pools.map((p) => p.version).join(', ')})`);
    if (pool.model !== 'authorized-user') throw new AdminError(422, 'POOL_NOT_AUTHORIZED_USER', `${feature} ${version} is a ${pool.model} pool: its seats float, nobody is named`);
    return pool;
  }
  const named = pools.filter((p) => p.model === 'authorized-user');
  if (named.length === 0) throw new AdminError(422, 'POOL_NOT_AUTHORIZED_USER', `${feature} has no authorized-user pool: its seats float, nobody is named`);
  if (named.length > 1) {
    throw new AdminError(409, 'VERSION_REQUIRED', `${feature} has authorized-user pools of versions ${named.map((p) => p.version).join(', ')}: say which with "version"`);
  }
  return named[0]!;
}

function answer(pool: PoolView) {
  return { feature: pool.feature, version: pool.version, users: [...pool.users], seatsTotal: pool.seatsTotal, seatsInUse: pool.seatsInUse };
}

/** The named-user routes. */
export function usersRoutes({ node }: AdminDeps) {
  return new OpenAPIHono<AdminEnv>()
    .openapi(setUsers, async (c) => {
      const { feature } = c.req.valid('param');
      const body = c.req.valid('json');
      const pool = namedPool(node, feature, body.version);
      const r = await node.propose({ type: 'users-assign', feature, version: pool.version, users: body.users }, auditStamp(c));
      if (!r.reply.ok) throw new AdminError(statusOfCode(r.reply.code), r.reply.code, r.reply.message);
      return c.json(answer(namedPool(node, feature, pool.version)), 200);
    })
    .openapi(getUsers, (c) => {
      const { feature } = c.req.valid('param');
      return c.json(readAnswer(c, answer(namedPool(node, feature, c.req.valid('query').version))), 200);
    });
}
