// Vendor staff: named API tokens for the vendor role of the JSON API (create
// accounts and orders, support actions). A token is shown once, when made;
// the store keeps its SHA-256.
import { recordAudit } from './audit-trail.ts';
import { newSecretToken } from './ids.ts';
import type { Actor, KeyCenterContext } from './key-center-context.ts';
import { KeyCenterError } from './key-center-error.ts';
import { sha256Hex } from './members.ts';
import { StoreConflictError, type StaffRecord } from './store/key-center-store.ts';

/** A staff name: letters, digits, dot, dash, underscore. */
const STAFF_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The prefix of staff tokens, so a leaked one is recognizable. */
export const STAFF_TOKEN_PREFIX = 'kcs_';

/** Creates a staff member; answers their API token (shown this once). STAFF_EXISTS for a taken name. */
export async function createStaff(ctx: KeyCenterContext, name: string, actor: Actor): Promise<string> {
  if (!STAFF_NAME.test(name)) throw new KeyCenterError('BAD_REQUEST', 'a staff name is letters, digits, dot, dash or underscore (at most 64)', 'name');
  const token = `${STAFF_TOKEN_PREFIX}${newSecretToken()}`;
  const nowMs = ctx.clock();
  try {
    await ctx.store.transaction(async (q) => {
      await q.insertStaff({ name, tokenSha256: sha256Hex(token), createdAt: nowMs });
      await recordAudit(q, nowMs, actor, 'create-staff', { target: name });
    });
  } catch (error) {
    if (error instanceof StoreConflictError) throw new KeyCenterError('STAFF_EXISTS', `staff member ${name} already exists`, 'name');
    throw error;
  }
  return token;
}

/** The staff member a bearer token belongs to, if any. */
export async function staffOfToken(ctx: KeyCenterContext, token: string): Promise<StaffRecord | undefined> {
  if (!token.startsWith(STAFF_TOKEN_PREFIX)) return undefined;
  return ctx.store.read((q) => q.staffByTokenSha256(sha256Hex(token)));
}
