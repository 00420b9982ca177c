// Errors of the admin API: one JSON shape everywhere,
// {"error":{"code":"UPPER_CASE","message":"Human sentence"}}, with a fitting status.
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** An error the API answers with; `status` is its HTTP status. */
export class AdminError extends Error {
  override readonly name = 'AdminError';
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The JSON body of an error. */
export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/** The HTTP status of a pool or license error code. */
export function statusOfCode(code: string): ContentfulStatusCode {
  if (code === 'BAD_REQUEST' || code === 'LICENSE_MALFORMED' || code === 'LICENSE_TOO_LARGE') return 400;
  if (code.endsWith('_NOT_FOUND')) return 404;
  if (code.endsWith('_EXISTS') || code === 'MODEL_CONFLICT') return 409;
  if (code.endsWith('_LIMIT_REACHED')) return 409;
  if (code === 'UNAVAILABLE') return 503;
  return 422;
}
