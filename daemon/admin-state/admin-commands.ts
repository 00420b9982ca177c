// The commands of the admin state machine: tokens created, revoked and used,
// and audit notes of changes that are not commands themselves (membership
// changes are Raft conf changes). They travel in the same Raft log as the
// pool's commands, stamped with the leader's `at`, and are applied in log
// order on every node. Any command of either machine may carry `actor`, the
// name of the admin token that asked for it: the audit log records it.
import type { AdminRole } from './admin-roles.ts';

/** Fields every log command may carry for the audit log. */
export interface Audited {
  /** The admin token's name that asked for this change; absent for clients' and the node's own commands. */
  readonly actor?: string;
}

/** Create a token; only its SHA-256 digest travels and is kept. */
export interface TokenCreateCommand extends Audited {
  readonly type: 'token-create';
  readonly at: number;
  readonly name: string;
  readonly role: AdminRole;
  /** Hex SHA-256 of the token. */
  readonly tokenSha256: string;
}

/** Revoke a token by name. */
export interface TokenRevokeCommand extends Audited {
  readonly type: 'token-revoke';
  readonly at: number;
  readonly name: string;
}

/** Tokens used since the last such command (batched: at most one per minute per node). */
export interface TokenUseCommand extends Audited {
  readonly type: 'token-use';
  readonly at: number;
  readonly uses: readonly { readonly name: string; /** `ms` since the epoch. */ readonly atMs: number }[];
}

/** An audit entry of a change made outside the command log (a membership change), after it applied. */
export interface AuditNoteCommand extends Audited {
  readonly type: 'audit-note';
  readonly at: number;
  readonly action: string;
  readonly target: string;
  readonly detail: string;
}

/** Every admin-state command, a union on `type`. */
export type AdminCommand = TokenCreateCommand | TokenRevokeCommand | TokenUseCommand | AuditNoteCommand;

/** The `type`s of admin-state commands (the node routes an entry by it). */
export const ADMIN_COMMAND_TYPES: ReadonlySet<string> = new Set<AdminCommand['type']>(['token-create', 'token-revoke', 'token-use', 'audit-note']);

/** True when `command` belongs to the admin state machine. */
export function isAdminCommand(command: { readonly type: string }): command is AdminCommand {
  return ADMIN_COMMAND_TYPES.has(command.type);
}
