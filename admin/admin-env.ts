// The Hono environment of the admin app: the node the routes serve (set
// first, so route middleware such as the read barrier can be module-level
// constants) and what the auth middleware hands the routes (who is calling,
// with which role).
import type { FloeNode } from '../daemon/node/index.ts';
import type { AdminRole } from './admin-role.ts';

/** Who presented the bearer token: the token's name and role. */
export interface Principal {
  /** The token's name ("config-1" for the config file's tokens), as the audit log shows it. */
  readonly name: string;
  readonly role: AdminRole;
}

/** Hono Env of every admin route. */
export interface AdminEnv {
  Variables: {
    /** The node behind this admin server. */
    node: FloeNode;
    /** Set by bearerAuth() on every route behind it. */
    principal: Principal;
  };
}

/** The audit stamp of a change the caller asks for: node.propose(command, auditStamp(c)). */
export function auditStamp(c: { var: { principal: Principal } }): { readonly actor: string } {
  return { actor: c.var.principal.name };
}
