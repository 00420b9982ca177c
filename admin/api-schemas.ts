// Schemas every route group shares: the error body and the error responses a
// route documents, so the OpenAPI document lists what each route can answer.
import { z } from '@hono/zod-openapi';

/** `{"error":{"code","message"}}`, every error's body. */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().regex(/^[A-Z][A-Z0-9_]*$/).openapi({ example: 'BAD_REQUEST' }),
      message: z.string(),
    }),
  })
  .openapi('Error');

const ERROR_DESCRIPTIONS = {
  400: 'BAD_REQUEST: the body or query is not what the route takes (also LICENSE_MALFORMED, LICENSE_TOO_LARGE)',
  401: 'UNAUTHORIZED: no bearer token',
  403: 'FORBIDDEN: the token is not valid, or lacks the role the route needs',
  404: 'not found (LEASE_NOT_FOUND, LICENSE_NOT_FOUND, …)',
  409: 'conflicts with the state (LICENSE_EXISTS, MODEL_CONFLICT, …_LIMIT_REACHED)',
  413: 'BAD_REQUEST: the body is larger than limits.adminBodyBytesMax',
  415: 'BAD_REQUEST: the body is not application/json',
  422: 'refused by a rule (a license key the verifier refuses, other pool refusals)',
  410: "gone: the key center's ENTITLEMENT_EXPIRED, passed through by an activation",
  429: "RATE_LIMITED: the key center's limit, passed through by an activation",
  502: 'the vendor key center could not be reached (KEY_CENTER_UNREACHABLE) or answered something that does not verify (KEY_CENTER_ANSWER_INVALID)',
  503: 'UNAVAILABLE: no leader could be reached or confirmed in time; retry',
} as const;

/** An error status a route documents. */
export type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

const JSON_ERROR = { 'application/json': { schema: errorSchema } } as const;

/** The `responses` entries of the errors a route may answer (401 and 403 always: every route but /health needs a token). */
export function errorResponses<S extends ErrorStatus>(...statuses: S[]) {
  const out = {} as Record<S | 401 | 403, { description: string; content: typeof JSON_ERROR }>;
  for (const s of [401, 403, ...statuses] as (S | 401 | 403)[]) out[s] = { description: ERROR_DESCRIPTIONS[s], content: JSON_ERROR };
  return out;
}

/** The `responses` entry of a JSON answer. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } } as const;
}

/** The `request.body` of a JSON body. */
export function jsonRequestBody<T extends z.ZodType>(schema: T, required = true) {
  return { required, content: { 'application/json': { schema } } } as const;
}

/** The security requirement of every route behind the bearer token. */
export const BEARER_SECURITY = [{ bearer: [] }];
