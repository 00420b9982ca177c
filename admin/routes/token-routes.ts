// Admin tokens: create (the token is shown once, only its digest is kept,
// through the log), list, revoke. The config file's tokens are listed too but
// are changed by editing the config.
import { randomBytes } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { TOKEN_NAME_PATTERN } from '../../daemon/admin-state/index.ts';
import type { AdminDeps } from '../admin-deps.ts';
import { auditStamp, type AdminEnv } from '../admin-env.ts';
import { adminRoleSchema } from '../admin-role.ts';
import { BEARER_SECURITY, errorResponses, jsonRequestBody, jsonResponse } from '../api-schemas.ts';
import { hashToken } from '../bearer-auth.ts';
import { AdminError, statusOfCode } from '../errors.ts';
import { readAnswer, readBarrier, readSchema, staleQuerySchema } from '../read-barrier.ts';
import { requireRole } from '../require-role.ts';

/** Random bytes in a token (256 bits). */
const TOKEN_RANDOM_BYTES = 32;
/** Every token the API creates starts so (secret scanners can recognise it). */
export const TOKEN_PREFIX = 'floe_';

const tokenNameSchema = z.string().regex(TOKEN_NAME_PATTERN).openapi({ description: 'letters, digits, . _ -; up to 64; not config-…', example: 'grafana' });

/** POST /tokens. */
export const tokenCreateSchema = z.object({ role: adminRoleSchema, name: tokenNameSchema }).strict();

/** What POST /tokens answers: the token itself, this once. */
export const tokenCreatedSchema = z.object({ token: z.string(), name: z.string(), role: adminRoleSchema }).openapi('TokenCreated');

/** One token, as GET /tokens lists it. */
export const tokenSchema = z
  .object({
    name: z.string(),
    role: adminRoleSchema,
    source: z.enum(['api', 'config']),
    createdAt: z.number().nullable().openapi({ description: 'ms since the epoch; null for the config file’s tokens' }),
    createdBy: z.string(),
    lastUsedAt: z.number().nullable().openapi({ description: 'ms since the epoch, recorded through the log up to a minute late; null: never (or a config token)' }),
  })
  .openapi('Token');

const createToken = createRoute({
  method: 'post',
  path: '/tokens',
  summary: 'Create an admin token; the answer is the only time the token is shown',
  security: BEARER_SECURITY,
  middleware: [requireRole('admin')] as const,
  request: { body: jsonRequestBody(tokenCreateSchema) },
  responses: { 201: jsonResponse(tokenCreatedSchema, 'created'), ...errorResponses(400, 409, 413, 415, 503) },
});

const listTokens = createRoute({
  method: 'get',
  path: '/tokens',
  summary: 'Every admin token: name, role, creation and last use (never the token)',
  security: BEARER_SECURITY,
  middleware: [requireRole('admin'), readBarrier] as const,
  request: { query: staleQuerySchema },
  responses: { 200: jsonResponse(readSchema(z.array(tokenSchema)), 'the tokens'), ...errorResponses(400, 503) },
});

const revokeToken = createRoute({
  method: 'delete',
  path: '/tokens/{name}',
  summary: 'Revoke a token: it is refused from the moment the revocation applies',
  security: BEARER_SECURITY,
  middleware: [requireRole('admin')] as const,
  request: { params: z.object({ name: z.string() }) },
  responses: { 200: jsonResponse(z.object({ name: z.string() }), 'revoked'), ...errorResponses(404, 409, 503) },
});

/** The token routes; `configTokenCount`: how many tokens the config file holds. */
export function tokenRoutes({ node }: AdminDeps, configTokenCount: number) {
  return new OpenAPIHono<AdminEnv>()
    .openapi(createToken, async (c) => {
      const { role, name } = c.req.valid('json');
      const token = `${TOKEN_PREFIX}${randomBytes(TOKEN_RANDOM_BYTES).toString('base64url')}`;
      const r = await node.proposeAdmin({ type: 'token-create', name, role, tokenSha256: hashToken(token) }, auditStamp(c));
      if (!r.reply.ok) throw new AdminError(statusOfCode(r.reply.code), r.reply.code, r.reply.message);
      return c.json({ token, name, role }, 201);
    })
    .openapi(listTokens, (c) => {
      const config = Array.from({ length: configTokenCount }, (_, i) => ({
        name: `config-${i + 1}`,
        role: 'admin' as const,
        source: 'config' as const,
        createdAt: null,
        createdBy: '',
        lastUsedAt: null,
      }));
      const api = node.adminTokens().map((t) => ({ ...t, source: 'api' as const }));
      return c.json(readAnswer(c, [...config, ...api]), 200);
    })
    .openapi(revokeToken, async (c) => {
      const { name } = c.req.valid('param');
      if (/^config-\d+$/.test(name)) throw new AdminError(409, 'TOKEN_IN_CONFIG', `${name} is a token of the config file (adminTokenSha256): remove it there`);
      const r = await node.proposeAdmin({ type: 'token-revoke', name }, auditStamp(c));
      if (!r.reply.ok) throw new AdminError(statusOfCode(r.reply.code), r.reply.code, r.reply.message);
      return c.json({ name }, 200);
    });
}
