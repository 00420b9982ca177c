// The admin state machine: replicated state other than seats — the admin
// tokens (name, role, digest, creation, last use) and the audit log of every
// change an admin token asked for. A sibling of the seat-pool state machine:
// pure and deterministic (time comes in each command's `at`), applied from
// the same Raft log by the node, carried in the same snapshots. The pool
// never sees these commands and this machine never sees seats.
import { AUDIT_ENTRIES_MAX, AUDIT_TEXT_CHARS_MAX, TOKEN_NAME_CHARS_MAX, TOKENS_MAX, TOKEN_USES_PER_COMMAND_MAX } from './admin-limits.ts';
import type { AdminCommand } from './admin-commands.ts';
import { isAdminRole, type AdminRole } from './admin-roles.ts';

/** One token created through the API. The token itself is never kept. */
export interface TokenRecord {
  readonly name: string;
  readonly role: AdminRole;
  /** Hex SHA-256 of the token. */
  readonly tokenSha256: string;
  /** `ms` since the epoch. */
  readonly createdAt: number;
  /** The token's name that created it. */
  readonly createdBy: string;
  /** `ms` since the epoch of the last use the log recorded (batched: up to a minute late); null: never used. */
  lastUsedAt: number | null;
}

/** One change an admin token asked for, as GET /audit lists it. */
export interface AuditEntry {
  /** The log index of the change: unique, rising. */
  readonly seq: number;
  /** `ms` since the epoch. */
  readonly at: number;
  /** The token's name. */
  readonly actor: string;
  /** The command (`license-install`, `force-checkin`, `token-create`, `member-add`, …). */
  readonly action: string;
  /** What it changed: a license id, a lease id, a token name, a member id, a feature. */
  readonly target: string;
  /** The reason given, or a short description. */
  readonly detail: string;
  readonly ok: boolean;
  /** The refusal's code when not ok; '' otherwise. */
  readonly code: string;
}

/** The admin state. Invariant: tokenNameBySha256 maps exactly the digests of `tokens`. */
export interface AdminState {
  readonly tokens: Map<string, TokenRecord>;
  readonly tokenNameBySha256: Map<string, string>;
  /** Oldest first; at most AUDIT_ENTRIES_MAX. */
  audit: AuditEntry[];
}

/** What an admin command answers its proposer. */
export type AdminReply =
  | { readonly ok: true; readonly type: 'token-created'; readonly name: string; readonly role: AdminRole }
  | { readonly ok: true; readonly type: 'token-revoked'; readonly name: string }
  | { readonly ok: true; readonly type: 'token-use-recorded'; readonly tokenCount: number }
  | { readonly ok: true; readonly type: 'audit-noted' }
  | { readonly ok: false; readonly code: AdminErrorCode; readonly message: string };

/** Every code the admin state answers with. */
export type AdminErrorCode = 'TOKEN_EXISTS' | 'TOKEN_NOT_FOUND' | 'TOKENS_LIMIT_REACHED' | 'BAD_REQUEST';

/** The result of applying an admin command (the pool's ApplyResult shape: a reply, and no events). */
export interface AdminApplyResult {
  readonly reply: AdminReply;
  readonly events: readonly never[];
}

/** A token name: letters, digits, `.`, `_`, `-`; `config-…` names the config file's tokens. */
export const TOKEN_NAME_PATTERN = new RegExp(`^(?!config-)[A-Za-z0-9][A-Za-z0-9._-]{0,${TOKEN_NAME_CHARS_MAX - 1}}$`);

/** An empty admin state. */
export function createAdminState(): AdminState {
  return { tokens: new Map(), tokenNameBySha256: new Map(), audit: [] };
}

function refuse(code: AdminErrorCode, message: string): AdminApplyResult {
  return { reply: { ok: false, code, message }, events: [] };
}

function ok(reply: AdminReply): AdminApplyResult {
  return { reply, events: [] };
}

