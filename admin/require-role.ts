// Per-route authorization: a route names the least role it needs
// (createRoute({ middleware: [requireRole('operator')] })), and a token
// without it gets 403 FORBIDDEN before the route validates or changes anything.
import { createMiddleware } from 'hono/factory';
import type { AdminEnv } from './admin-env.ts';
import { roleAllows, type AdminRole } from './admin-role.ts';
import { AdminError } from './errors.ts';

/** Middleware: 403 FORBIDDEN unless the caller's role includes `needed`. */
export function requireRole(needed: AdminRole) {
  return createMiddleware<AdminEnv>(async (c, next) => {
    const principal = c.get('principal');
    if (!roleAllows(principal.role, needed)) {
      throw new AdminError(403, 'FORBIDDEN', `this needs the ${needed} role; token "${principal.name}" is ${principal.role}`);
    }
    await next();
  });
}
