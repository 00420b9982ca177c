// Reads of the admin state, as the admin API shows them.
import type { AdminState, AuditEntry, TokenRecord } from './admin-state.ts';

/** A token as GET /tokens lists it: never its digest. */
export type TokenView = Omit<TokenRecord, 'tokenSha256'>;

/** Every token created through the API, by name. */
export function listTokens(state: AdminState): TokenView[] {
  return [...state.tokens.values()]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(({ tokenSha256: _, ...view }) => ({ ...view }));
}

/** The token whose digest is `tokenSha256` (hex), or undefined. */
export function findTokenBySha256(state: AdminState, tokenSha256: string): TokenRecord | undefined {
  const name = state.tokenNameBySha256.get(tokenSha256);
  return name === undefined ? undefined : state.tokens.get(name);
}

/** Audit entries newest first: at most `limit`, those with seq below `beforeSeq` when given (the next page). */
export function listAudit(state: AdminState, options: { readonly limit: number; readonly beforeSeq?: number }): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (let i = state.audit.length - 1; i >= 0 && out.length < options.limit; i--) {
    const e = state.audit[i]!;
    if (options.beforeSeq !== undefined && e.seq >= options.beforeSeq) continue;
    out.push(e);
  }
  return out;
}
