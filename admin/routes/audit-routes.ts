// GET /audit: every change an admin token asked for (licenses, forced
// check-ins, named users, tokens, membership), newest first, with the
// token's name; replicated through the log, so every node lists the same.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { AUDIT_ENTRIES_MAX } from '../../daemon/admin-state/index.ts';
import type { AdminDeps } from '../admin-deps.ts';
import type { AdminEnv } from '../admin-env.ts';
import { BEARER_SECURITY, errorResponses, jsonResponse } from '../api-schemas.ts';
import { readAnswer, readBarrier, readSchema, staleQuerySchema } from '../read-barrier.ts';

/** Entries one page holds by default. */
const AUDIT_PAGE_DEFAULT = 100;

/** GET /audit. */
export const auditQuerySchema = staleQuerySchema.extend({
  limit: z.coerce.number().int().min(1).max(AUDIT_ENTRIES_MAX).optional().openapi({ description: `entries, at most (default ${AUDIT_PAGE_DEFAULT})` }),
  before: z.coerce.number().int().nonnegative().optional().openapi({ description: 'only entries with seq below this (the next page: the previous answer’s nextBefore)' }),
});

/** One audit entry. */
export const auditEntrySchema = z
  .object({
    seq: z.number().int().openapi({ description: 'the log index of the change' }),
    at: z.number().openapi({ description: 'ms since the epoch' }),
    actor: z.string().openapi({ description: "the admin token's name" }),
    action: z.string().openapi({ example: 'force-checkin' }),
    target: z.string(),
    detail: z.string(),
    ok: z.boolean(),
    code: z.string().openapi({ description: "the refusal's code when not ok" }),
  })
  .openapi('AuditEntry');

/** What GET /audit answers. */
export const auditPageSchema = z.object({
  entries: z.array(auditEntrySchema),
  nextBefore: z.number().int().nullable().openapi({ description: 'pass as ?before= for the next (older) page; null: no more' }),
});

const listAudit = createRoute({
  method: 'get',
  path: '/audit',
  summary: 'The audit log: every change an admin token asked for, newest first',
  security: BEARER_SECURITY,
  middleware: [readBarrier] as const,
  request: { query: auditQuerySchema },
  responses: { 200: jsonResponse(readSchema(auditPageSchema), 'a page of entries'), ...errorResponses(400, 503) },
});

/** The audit route. */
export function auditRoutes({ node }: AdminDeps) {
  return new OpenAPIHono<AdminEnv>().openapi(listAudit, (c) => {
    const { limit, before } = c.req.valid('query');
    const pageSize = limit ?? AUDIT_PAGE_DEFAULT;
    const entries = node.auditEntries({ limit: pageSize, ...(before !== undefined ? { beforeSeq: before } : {}) });
    const last = entries.at(-1);
    const nextBefore = entries.length === pageSize && last !== undefined ? last.seq : null;
    return c.json(readAnswer(c, { entries, nextBefore }), 200);
  });
}
