// Supersede chains of issued keys: a key replaced by a rehost, by added seats
// or by a renewal names the key it replaced, so every key leads to the one in
// force now. Shared by activation, renewal and member replacement so that
// "the key in force" means one thing.
import type { LicenseKeyRecord, StoreQueries } from './store/key-center-store.ts';

/** Longest supersede chain followed, keys (a bound, never reached in practice). */
export const SUPERSEDE_CHAIN_MAX = 10_000;

/** True when `a` and `b` name the same lock codes, in any order. */
export function sameLockCodes(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((code) => b.includes(code));
}

/** The key in force that `key` led to: itself, or the last key of the chain superseding it. */
export async function currentOf(q: StoreQueries, key: LicenseKeyRecord): Promise<LicenseKeyRecord> {
  let k = key;
  for (let i = 0; i < SUPERSEDE_CHAIN_MAX; i++) {
    const next = await q.successorOf(k.licenseId);
    if (next === undefined) return k;
    k = next;
  }
  throw new Error(`assert: supersede chain from ${key.licenseId} longer than ${SUPERSEDE_CHAIN_MAX}`);
}
