// The roles of admin tokens (CONTRACT.md): a viewer reads; an operator also
// frees seats and sets named users; an admin does everything. Each role
// includes the ones below it, so a route names the least role it needs.
import { z } from '@hono/zod-openapi';

/** Every role, least first. */
export const ADMIN_ROLES = ['viewer', 'operator', 'admin'] as const;

/** A role, as the API's bodies and the CLI spell it. */
export const adminRoleSchema = z.enum(ADMIN_ROLES).openapi({ description: 'viewer reads; operator also frees seats and sets named users; admin does everything' });

/** A role of an admin token. */
export type AdminRole = z.infer<typeof adminRoleSchema>;

/** True when a token holding `held` may use a route that needs `needed`. */
export function roleAllows(held: AdminRole, needed: AdminRole): boolean {
  return ADMIN_ROLES.indexOf(held) >= ADMIN_ROLES.indexOf(needed);
}
