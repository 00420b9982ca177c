// A route whose JSON body is optional (DELETE /leases/:id takes an optional
// reason) must accept an empty body even when the client sends
// `content-type: application/json` (curl, the CLI): Hono's json validator
// would call that malformed. This middleware, placed before the validator,
// hands it `{}` for an empty body; a non-empty body is validated as usual.
import { createMiddleware } from 'hono/factory';

/** Middleware: an empty (or all-whitespace) body reads as `{}`. */
export const optionalJsonBody = createMiddleware(async (c, next) => {
  const raw = c.req.raw;
  // A clone, so the validator still reads the (size-limited) body itself.
  const text = raw.body === null ? '' : await raw.clone().text();
  if (text.trim() === '') c.req.raw = new Request(raw.url, { method: raw.method, headers: raw.headers, body: '{}' });
  await next();
});
