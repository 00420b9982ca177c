// The vendor role of the API, behind a staff member's bearer token (made by
// `floe keycenter staff add`): accounts, orders (whose contacts become members
// and are mailed), and the support actions — members added to any account,
// certificates re-sent, activations raised, keys rehosted — each audited with
// the staff member's name. The same rule functions as the CLI's.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import { accountNamed, addOrder, createAccount, listAccounts, ordersOf, resendCertificate } from '../../accounts.ts';
import { AUDIT_LIST_MAX } from '../../audit-trail.ts';
import { raiseActivations } from '../../entitlement.ts';
import { KeyCenterError } from '../../key-center-error.ts';
import { addMember, membersOf } from '../../members.ts';
import { accountInputSchema, orderInputSchema, siteNumberSchema } from '../../order-input.ts';
import { staffOfToken } from '../../staff.ts';
import {
  accountSchema,
  auditSchema,
  codeSchema,
  errorResponses,
  jsonRequestBody,
  jsonResponse,
  keySchema,
  memberSchema,
  orderSchema,
} from '../api-schemas.ts';
import type { KcEnv } from '../server-env.ts';

/** The security requirement of the vendor routes. */
const STAFF_SECURITY = [{ staffToken: [] }];

/** Middleware: the request carries a staff member's bearer token (c.var.staff), else 401 UNAUTHORIZED. */
export const staffAuth = createMiddleware<KcEnv>(async (c, next) => {
  const header = c.req.header('authorization') ?? '';
  const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  const staff = token === undefined ? undefined : await staffOfToken(c.var.kc.ctx, token);
  if (staff === undefined) throw new KeyCenterError('UNAUTHORIZED', 'the vendor routes need a staff token: "Authorization: Bearer kcs_…" (floe keycenter staff add)');
  c.set('staff', staff);
  await next();
});

const siteParams = z.object({ siteNumber: siteNumberSchema });
const lockCodesBody = z
  .object({ lockCodes: z.array(z.string().max(256)).max(10), hostDescription: z.string().max(200).optional() })
  .strict()
  .openapi('RehostRequest');

const createAccountRoute = createRoute({
  method: 'post',
  path: '/vendor/accounts',
  summary: 'Create a customer account, keyed by its site number',
  security: STAFF_SECURITY,
  middleware: [staffAuth] as const,
  request: { body: jsonRequestBody(accountInputSchema) },
  responses: { 201: jsonResponse(accountSchema, 'created'), ...errorResponses(400, 401, 409, 413, 415) },
});

const listAccountsRoute = createRoute({
  method: 'get',
  path: '/vendor/accounts',
  summary: 'Every account',
  security: STAFF_SECURITY,
  middleware: [staffAuth] as const,
  responses: { 200: jsonResponse(z.array(accountSchema), 'the accounts'), ...errorResponses(401) },
});

const accountRoute = createRoute({
  method: 'get',
  path: '/vendor/accounts/{siteNumber}',
  summary: 'One account with its members and orders',
  security: STAFF_SECURITY,
  middleware: [staffAuth] as const,
  request: { params: siteParams },
  responses: {
    200: jsonResponse(z.object({ account: accountSchema, members: z.array(memberSchema), orders: z.array(orderSchema) }), 'the account'),
    ...errorResponses(400, 401, 404),
  },
});

const addOrderRoute = createRoute({
  method: 'post',
  path: '/vendor/accounts/{siteNumber}/orders',
  summary: "Record an order; its contacts become the account's admins and get a welcome mail and the certificate",
  security: STAFF_SECURITY,
  middleware: [staffAuth] as const,
  request: { params: siteParams, body: jsonRequestBody(orderInputSchema) },
  responses: { 201: jsonResponse(orderSchema, 'recorded'), ...errorResponses(400, 401, 404, 409, 413, 415) },
});

const addMemberRoute = createRoute({
  method: 'post',
  path: '/vendor/accounts/{siteNumber}/members',
  summary: 'Add a member to an account (support; audited)',
  security: STAFF_SECURITY,
  middleware: [staffAuth] as const,
  request: {
    params: siteParams,
    body: jsonRequestBody(z.object({ email: z.string().max(254), name: z.string().max(120), role: z.enum(['admin', 'member']).optional() }).strict().openapi('MemberInput')),
  },
  responses: { 201: jsonResponse(memberSchema, 'added'), ...errorResponses(400, 401, 404, 409, 415) },
});

const certificateRoute = createRoute({
  method: 'post',
  path: '/vendor/orders/{orderId}/certificate',
  summary: "Mail an order's authorization certificate to its contacts again (support; audited)",
  security: STAFF_SECURITY,
  middleware: [staffAuth] as const,
  request: { params: z.object({ orderId: z.string().max(40) }) },
  responses: { 202: jsonResponse(z.object({ orderId: z.string(), to: z.array(z.string()) }), 'queued'), ...errorResponses(401, 404) },
});

