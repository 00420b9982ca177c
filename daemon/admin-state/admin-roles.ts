// The roles of admin tokens (CONTRACT.md): a viewer reads; an operator also
// frees seats and sets named users; an admin does everything. Each role
// includes the ones below it, so a route names the least role it needs.

/** Every role, least first. */
export const ADMIN_ROLES = ['viewer', 'operator', 'admin'] as const;

/** A role of an admin token. */
export type AdminRole = (typeof ADMIN_ROLES)[number];

/** True when a token holding `held` may do what needs `needed`. */
export function roleAllows(held: AdminRole, needed: AdminRole): boolean {
  return ADMIN_ROLES.indexOf(held) >= ADMIN_ROLES.indexOf(needed);
}

/** True when `value` names a role. */
export function isAdminRole(value: unknown): value is AdminRole {
  return typeof value === 'string' && (ADMIN_ROLES as readonly string[]).includes(value);
}
