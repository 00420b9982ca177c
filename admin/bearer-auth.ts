// Bearer-token auth of the admin API. Tokens are stored only as SHA-256
// digests (config adminTokenSha256); a presented token is hashed and compared
// with every stored digest in constant time, so neither the tokens nor the
// position of a match leak through timing.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { errorBody } from './errors.ts';

/** SHA-256 hex digest of a token, as the config stores it. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Longest Authorization header read, characters. */
const AUTHORIZATION_CHARS_MAX = 1024;

/**
 * Middleware: 401 UNAUTHORIZED without a bearer token, 403 FORBIDDEN with a
 * token that matches no stored digest.
 */
export function bearerAuth(tokenSha256: readonly string[]): MiddlewareHandler {
  const digests = tokenSha256.map((h) => Buffer.from(h, 'hex'));
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = header.length <= AUTHORIZATION_CHARS_MAX ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (match === null) {
      c.header('www-authenticate', 'Bearer realm="floe"');
      return c.json(errorBody('UNAUTHORIZED', 'send Authorization: Bearer <admin token>'), 401);
    }
    const presented = createHash('sha256').update(match[1]!, 'utf8').digest();
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(presented, d) || ok;
    if (!ok) return c.json(errorBody('FORBIDDEN', 'the admin token is not valid'), 403);
    await next();
    return undefined;
  };
}