const raiseRoute = createRoute({
  method: 'post',
  path: '/vendor/codes/{authCode}/raise',
  summary: 'Allow a concurrent code more activations (support; audited)',
  security: STAFF_SECURITY,
  middleware: [staffAuth] as const,
  request: { params: z.object({ authCode: z.string().max(64) }), body: jsonRequestBody(z.object({ by: z.number().int().min(1).max(100).default(1) }).strict()) },
  responses: { 200: jsonResponse(codeSchema, 'raised'), ...errorResponses(400, 401, 404, 415) },
});

const rehostRoute = createRoute({
  method: 'post',
  path: '/vendor/licenses/{licenseId}/rehost',
  summary: 'Issue a key for other lock codes that supersedes this one (same code, order and seats)',
  security: STAFF_SECURITY,
  middleware: [staffAuth] as const,
  request: { params: z.object({ licenseId: z.string().max(64) }), body: jsonRequestBody(lockCodesBody) },
  responses: { 201: jsonResponse(keySchema, 'the new key'), ...errorResponses(400, 401, 404, 409, 410, 415, 422) },
});

const keysRoute = createRoute({
  method: 'get',
  path: '/vendor/keys',
  summary: 'Issued keys, with status and supersede links (all, or one account\'s)',
  security: STAFF_SECURITY,
  middleware: [staffAuth] as const,
  request: { query: z.object({ site: siteNumberSchema.optional() }) },
  responses: { 200: jsonResponse(z.array(keySchema), 'the keys'), ...errorResponses(400, 401) },
});

const auditRoute = createRoute({
  method: 'get',
  path: '/vendor/audit',
  summary: 'The audit trail, newest first',
  security: STAFF_SECURITY,
  middleware: [staffAuth] as const,
  request: { query: z.object({ site: siteNumberSchema.optional(), limit: z.coerce.number().int().min(1).max(AUDIT_LIST_MAX).default(100) }) },
  responses: { 200: jsonResponse(z.array(auditSchema), 'the entries'), ...errorResponses(400, 401) },
});

/** The vendor routes (staff token required). */
export function vendorRoutes() {
  const actor = (name: string) => `vendor:${name}`;
  return new OpenAPIHono<KcEnv>()
    .openapi(createAccountRoute, async (c) => c.json(await createAccount(c.var.kc.ctx, c.req.valid('json'), actor(c.var.staff.name)), 201))
    .openapi(listAccountsRoute, async (c) => c.json(await listAccounts(c.var.kc.ctx), 200))
    .openapi(accountRoute, async (c) => {
      const { siteNumber } = c.req.valid('param');
      const ctx = c.var.kc.ctx;
      const account = await accountNamed(ctx, siteNumber);
      return c.json({ account, members: await membersOf(ctx, siteNumber), orders: await ordersOf(ctx, siteNumber) }, 200);
    })
    .openapi(addOrderRoute, async (c) => c.json(await addOrder(c.var.kc.ctx, c.req.valid('param').siteNumber, c.req.valid('json'), actor(c.var.staff.name)), 201))
    .openapi(addMemberRoute, async (c) =>
      c.json(await addMember(c.var.kc.ctx, { siteNumber: c.req.valid('param').siteNumber, actor: actor(c.var.staff.name) }, c.req.valid('json')), 201),
    )
    .openapi(certificateRoute, async (c) => {
      const order = await resendCertificate(c.var.kc.ctx, c.req.valid('param').orderId, actor(c.var.staff.name));
      return c.json({ orderId: order.orderId, to: order.contacts.map((x) => x.email) }, 202);
    })
    .openapi(raiseRoute, async (c) => c.json(await raiseActivations(c.var.kc.ctx, c.req.valid('param').authCode, c.req.valid('json').by, actor(c.var.staff.name)), 200))
    .openapi(rehostRoute, async (c) => {
      const body = c.req.valid('json');
      return c.json(await c.var.kc.rehost({ licenseId: c.req.valid('param').licenseId, lockCodes: body.lockCodes, hostDescription: body.hostDescription }, { actor: actor(c.var.staff.name) }), 201);
    })
    .openapi(keysRoute, async (c) => c.json(await c.var.kc.listKeys({ siteNumber: c.req.valid('query').site }), 200))
    .openapi(auditRoute, async (c) => {
      const { site, limit } = c.req.valid('query');
      return c.json(await c.var.kc.ctx.store.read((q) => q.audit({ siteNumber: site, limit })), 200);
    });
}
