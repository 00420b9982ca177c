// Errors of the admin API: one JSON shape everywhere,
// {"error":{"code":"UPPER_CASE","message":"Human sentence"}}, with a fitting
// status. Routes throw AdminError (an HTTPException with a code); Hono's own
// HTTPExceptions (a malformed JSON body, a wrong media type) get the code of
// their status; errorResponse() is the one place either becomes a response.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ProposalError } from '../daemon/raft-driver/index.ts';

/** An error the API answers with; `status` is its HTTP status, `code` its stable UPPER_CASE code. */
export class AdminError extends HTTPException {
  override readonly name = 'AdminError';
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
  ) {
    super(status, { message });
  }
}

/** The JSON body of an error. */
export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/** The HTTP status of a pool or license error code. */
export function statusOfCode(code: string): ContentfulStatusCode {
  if (code === 'BAD_REQUEST' || code === 'LICENSE_MALFORMED' || code === 'LICENSE_TOO_LARGE') return 400;
  if (code === 'FORBIDDEN') return 403;
  if (code.endsWith('_NOT_FOUND')) return 404;
  if (code.endsWith('_EXISTS') || code === 'MODEL_CONFLICT') return 409;
  if (code.endsWith('_LIMIT_REACHED')) return 409;
  if (code === 'UNAVAILABLE') return 503;
  return 422;
}

/** The code of an HTTPException Hono (or a validator) threw without one. */
function codeOfStatus(status: number): string {
  if (status === 400 || status === 413 || status === 415) return 'BAD_REQUEST';
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 503) return 'UNAVAILABLE';
  return 'INTERNAL';
}

/** The app's onError: every thrown error becomes the one error shape. */
export function errorResponse(error: Error, c: Context): Response {
  if (error instanceof AdminError) return c.json(errorBody(error.code, error.message), error.status);
  if (error instanceof HTTPException) {
    return c.json(errorBody(codeOfStatus(error.status), error.message || 'the request was refused'), error.status);
  }
  if (error instanceof ProposalError) {
    const leader = error.leaderId === '' ? '' : ` (leader: ${error.leaderId})`;
    return c.json(errorBody('UNAVAILABLE', `${error.message}${leader}; retry`), 503);
  }
  return c.json(errorBody('INTERNAL', 'the server failed to answer'), 500);
}