/** Applies `command` to `state` (in place) and answers its result. */
export function applyAdminCommand(state: AdminState, command: AdminCommand): AdminApplyResult {
  switch (command.type) {
    case 'token-create': {
      if (!TOKEN_NAME_PATTERN.test(command.name)) return refuse('BAD_REQUEST', `"${command.name.slice(0, 80)}" is not a token name`);
      if (!isAdminRole(command.role)) return refuse('BAD_REQUEST', 'unknown role');
      if (!/^[0-9a-f]{64}$/.test(command.tokenSha256)) return refuse('BAD_REQUEST', 'the token digest is not SHA-256 hex');
      if (state.tokens.has(command.name)) return refuse('TOKEN_EXISTS', `a token named "${command.name}" exists; revoke it first`);
      if (state.tokens.size >= TOKENS_MAX) return refuse('TOKENS_LIMIT_REACHED', `the cluster holds its maximum of ${TOKENS_MAX} tokens`);
      // A digest collision means the same token twice: refuse rather than alias two names.
      if (state.tokenNameBySha256.has(command.tokenSha256)) return refuse('TOKEN_EXISTS', 'this token is already registered');
      state.tokens.set(command.name, {
        name: command.name,
        role: command.role,
        tokenSha256: command.tokenSha256,
        createdAt: command.at,
        createdBy: command.actor ?? '',
        lastUsedAt: null,
      });
      state.tokenNameBySha256.set(command.tokenSha256, command.name);
      return ok({ ok: true, type: 'token-created', name: command.name, role: command.role });
    }
    case 'token-revoke': {
      const t = state.tokens.get(command.name);
      if (t === undefined) return refuse('TOKEN_NOT_FOUND', `no token is named "${command.name.slice(0, 80)}"`);
      state.tokens.delete(command.name);
      state.tokenNameBySha256.delete(t.tokenSha256);
      return ok({ ok: true, type: 'token-revoked', name: command.name });
    }
    case 'token-use': {
      let count = 0;
      for (const use of command.uses.slice(0, TOKEN_USES_PER_COMMAND_MAX)) {
        const t = state.tokens.get(use.name);
        // A token revoked since its use: nothing to record. Uses never move backwards.
        if (t === undefined || !Number.isFinite(use.atMs)) continue;
        const atMs = Math.min(use.atMs, command.at);
        if (t.lastUsedAt === null || atMs > t.lastUsedAt) t.lastUsedAt = atMs;
        count++;
      }
      return ok({ ok: true, type: 'token-use-recorded', tokenCount: count });
    }
    case 'audit-note':
      return ok({ ok: true, type: 'audit-noted' });
    default: {
      const never: never = command;
      throw new Error(`assert: unknown admin command ${JSON.stringify(never)}`);
    }
  }
}

function cut(text: unknown): string {
  return typeof text === 'string' ? text.slice(0, AUDIT_TEXT_CHARS_MAX) : '';
}

/**
 * What a command changed, for its audit entry: the first of the fields
 * commands name their object by (a pool command or an admin command alike).
 */
function targetOf(command: Record<string, unknown>): string {
  const license = command['license'] as { licenseId?: unknown } | undefined;
  for (const v of [command['target'], command['licenseId'], license?.licenseId, command['leaseId'], command['name'], command['feature'], command['sessionId']]) {
    if (typeof v === 'string' && v !== '') return cut(v);
  }
  return '';
}

function detailOf(command: Record<string, unknown>): string {
  if (typeof command['detail'] === 'string') return cut(command['detail']);
  if (typeof command['reason'] === 'string') return cut(command['reason']);
  if (command['type'] === 'token-create' && typeof command['role'] === 'string') return `role ${command['role']}`;
  if (Array.isArray(command['users'])) return cut(`${command['users'].length} users: ${command['users'].join(', ')}`);
  return '';
}

/**
 * Records the audit entry of an applied command that carries an `actor`
 * (any machine's command; `seq` is its log index). Commands without one
 * (clients', the node's own) are not audited.
 */
export function recordAudit(
  state: AdminState,
  command: { readonly type: string; readonly at: number; readonly actor?: string },
  seq: number,
  reply: { readonly ok: boolean; readonly code?: string },
): void {
  if (command.actor === undefined) return;
  const c = command as unknown as Record<string, unknown>;
  state.audit.push({
    seq,
    at: command.at,
    actor: cut(command.actor),
    action: typeof c['action'] === 'string' ? cut(c['action']) : command.type,
    target: targetOf(c),
    detail: detailOf(c),
    ok: reply.ok,
    code: reply.ok ? '' : (reply.code ?? ''),
  });
  if (state.audit.length > AUDIT_ENTRIES_MAX) state.audit.splice(0, state.audit.length - AUDIT_ENTRIES_MAX);
}
