// Errors of the key center's JSON API: one JSON shape everywhere,
// {"error":{"code","message"}} (plus "field" when the refusal is about one
// input), with the status each code fits. The rules throw KeyCenterError;
// this file is the one place it becomes an HTTP status.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { KeyCenterError, type KeyCenterErrorCode } from '../key-center-error.ts';

/** The HTTP status of each refusal. */
const STATUS_OF_CODE: Record<KeyCenterErrorCode, ContentfulStatusCode> = {
  BAD_REQUEST: 400,
  AUTH_CODE_MALFORMED: 400,
  LOCK_CODE_MALFORMED: 400,
  LOCK_CODE_COUNT: 400,
  DUPLICATE_LOCK_CODE: 400,
  PASSWORD_TOO_WEAK: 400,
  REQUEST_MALFORMED: 400,
  UNAUTHORIZED: 401,
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  CSRF_TOKEN_INVALID: 403,
  NOT_FOUND: 404,
  UNKNOWN_AUTH_CODE: 404,
  LICENSE_NOT_FOUND: 404,
  ALREADY_ACTIVATED: 409,
  SEATS_EXHAUSTED: 409,
  ALREADY_SUPERSEDED: 409,
  HOST_NOT_COMPATIBLE: 409,
  RENEWAL_NOT_STARTED: 409,
  REHOSTS_EXHAUSTED: 409,
  ACCOUNT_EXISTS: 409,
  ORDER_EXISTS: 409,
  MEMBER_EXISTS: 409,
  STAFF_EXISTS: 409,
  JOIN_REQUEST_DECIDED: 409,
  ACCOUNT_NOT_CHOSEN: 409,
  ALREADY_INITIALIZED: 409,
  ENTITLEMENT_EXPIRED: 410,
  TOKEN_INVALID: 410,
  AUTH_CODE_TYPO: 422,
  LOCK_CODE_TYPO: 422,
  PASSWORD_WRONG: 422,
  REQUEST_SIGNATURE_INVALID: 422,
  REQUEST_LOCK_CODE_UNBOUND: 422,
  RATE_LIMITED: 429,
  CONFIG_INVALID: 500,
  NOT_INITIALIZED: 503,
  STORE_UNUSABLE: 503,
};

/** The HTTP status of a key-center error code. */
export function statusOfCode(code: KeyCenterErrorCode): ContentfulStatusCode {
  return STATUS_OF_CODE[code];
}

/** The JSON body of an error. */
export function errorBody(code: string, message: string, field?: string): { error: { code: string; message: string; field?: string } } {
  return { error: { code, message, ...(field === undefined ? {} : { field }) } };
}

/** The code of an HTTPException Hono threw without one (a malformed body, a wrong media type). */
function codeOfStatus(status: number): string {
  if (status === 400 || status === 413 || status === 415) return 'BAD_REQUEST';
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  return 'INTERNAL';
}

/** The JSON answer to any error a route threw. */
export function apiErrorResponse(error: Error, c: Context, log?: (line: string) => void): Response {
  if (error instanceof KeyCenterError) {
    if (error.retryAfterSeconds !== undefined) c.header('Retry-After', String(error.retryAfterSeconds));
    return c.json(errorBody(error.code, error.message, error.field), statusOfCode(error.code));
  }
  if (error instanceof HTTPException) return c.json(errorBody(codeOfStatus(error.status), error.message || 'the request was refused'), error.status);
  log?.(`${c.req.method} ${c.req.path} failed: ${error.stack ?? error.message}`);
  return c.json(errorBody('INTERNAL', 'the key center failed to answer'), 500);
}
