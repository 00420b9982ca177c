// The roles of admin tokens as the API's schemas spell them; the roles
// themselves (and which includes which) live with the tokens in
// daemon/admin-state.
import { z } from '@hono/zod-openapi';
import { ADMIN_ROLES } from '../daemon/admin-state/index.ts';

export { ADMIN_ROLES, roleAllows, type AdminRole } from '../daemon/admin-state/index.ts';

/** A role, as the API's bodies and the CLI spell it. */
export const adminRoleSchema = z.enum(ADMIN_ROLES).openapi({ description: 'viewer reads; operator also frees seats and sets named users; admin does everything' });
