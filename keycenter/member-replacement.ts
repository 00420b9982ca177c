// A member of a redundant license server replaced, by the customer alone:
// activating the same authorization code with the cluster's lock codes after
// one server was swapped for another (two of three lock codes still those of
// the key in force) moves that key to the new lock codes — a rehost, as the
// vendor's `floe keycenter rehost` makes: same seats, no seats taken from the
// code, and `supersedes` naming the old key so the cluster counts the seats
// once. A key naming one server, or servers that mostly changed, is not a
// member replacement: that stays ALREADY_ACTIVATED (the vendor rehosts it).
import { KeyCenterError } from './key-center-error.ts';
import { currentOf } from './key-chain.ts';
import type { EntitlementRecord, LicenseKeyRecord, StoreQueries } from './store/key-center-store.ts';

/**
 * Rehosts of one code a customer may make by activation, keys (the vendor's
 * own rehosts count too): then REHOSTS_EXHAUSTED, and the vendor decides.
 */
export const REHOSTS_PER_CODE_MAX = 10;

/** Lock codes two sets share. */
function shared(a: readonly string[], b: readonly string[]): number {
  return a.filter((code) => b.includes(code)).length;
}

/**
 * The key in force of code `e` (one of its activations `earlier`, followed
 * through rehosts) that `lockCodes` replace a minority of servers of: as many
 * lock codes, at least three, and a majority of them the same. Null when
 * there is none. REHOSTS_EXHAUSTED when there is one but the code has used
 * its REHOSTS_PER_CODE_MAX rehosts.
 */
export async function keyOfReplacedMember(
  q: StoreQueries,
  e: EntitlementRecord,
  earlier: readonly LicenseKeyRecord[],
  lockCodes: readonly string[],
): Promise<LicenseKeyRecord | null> {
  const n = lockCodes.length;
  if (n < 3) return null;
  for (const k of earlier) {
    if (k.activationNo === null) continue;
    const current = await currentOf(q, k);
    if (current.authCode !== e.authCode || current.lockCodes.length !== n) continue;
    const same = shared(current.lockCodes, lockCodes);
    if (same === n || same < Math.floor(n / 2) + 1) continue;
    const rehosts = earlier.filter((x) => x.activationNo === null).length;
    if (rehosts >= REHOSTS_PER_CODE_MAX) {
      throw new KeyCenterError(
        'REHOSTS_EXHAUSTED',
        `authorization code ${e.authCode} was moved to new servers ${rehosts} times, the most a customer may; ask the vendor to rehost license ${current.licenseId}`,
        'authCode',
      );
    }
    return current;
  }
  return null;
}
