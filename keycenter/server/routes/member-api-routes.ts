// What a signed-in member reads through the JSON API (the session cookie of
// the portal): their accounts, and in the chosen account its orders, product
// lines and codes, hosts and keys. Everything of another account is 404, as
// if it did not exist.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { orderOf, ordersOf } from '../../accounts.ts';
import { codeOf, lineSummaries } from '../../code-generation.ts';
import { accountSchema, codeSchema, errorResponses, hostSchema, jsonResponse, keySchema, lineSummarySchema, orderSchema } from '../api-schemas.ts';
import type { KcEnv } from '../server-env.ts';
import { requireScope, requireSession } from '../session-cookie.ts';

const COOKIE_SECURITY = [{ sessionCookie: [] }];

const me = createRoute({
  method: 'get',
  path: '/me',
  summary: 'Who is signed in, the chosen account, and every account they may switch to',
  security: COOKIE_SECURITY,
  responses: {
    200: jsonResponse(
      z.object({ email: z.string(), name: z.string(), account: accountSchema.omit({ createdAt: true }).nullable(), accounts: z.array(accountSchema.omit({ createdAt: true }).extend({ role: z.enum(['admin', 'member']) })) }),
      'the member',
    ),
    ...errorResponses(401),
  },
});

const orders = createRoute({
  method: 'get',
  path: '/orders',
  summary: "The chosen account's orders, newest first, with their lines",
  security: COOKIE_SECURITY,
  responses: { 200: jsonResponse(z.array(orderSchema), 'the orders'), ...errorResponses(401, 409) },
});

const order = createRoute({
  method: 'get',
  path: '/orders/{orderId}',
  summary: 'One order',
  security: COOKIE_SECURITY,
  request: { params: z.object({ orderId: z.string().max(64) }) },
  responses: { 200: jsonResponse(orderSchema, 'the order'), ...errorResponses(401, 404, 409) },
});

const orderKeys = createRoute({
  method: 'get',
  path: '/orders/{orderId}/keys',
  summary: 'The license keys of one order',
  security: COOKIE_SECURITY,
  request: { params: z.object({ orderId: z.string().max(64) }) },
  responses: { 200: jsonResponse(z.array(keySchema), 'the keys'), ...errorResponses(401, 404, 409) },
});

const codes = createRoute({
  method: 'get',
  path: '/codes',
  summary: 'My authorization codes: each product line with seats entitled, issued and remaining, and its codes',
  security: COOKIE_SECURITY,
  responses: { 200: jsonResponse(z.array(lineSummarySchema), 'the lines'), ...errorResponses(401, 409) },
});

const code = createRoute({
  method: 'get',
  path: '/codes/{authCode}',
  summary: 'One authorization code',
  security: COOKIE_SECURITY,
  request: { params: z.object({ authCode: z.string().max(64) }) },
  responses: { 200: jsonResponse(codeSchema, 'the code'), ...errorResponses(401, 404, 409) },
});

const hosts = createRoute({
  method: 'get',
  path: '/hosts',
  summary: 'Codes by host: every set of lock codes with its keys and their status',
  security: COOKIE_SECURITY,
  responses: { 200: jsonResponse(z.array(hostSchema), 'the hosts'), ...errorResponses(401, 409) },
});

const key = createRoute({
  method: 'get',
  path: '/keys/{licenseId}',
  summary: 'One license key',
  security: COOKIE_SECURITY,
  request: { params: z.object({ licenseId: z.string().max(64) }) },
  responses: { 200: jsonResponse(keySchema, 'the key'), ...errorResponses(401, 404, 409) },
});

/** The member routes (session cookie). */
export function memberApiRoutes() {
  return new OpenAPIHono<KcEnv>()
    .openapi(me, (c) => {
      const session = requireSession(c);
      const account = session.memberships.find((m) => m.siteNumber === session.siteNumber);
      return c.json(
        {
          email: session.user.email,
          name: session.user.name,
          account: account === undefined ? null : { siteNumber: account.siteNumber, companyName: account.companyName },
          accounts: session.memberships.map((m) => ({ siteNumber: m.siteNumber, companyName: m.companyName, role: m.role })),
        },
        200,
      );
    })
    .openapi(orders, async (c) => c.json(await ordersOf(c.var.kc.ctx, requireScope(c).siteNumber), 200))
    .openapi(order, async (c) => c.json(await orderOf(c.var.kc.ctx, requireScope(c).siteNumber, c.req.valid('param').orderId), 200))
    .openapi(orderKeys, async (c) => {
      const { siteNumber } = requireScope(c);
      const { orderId } = c.req.valid('param');
      await orderOf(c.var.kc.ctx, siteNumber, orderId);
      return c.json(await c.var.kc.listKeys({ siteNumber, orderId }), 200);
    })
    .openapi(codes, async (c) => c.json(await lineSummaries(c.var.kc.ctx, requireScope(c).siteNumber), 200))
    .openapi(code, async (c) => c.json(await codeOf(c.var.kc.ctx, requireScope(c).siteNumber, c.req.valid('param').authCode), 200))
    .openapi(hosts, async (c) => c.json(await c.var.kc.keysByHost({ siteNumber: requireScope(c).siteNumber }), 200))
    .openapi(key, async (c) => c.json(await c.var.kc.key(c.req.valid('param').licenseId, requireScope(c)), 200));
}
