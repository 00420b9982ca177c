// The seat policy (docs/policy.md): GET /policy, the one policy in force;
// PUT /policy, a new version from Floe's TOML or a FlexNet options file
// (?dryRun=true: parse, check, and list the leases it would refuse, changing
// nothing); GET /policy/explain, what a checkout would get now and the rule
// that decides. Setting it is one policy-set command through the log.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AdminDeps } from '../admin-deps.ts';
import type { AdminEnv } from '../admin-env.ts';
import { BEARER_SECURITY, errorResponses, errorSchema, jsonRequestBody, jsonResponse } from '../api-schemas.ts';
import { AdminError, statusOfCode } from '../errors.ts';
import { readAnswer, readBarrier, readSchema, staleQuerySchema } from '../read-barrier.ts';
import { requireRole } from '../require-role.ts';

/** Characters of a policy text in a request, at most (the parser's own limit is in bytes: 256 KiB). */
export const POLICY_TEXT_CHARS_MAX = 256 * 1024;

const diagnosticSchema = z
  .object({
    line: z.number().int().openapi({ description: '1-based; 0 for the document as a whole' }),
    column: z.number().int(),
    code: z.string(),
    message: z.string(),
  })
  .openapi('PolicyDiagnostic');

/** PUT /policy. */
export const policySetSchema = z
  .object({
    format: z.enum(['floe', 'flexlm-options']).openapi({ description: "floe: Floe's TOML; flexlm-options: a FlexNet options file as it is" }),
    text: z.string().max(POLICY_TEXT_CHARS_MAX),
    revokeViolating: z.boolean().default(false).openapi({ description: 'revoke the leases the new policy refuses (by default they keep their seats)' }),
    expectedVersion: z.number().int().nonnegative().optional().openapi({ description: 'refused with POLICY_VERSION_CONFLICT unless the policy in force has this version' }),
  })
  .strict()
  .openapi('PolicySet');

const policyValueSchema = z.record(z.string(), z.unknown()).openapi({ description: 'the parsed policy (protocol/policy.ts)' });

/** GET /policy. */
export const policyViewSchema = z
  .object({
    version: z.number().int().openapi({ description: '0 before any policy was set' }),
    format: z.enum(['floe', 'flexlm-options']),
    text: z.string(),
    policy: policyValueSchema,
    setAt: z.number().openapi({ description: 'ms since the epoch; 0 before any' }),
  })
  .openapi('Policy');

const violationSchema = z
  .object({
    leaseId: z.string(),
    feature: z.string(),
    version: z.string(),
    user: z.string(),
    host: z.string(),
    lingering: z.boolean(),
    code: z.string(),
    message: z.string(),
  })
  .openapi('PolicyViolation');

/** What PUT /policy answers. */
export const policySetAnswerSchema = z
  .object({
    dryRun: z.boolean(),
    version: z.number().int().openapi({ description: 'the version set (a dry run: the one it would get)' }),
    policy: policyValueSchema,
    warnings: z.array(diagnosticSchema),
    violations: z.array(violationSchema).openapi({ description: 'current leases the policy refuses; they keep their seats unless revokeViolating' }),
    revokedLeaseIds: z.array(z.string()),
    dequeuedCount: z.number().int().openapi({ description: 'queued checkouts that left their queues: the new policy excludes them' }),
  })
  .openapi('PolicySetAnswer');

const policyErrorSchema = errorSchema.extend({
  error: errorSchema.shape.error.extend({ errors: z.array(diagnosticSchema), warnings: z.array(diagnosticSchema) }),
});

/** GET /policy/explain. */
export const explainQuerySchema = staleQuerySchema.extend({
  feature: z.string().min(1).max(64),
  user: z.string().min(1).max(128),
  host: z.string().min(1).max(128),
  app: z.string().min(1).max(128).default('app'),
  ip: z.string().max(64).default(''),
  version: z.string().min(1).max(32).optional(),
  count: z.coerce.number().int().min(1).max(1000).default(1),
});

