// Bearer-token auth of the admin API, role-aware. Tokens are stored only as
// SHA-256 digests; a presented token is hashed and looked up by a verifier:
// the config's digests (admin tokens, compared in constant time so neither
// the tokens nor the position of a match leak through timing), then the
// tokens created through the API (replicated, looked up by digest).
// Hono's own bearerAuth answers 401 for a wrong token and its own body; ours
// answers 403 FORBIDDEN in the API's error shape and hands the routes the
// caller (c.var.principal), which requireRole() then checks per route.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import type { FloeNode } from '../daemon/node/index.ts';
import type { AdminEnv, Principal } from './admin-env.ts';
import { AdminError } from './errors.ts';

/** SHA-256 hex digest of a token, as the config stores it. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Longest Authorization header read, characters. */
const AUTHORIZATION_CHARS_MAX = 1024;

/** Answers who holds `token`, or undefined when no token matches. */
export type VerifyToken = (token: string) => Principal | undefined;

/**
 * The config file's tokens (adminTokenSha256): each is an admin token named
 * `config-N` (N from 1, in the file's order).
 */
export function configTokenVerifier(tokenSha256: readonly string[]): VerifyToken {
  const digests = tokenSha256.map((h) => Buffer.from(h, 'hex'));
  return (token) => {
    const presented = createHash('sha256').update(token, 'utf8').digest();
    let found = -1;
    // Every digest is compared, so the time does not say which one matched.
    for (let i = 0; i < digests.length; i++) if (timingSafeEqual(presented, digests[i]!) && found < 0) found = i;
    return found < 0 ? undefined : { name: `config-${found + 1}`, role: 'admin' };
  };
}

/**
 * The config's tokens, then the tokens created through the API (each use is
 * noted for the token's last use, recorded through the log in batches).
 */
export function nodeTokenVerifier(node: FloeNode, tokenSha256: readonly string[]): VerifyToken {
  const configTokens = configTokenVerifier(tokenSha256);
  const byDigest = nodeDigestVerifier(node, []);
  return (token) => configTokens(token) ?? byDigest(hashToken(token));
}

/** Answers who holds the token whose SHA-256 is `tokenSha256` (hex), or undefined. */
export type VerifyTokenDigest = (tokenSha256: string) => Principal | undefined;

/**
 * Who holds a token known by its digest (a console session remembers only
 * that): a config token (admin, `config-N`) or one created through the API.
 * The digest comes from this server's own session store, not from a caller,
 * so a plain lookup is fine here.
 */
export function nodeDigestVerifier(node: FloeNode, tokenSha256: readonly string[]): VerifyTokenDigest {
  return (digest) => {
    const i = tokenSha256.indexOf(digest);
    if (i >= 0) return { name: `config-${i + 1}`, role: 'admin' };
    const record = node.adminTokenBySha256(digest);
    if (record === undefined) return undefined;
    node.noteTokenUse(record.name);
    return { name: record.name, role: record.role };
  };
}

/**
 * Middleware: 401 UNAUTHORIZED without a bearer token, 403 FORBIDDEN with a
 * token `verifyToken` does not know; else sets c.var.principal. Without an
 * Authorization header, `cookieAuth` may know the caller by the console's
 * session cookie (and checks the CSRF token of a change).
 */
export function bearerAuth(options: {
  readonly verifyToken: VerifyToken;
  readonly cookieAuth?: (c: Context) => Principal | undefined;
}): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    if (header === '' && options.cookieAuth !== undefined) {
      const principal = options.cookieAuth(c);
      if (principal !== undefined) {
        c.set('principal', principal);
        await next();
        return;
      }
    }
    const match = header.length <= AUTHORIZATION_CHARS_MAX ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (match === null) {
      c.header('www-authenticate', 'Bearer realm="floe"');
      throw new AdminError(401, 'UNAUTHORIZED', 'send Authorization: Bearer <admin token>');
    }
    const principal = options.verifyToken(match[1]!);
    if (principal === undefined) throw new AdminError(403, 'FORBIDDEN', 'the admin token is not valid');
    c.set('principal', principal);
    await next();
  };
}
