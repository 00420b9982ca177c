// The admin state in a node snapshot: a plain JSON value beside the pool's
// bytes (node-snapshot.ts). Decoding checks each field, so a damaged
// snapshot is refused with SNAPSHOT_CORRUPT instead of yielding a state that
// breaks the invariants.
import { AUDIT_ENTRIES_MAX, TOKENS_MAX } from './admin-limits.ts';
import { isAdminRole } from './admin-roles.ts';
import { createAdminState, type AdminState, type AuditEntry, type TokenRecord } from './admin-state.ts';

/** The JSON value of an admin state. */
export interface AdminSnapshot {
  readonly tokens: readonly TokenRecord[];
  readonly audit: readonly AuditEntry[];
}

/** The snapshot value of `state`. */
export function encodeAdminState(state: AdminState): AdminSnapshot {
  return { tokens: [...state.tokens.values()].map((t) => ({ ...t })), audit: state.audit.slice() };
}

function corrupt(what: string): never {
  throw new Error(`SNAPSHOT_CORRUPT: the admin state's ${what}`);
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The admin state in a snapshot value (what encodeAdminState wrote). Throws SNAPSHOT_CORRUPT. */
export function decodeAdminState(value: unknown): AdminState {
  const state = createAdminState();
  const v = value as { tokens?: unknown; audit?: unknown };
  if (typeof value !== 'object' || value === null || !Array.isArray(v.tokens) || !Array.isArray(v.audit)) corrupt('shape');
  if (v.tokens.length > TOKENS_MAX) corrupt('token count');
  for (const raw of v.tokens as Record<string, unknown>[]) {
    const t = raw ?? {};
    if (!isString(t['name']) || !isAdminRole(t['role']) || !isString(t['tokenSha256']) || !isNumber(t['createdAt']) || !isString(t['createdBy'])) corrupt('tokens');
    const lastUsedAt = t['lastUsedAt'];
    if (lastUsedAt !== null && !isNumber(lastUsedAt)) corrupt('tokens');
    if (state.tokens.has(t['name']) || state.tokenNameBySha256.has(t['tokenSha256'])) corrupt('tokens (a name or digest twice)');
    state.tokens.set(t['name'], { name: t['name'], role: t['role'], tokenSha256: t['tokenSha256'], createdAt: t['createdAt'], createdBy: t['createdBy'], lastUsedAt });
    state.tokenNameBySha256.set(t['tokenSha256'], t['name']);
  }
  for (const raw of (v.audit as Record<string, unknown>[]).slice(-AUDIT_ENTRIES_MAX)) {
    const a = raw ?? {};
    if (!isNumber(a['seq']) || !isNumber(a['at']) || typeof a['ok'] !== 'boolean') corrupt('audit');
    for (const k of ['actor', 'action', 'target', 'detail', 'code']) if (!isString(a[k])) corrupt('audit');
    state.audit.push(a as unknown as AuditEntry);
  }
  return state;
}
