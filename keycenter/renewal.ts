// Maintenance renewals: an order line that renews an earlier line (the same
// product at a newer version, bought as maintenance) yields codes like any
// line, and its key replaces the renewed line's key on the same servers. The
// key center names that key in the new key's `supersedes`, so the license
// server swaps one for the other in one step and counts the line's seats
// once: without it a client of the older version would see the old key's
// seats plus the new key's (a pool serves every version up to its own).
// A renewal that starts later (`--starts`, an annual license renewed before
// it ends) must not remove the key in force before its own seats start: it
// supersedes nothing when the renewed key ends by then (the two never
// overlap), and is refused until its start otherwise (RENEWAL_NOT_STARTED).
import { KeyCenterError } from './key-center-error.ts';
import { currentOf, sameLockCodes } from './key-chain.ts';
import type { EntitlementRecord, LicenseKeyRecord, StoreQueries } from './store/key-center-store.ts';

/** Renewed lines followed back from a renewal (29 → 30 → 31 …), lines: a bound on a chain of renewals. */
export const RENEWAL_CHAIN_LINES_MAX = 100;

/**
 * The key a renewal code's activation on `lockCodes` would replace, with its code: the key in
 * force on exactly those servers that a code of the renewed line issued
 * (followed through rehosts), for the same product, component and model; when
 * that line has none there, the line it renewed in turn. Null for a code
 * that renews nothing, and when no such key is in force on those servers
 * (ended, never activated there, or already replaced by another renewal key).
 */
async function renewedKeyOnHost(q: StoreQueries, e: EntitlementRecord, lockCodes: readonly string[], nowMs: number): Promise<{ key: LicenseKeyRecord; code: EntitlementRecord } | null> {
  if (e.lineId === null) return null;
  let renewedLineId = (await q.line(e.lineId))?.renewsLineId ?? null;
  for (let i = 0; renewedLineId !== null && i < RENEWAL_CHAIN_LINES_MAX; i++) {
    for (const key of await q.keys({ lineId: renewedLineId })) {
      const current = await currentOf(q, key);
      if (!sameLockCodes(current.lockCodes, lockCodes)) continue;
      const code = await q.entitlement(current.authCode);
      if (code === undefined || code.lineId !== renewedLineId) continue; // seats added from another line: not this line's key alone
      if (code.product !== e.product || code.component !== e.component || code.model !== e.model) continue;
      if (code.expiresAt !== null && code.expiresAt <= nowMs) continue;
      return { key: current, code };
    }
    renewedLineId = (await q.line(renewedLineId))?.renewsLineId ?? null;
  }
  return null;
}

/**
 * The key a renewal code's activation on `lockCodes` supersedes (see
 * renewedKeyOnHost), or null; RENEWAL_NOT_STARTED when the renewal starts
 * later and the renewed key would still be in force then.
 */
export async function renewalSupersedes(q: StoreQueries, e: EntitlementRecord, lockCodes: readonly string[], nowMs: number): Promise<LicenseKeyRecord | null> {
  const renewed = await renewedKeyOnHost(q, e, lockCodes, nowMs);
  if (renewed === null || e.startsAt === null || e.startsAt <= nowMs) return renewed?.key ?? null;
  if (renewed.code.expiresAt !== null && renewed.code.expiresAt <= e.startsAt) return null;
  const day = new Date(e.startsAt).toISOString().slice(0, 10);
  throw new KeyCenterError(
    'RENEWAL_NOT_STARTED',
    `authorization code ${e.authCode} renews license ${renewed.key.licenseId} on these servers from ${day}; activate it on or after that day (until then ${renewed.key.licenseId} serves)`,
    'authCode',
  );
}
