// GET /lock-codes: how this node judges the installed keys under their lock
// codes now (served here or why not), the lock codes this node and its peers
// state, and the members refused for presenting one lock code twice. A fact
// of this node (its peers' connections), so not behind the read barrier:
// ask each node, and ask it even when it is cut off from the leader.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AdminDeps } from '../admin-deps.ts';
import type { AdminEnv } from '../admin-env.ts';
import { BEARER_SECURITY, errorResponses, jsonResponse } from '../api-schemas.ts';

/** GET /lock-codes. */
export const lockCodesSchema = z
  .object({
    nodeId: z.string(),
    members: z.array(
      z.object({
        id: z.string(),
        lockCode: z.string().nullable().openapi({ description: 'its tolerant lock code (or the one code a 0.1 node states); null: not known yet' }),
        legacyLockCode: z.string().optional().openapi({ description: 'its 0.1 lock code, which keys issued before 0.2 name' }),
        connected: z.boolean(),
        self: z.boolean(),
      }),
    ),
    duplicates: z
      .array(z.object({ code: z.literal('LOCK_CODE_DUPLICATE'), lockCode: z.string(), members: z.array(z.string()) }))
      .openapi({ description: 'members presenting one lock code (a copied identity, a cloned machine): none of them counts for any key' }),
    licenses: z.array(
      z.object({
        licenseId: z.string(),
        served: z.boolean().openapi({ description: 'its seats may be served by this node now' }),
        code: z.enum(['LICENSE_NOT_FOR_THIS_SERVER', 'LICENSE_QUORUM_LOST']).optional(),
        message: z.string().optional(),
      }),
    ),
  })
  .openapi('LockCodes');

const getLockCodes = createRoute({
  method: 'get',
  path: '/lock-codes',
  summary: "This node's view of the keys' lock rules: which keys it serves, the members' lock codes, duplicates",
  security: BEARER_SECURITY,
  responses: { 200: jsonResponse(lockCodesSchema, 'the lock codes'), ...errorResponses() },
});

/** The lock-code route. */
export function lockCodeRoutes({ node }: AdminDeps) {
  return new OpenAPIHono<AdminEnv>().openapi(getLockCodes, (c) =>
    c.json(
      {
        nodeId: node.config.nodeId,
        members: node.memberLockCodes().map((m) => ({ ...m, lockCode: m.lockCode ?? null })),
        duplicates: node.duplicateLockCodes().map((d) => ({ ...d, members: [...d.members] })),
        licenses: node.licenseKeyStates().map((k) => ({
          licenseId: k.licenseId,
          served: k.served,
          ...(k.refusal === undefined ? {} : { code: k.refusal.code, message: k.refusal.message }),
        })),
      },
      200,
    ),
  );
}