/** What GET /policy/explain answers. */
export const explanationSchema = z
  .object({
    decision: z.enum(['granted', 'queued', 'refused']),
    code: z.string().openapi({ description: "the refusal's code; '' when granted or queued" }),
    message: z.string(),
    rules: z.array(z.string()).openapi({ description: 'the rules that decide: a refusal names one; a grant the reservations and max limits it counts on' }),
    version: z.string(),
    queuePosition: z.number().int(),
    policyVersion: z.number().int(),
  })
  .openapi('CheckoutExplanation');

const getPolicy = createRoute({
  method: 'get',
  path: '/policy',
  summary: 'The seat policy in force: version, format, source text and parsed value',
  security: BEARER_SECURITY,
  middleware: [readBarrier] as const,
  request: { query: staleQuerySchema },
  responses: { 200: jsonResponse(readSchema(policyViewSchema), 'the policy'), ...errorResponses(400, 503) },
});

const putPolicy = createRoute({
  method: 'put',
  path: '/policy',
  summary: 'Set the seat policy (a new version), or with ?dryRun=true only check it and list the leases it would refuse',
  security: BEARER_SECURITY,
  middleware: [requireRole('admin')] as const,
  request: {
    query: z.object({ dryRun: z.enum(['true', 'false']).optional().openapi({ description: 'true: parse and report, change nothing' }) }),
    body: jsonRequestBody(policySetSchema),
  },
  responses: {
    200: jsonResponse(policySetAnswerSchema, 'set, or checked'),
    422: jsonResponse(policyErrorSchema, 'POLICY_INVALID: errors with line and column (nothing set)'),
    ...errorResponses(400, 409, 413, 415, 503),
  },
});

const explain = createRoute({
  method: 'get',
  path: '/policy/explain',
  summary: 'What a checkout by this user, host and app would get now, and the rule that decides',
  security: BEARER_SECURITY,
  middleware: [readBarrier] as const,
  request: { query: explainQuerySchema },
  responses: { 200: jsonResponse(explanationSchema, 'the decision'), ...errorResponses(400, 503) },
});

/** The policy routes. */
export function policyRoutes({ node }: AdminDeps) {
  return new OpenAPIHono<AdminEnv>()
    .openapi(getPolicy, (c) => c.json(readAnswer(c, node.policy() as unknown as z.infer<typeof policyViewSchema>), 200))
    .openapi(putPolicy, async (c) => {
      const body = c.req.valid('json');
      const o = await node.setPolicy({
        format: body.format,
        text: body.text,
        dryRun: c.req.valid('query').dryRun === 'true',
        revokeViolating: body.revokeViolating ?? false,
        ...(body.expectedVersion !== undefined ? { expectedVersion: body.expectedVersion } : {}),
      });
      if (!o.ok) {
        if (o.code === 'POLICY_INVALID') {
          return c.json({ error: { code: o.code, message: o.message, errors: [...o.errors], warnings: [...o.warnings] } }, 422);
        }
        throw new AdminError(o.code === 'POLICY_VERSION_CONFLICT' ? 409 : statusOfCode(o.code), o.code, o.message);
      }
      return c.json(
        {
          dryRun: o.dryRun,
          version: o.version,
          policy: o.policy as unknown as Record<string, unknown>,
          warnings: [...o.warnings],
          violations: [...o.violations],
          revokedLeaseIds: [...o.revokedLeaseIds],
          dequeuedCount: o.dequeuedCount,
        },
        200,
      );
    })
    .openapi(explain, async (c) => {
      const q = c.req.valid('query');
      const answer = await node.explain({
        feature: q.feature,
        user: q.user,
        host: q.host,
        app: q.app ?? 'app',
        ip: q.ip ?? '',
        count: q.count ?? 1,
        ...(q.version !== undefined ? { version: q.version } : {}),
      });
      return c.json({ ...answer, rules: [...answer.rules] }, 200);
    });
}
