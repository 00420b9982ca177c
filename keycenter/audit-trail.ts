// The audit trail: what vendor staff and members did, written in the same
// transaction as the change it records (no change without its entry).
import type { Actor } from './key-center-context.ts';
import type { AuditRecord, StoreQueries } from './store/key-center-store.ts';

/** Most audit entries one listing answers. */
export const AUDIT_LIST_MAX = 1000;

/** Records one action; call it inside the transaction that makes the change. */
export async function recordAudit(
  q: StoreQueries,
  atMs: number,
  actor: Actor,
  action: string,
  where: { readonly siteNumber?: string | null; readonly target?: string | null },
  detail: Record<string, unknown> = {},
): Promise<void> {
  const entry: AuditRecord = { at: atMs, actor, action, siteNumber: where.siteNumber ?? null, target: where.target ?? null, detail };
  await q.insertAudit(entry);
}
