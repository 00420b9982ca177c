// The JSON shapes of the key center's API, as the OpenAPI document shows them
// and as the routes answer: the error body, and the records the routes list.
import { z } from '@hono/zod-openapi';

/** `{"error":{"code","message","field"?}}`, every error's body. */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().regex(/^[A-Z][A-Z0-9_]*$/).openapi({ example: 'ALREADY_ACTIVATED' }),
      message: z.string(),
      field: z.string().optional().openapi({ description: 'the input the refusal is about, e.g. "lockCodes.1"' }),
    }),
  })
  .openapi('Error');

const ERROR_DESCRIPTIONS = {
  400: 'BAD_REQUEST (the body is not what the route takes), AUTH_CODE_MALFORMED, LOCK_CODE_MALFORMED, LOCK_CODE_COUNT, DUPLICATE_LOCK_CODE',
  401: 'UNAUTHORIZED: no valid staff token or session',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND, UNKNOWN_AUTH_CODE, LICENSE_NOT_FOUND — also anything of an account the caller does not belong to',
  409: 'conflicts with what exists: ALREADY_ACTIVATED, SEATS_EXHAUSTED, ALREADY_SUPERSEDED, HOST_NOT_COMPATIBLE, RENEWAL_NOT_STARTED, REHOSTS_EXHAUSTED, …_EXISTS, ACCOUNT_NOT_CHOSEN',
  410: 'ENTITLEMENT_EXPIRED: a temporary code past its end',
  413: 'BAD_REQUEST: the body is too large',
  415: 'BAD_REQUEST: the body is not application/json',
  422: 'AUTH_CODE_TYPO, LOCK_CODE_TYPO: a mistyped or swapped character (the check character disagrees)',
  429: 'RATE_LIMITED: too many requests from this address or for this code; see Retry-After',
} as const;

/** An error status a route documents. */
export type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

const JSON_ERROR = { 'application/json': { schema: errorSchema } } as const;

/** The `responses` entries of the errors a route may answer. */
export function errorResponses<S extends ErrorStatus>(...statuses: S[]) {
  const out = {} as Record<S, { description: string; content: typeof JSON_ERROR }>;
  for (const s of statuses) out[s] = { description: ERROR_DESCRIPTIONS[s], content: JSON_ERROR };
  return out;
}

/** The `responses` entry of a JSON answer. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } } as const;
}

/** The `request.body` of a JSON body. */
export function jsonRequestBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { 'application/json': { schema } } } as const;
}

const epochMs = z.number().openapi({ description: 'ms since the Unix epoch' });
const model = z.enum(['concurrent', 'authorized-user']);

export const accountSchema = z.object({ siteNumber: z.string(), companyName: z.string(), createdAt: epochMs }).openapi('Account');

export const orderLineSchema = z
  .object({
    lineId: z.string(),
    orderId: z.string(),
    siteNumber: z.string(),
    lineNo: z.number().int(),
    product: z.string(),
    version: z.string(),
    model,
    quantity: z.number().int(),
    components: z.array(z.string()),
    startsAt: epochMs.nullable(),
    expiresAt: epochMs.nullable(),
    renewsLineId: z.string().nullable(),
    lingerSeconds: z.number().int(),
    hostsPerUserMax: z.number().int(),
    borrowHoursMax: z.number().int().nullable().openapi({ description: 'h: the longest borrow its keys allow; null: not borrowable' }),
  })
  .openapi('OrderLine');

export const orderSchema = z
  .object({
    orderId: z.string(),
    siteNumber: z.string(),
    customerOrderNumber: z.string(),
    purchaseOrderNumber: z.string().nullable(),
    contacts: z.array(z.object({ email: z.string(), name: z.string(), role: z.enum(['primary', 'technical']) })),
    orderedAt: epochMs,
    createdBy: z.string(),
    lines: z.array(orderLineSchema),
  })
  .openapi('Order');

export const memberSchema = z
  .object({ siteNumber: z.string(), userId: z.string(), email: z.string(), name: z.string(), role: z.enum(['admin', 'member']), addedAt: epochMs, addedBy: z.string() })
  .openapi('Member');

export const codeSchema = z
  .object({
    authCode: z.string(),
    product: z.string(),
    component: z.string().nullable(),
    version: z.string(),
    model,
    seats: z.number().int(),
    seatsActivated: z.number().int(),
    startsAt: epochMs.nullable(),
    expiresAt: epochMs.nullable(),
    lingerSeconds: z.number().int(),
    hostsPerUserMax: z.number().int(),
    borrowHoursMax: z.number().int().nullable().openapi({ description: 'h: the longest borrow its keys allow; null: not borrowable' }),
    orderNumber: z.string().nullable(),
    comment: z.string().nullable(),
    createdAt: epochMs,
    siteNumber: z.string().nullable(),
    orderId: z.string().nullable(),
    lineId: z.string().nullable(),
    allocationId: z.string().nullable(),
    activationsMax: z.number().int(),
  })
  .openapi('AuthorizationCode');

export const keySchema = z
  .object({
    licenseId: z.string(),
    authCode: z.string(),
    product: z.string(),
    component: z.string().nullable(),
    version: z.string(),
    model,
    seats: z.number().int(),
    seatsFromCode: z.number().int(),
    lockCodes: z.array(z.string()),
    hostDescription: z.string().nullable(),
    expiresAt: epochMs.nullable(),
    borrowHoursMax: z.number().int().nullable().openapi({ description: 'h: the longest borrow the key allows; null: its seats cannot be borrowed' }),
    issuedAt: epochMs,
    keyText: z.string(),
    supersedes: z.string().nullable(),
    supersededBy: z.string().nullable(),
    status: z.enum(['active', 'superseded', 'expired']),
    siteNumber: z.string().nullable(),
    orderId: z.string().nullable(),
    orderNumber: z.string().nullable(),
    comment: z.string().nullable(),
    issuedBy: z.string(),
  })
  .openapi('LicenseKey');

export const hostSchema = z
  .object({ hostId: z.string(), lockCodes: z.array(z.string()), hostDescription: z.string().nullable(), keys: z.array(keySchema) })
  .openapi('LicenseHost');

export const lineSummarySchema = z
  .object({
    line: orderLineSchema,
    order: z.object({ orderId: z.string(), customerOrderNumber: z.string(), purchaseOrderNumber: z.string().nullable(), orderedAt: epochMs }),
    renews: z.object({ lineId: z.string(), lineNo: z.number().int(), customerOrderNumber: z.string(), product: z.string(), version: z.string() }).nullable(),
    seatsEntitled: z.number().int(),
    seatsIssued: z.number().int(),
    seatsRemaining: z.number().int(),
    expired: z.boolean(),
    codes: z.array(codeSchema),
  })
  .openapi('ProductLine');

export const auditSchema = z
  .object({ at: epochMs, actor: z.string(), action: z.string(), siteNumber: z.string().nullable(), target: z.string().nullable(), detail: z.record(z.string(), z.unknown()) })
  .openapi('AuditEntry');
