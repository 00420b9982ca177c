// The license commands of the state machine: install (with supersede) and
// remove, and the pools they create and drop. A license leaves the installed
// set only by remove or by being superseded, and is then remembered as
// retired: a superseded key is refused for good (SUPERSEDED), so a rehost
// never counts the old and the new seats together; a removed one is not
// brought back by a license file (LICENSE_REMOVED), only by an admin's import.
import { licenseFeatures } from '../../protocol/license-payload.ts';
import { refreshCapacity, setLicenseWindow } from './capacity.ts';
import type { LicenseInstallCommand, LicenseRemoveCommand } from './commands.ts';
import { POOL_ERROR_CODES, type PoolErrorCode } from './error-codes.ts';
import { poolKey, type License, type Pool, type PoolState, type Waiter } from './pool-state.ts';
import type { PoolError, PoolReply } from './results.ts';
import { dequeue, type Step } from './seats.ts';
import { compareVersions, parseVersion } from './version.ts';
import { carriesOver, carryOver } from './carry-over.ts';
import { refreshPoolRules } from './policy-seats.ts';

function fail(code: PoolErrorCode, message: string = POOL_ERROR_CODES[code]): PoolError {
  return { ok: false, code, message };
}

/**
 * Installs `c.license`. Checks everything first, so a refusal changes
 * nothing. With `supersedes`, the superseded key (when installed) leaves in
 * the same step: a pool of an older version that only it had is carried over
 * into the new key's pool of that feature (a renewal: carry-over.ts), the
 * new key's pools are refreshed, then those only the old key had (revoking
 * leases beyond what remains, as license-remove does), so a rehost or a
 * renewal onto a key with as many seats keeps every lease.
 */
export function licenseInstall(step: Step, c: LicenseInstallCommand): PoolReply {
  const state = step.state;
  const p = c.license;
  if (state.licenses.has(p.licenseId)) return fail('LICENSE_EXISTS');
  const retired = state.retiredLicenses.get(p.licenseId);
  if (retired?.reason === 'superseded') {
    return fail('SUPERSEDED', `License ${p.licenseId} was superseded by ${retired.by}; only that key (or a later one) is installed.`);
  }
  if (retired?.reason === 'removed' && c.from === 'license-file') {
    return fail('LICENSE_REMOVED', `License ${p.licenseId} was removed by an admin; a license file does not install it again (an admin import does).`);
  }
  const old = p.supersedes === undefined ? undefined : state.licenses.get(p.supersedes);
  if (state.licenses.size - (old === undefined ? 0 : 1) >= state.limits.licensesMax) return fail('LICENSES_LIMIT_REACHED');
  if (p.expiresAt !== undefined && p.expiresAt <= step.state.dateMs) return fail('LICENSE_EXPIRED');
  const versionParts = parseVersion(p.version);
  if (versionParts === null) throw new Error(`pool: license ${p.licenseId} has version ${p.version}`);
  const features = [...new Set(licenseFeatures(p))];
  let created = 0;
  for (const f of features) {
    const pool = state.pools.get(poolKey(f, p.version));
    if (pool === undefined) created++;
    else if (pool.model !== p.model && !onlyKeyOf(pool, old)) return fail('MODEL_CONFLICT');
  }
  if (state.pools.size + created > state.limits.poolsMax) return fail('POOLS_LIMIT_REACHED');
  const retires = p.supersedes !== undefined && state.retiredLicenses.get(p.supersedes)?.reason !== 'superseded';
  const retiredAfter = state.retiredLicenses.size - (retired === undefined ? 0 : 1) + (retires && !state.retiredLicenses.has(p.supersedes as string) ? 1 : 0);
  if (retiredAfter > state.limits.licensesRetiredMax) return fail('RETIRED_LICENSES_LIMIT_REACHED');

  // Checked: from here on nothing is refused.
  if (old !== undefined) {
    detach(state, old);
    passKeyOn(state, old.payload.licenseId, p.licenseId);
  }
  if (retires) state.retiredLicenses.set(p.supersedes as string, { reason: 'superseded', by: p.licenseId, at: step.at });
  if (retired !== undefined) state.retiredLicenses.delete(p.licenseId);
  const keys = features.map((f) => poolKey(f, p.version));
  state.licenses.set(p.licenseId, { payload: p, installedAt: step.at, poolKeys: keys, ...(c.provenance === undefined ? {} : { provenance: c.provenance }) });
  for (const f of features) {
    let pool = state.pools.get(poolKey(f, p.version));
    if (pool !== undefined && pool.model !== p.model) {
      // The old key's own pool, of the other model: it goes, and a new one comes.
      refreshCapacity(step, pool, 'license-removed');
      removePool(step, pool);
      pool = undefined;
    }
    pool ??= createPool(state, f, p.version, versionParts, p.model);
    pool.licenseIds.push(p.licenseId);
    // A renewal: the old key's pool of an older version moves in, leases, users and queue.
    if (old !== undefined) {
      for (const key of old.poolKeys) {
        const from = state.pools.get(key);
        if (from !== undefined && carriesOver(from, pool)) carryOver(step, from, pool);
      }
    }
    // A reinstall with fewer seats shrinks the pool: its holders are told the old key was removed (there is no separate reason for a replacement).
    refreshCapacity(step, pool, 'license-removed');
  }
  if (old !== undefined) for (const key of old.poolKeys) if (!keys.includes(key)) refreshOrDrop(step, key);
  setLicenseWindow(state);
  return {
    ok: true,
    type: 'license-installed',
    licenseId: p.licenseId,
    ...(old === undefined ? {} : { supersededLicenseId: old.payload.licenseId }),
    pools: features.map((feature) => ({ feature, version: p.version })),
  };
}

/** Removes an installed license and remembers it as removed. */
export function licenseRemove(step: Step, c: LicenseRemoveCommand): PoolReply {
  const state = step.state;
  const license = state.licenses.get(c.licenseId);
  if (license === undefined) return fail('LICENSE_NOT_FOUND');
  if (state.retiredLicenses.size >= state.limits.licensesRetiredMax) return fail('RETIRED_LICENSES_LIMIT_REACHED');
  detach(state, license);
  state.retiredLicenses.set(c.licenseId, { reason: 'removed', by: '', at: step.at });
  for (const key of license.poolKeys) refreshOrDrop(step, key);
  setLicenseWindow(state);
  return { ok: true, type: 'license-removed', licenseId: c.licenseId };
}

/** Queued checkouts limited to the keys that passed on their node count `to` where they counted `from`, the key it supersedes. */
function passKeyOn(state: PoolState, from: string, to: string): void {
  for (const pool of state.pools.values()) {
    for (const w of pool.queue) if (w.licenseIds?.includes(from) === true) w.licenseIds = w.licenseIds.map((id) => (id === from ? to : id));
  }
}

/** True when `license` is the only key of `pool`. */
function onlyKeyOf(pool: Pool, license: License | undefined): boolean {
  return license !== undefined && pool.licenseIds.every((id) => id === license.payload.licenseId);
}

/** Takes `license` out of the installed set and out of its pools' key lists; capacities are refreshed by the caller. */
function detach(state: PoolState, license: License): void {
  const id = license.payload.licenseId;
  state.licenses.delete(id);
  for (const key of license.poolKeys) {
    const pool = state.pools.get(key);
    if (pool !== undefined) pool.licenseIds.splice(pool.licenseIds.indexOf(id), 1);
  }
}

/** Refreshes the capacity of the pool `key` after a key left it, and drops the pool when no key is left. */
function refreshOrDrop(step: Step, key: string): void {
  const pool = step.state.pools.get(key);
  if (pool === undefined) return;
  refreshCapacity(step, pool, 'license-removed');
  if (pool.licenseIds.length === 0) removePool(step, pool);
}

/** Adds an empty pool to every index (used also when a snapshot is decoded). */
export function createPool(
  state: PoolState,
  feature: string,
  version: string,
  versionParts: readonly number[],
  model: Pool['model'],
): Pool {
  const pool: Pool = {
    key: poolKey(feature, version),
    feature,
    version,
    versionParts,
    model,
    licenseIds: [],
    seatsTotal: 0,
    seatsCeiling: 0,
    seatsInUse: 0,
    lingerMs: 0,
    lingerMsMax: state.limits.durationMsMax,
    hostsPerUserMax: 1,
    leaseCount: 0,
    lingering: new Map(),
    queue: [],
    users: new Set(),
    userHosts: new Map(),
    rules: undefined,
    policyHeld: new Map(),
    reserveHeld: [],
    reservedIdle: 0,
    leaseTtlMsMin: 0,
    leaseTtlMsMax: Number.POSITIVE_INFINITY,
    borrowMsMax: 0,
    seatsBorrowed: 0,
  };
  refreshPoolRules(state, pool);
  state.pools.set(pool.key, pool);
  const list = state.poolsByFeature.get(feature);
  if (list === undefined) state.poolsByFeature.set(feature, [pool]);
  else {
    list.push(pool);
    list.sort((a, b) => compareVersions(a.versionParts, b.versionParts) || (a.version < b.version ? -1 : 1));
  }
  return pool;
}

/** The last key of a pool is gone: its waiters leave (its leases were revoked with its seats). */
function removePool(step: Step, pool: Pool): void {
  const state = step.state;
  while (pool.queue.length > 0) dequeue(step, pool.queue[pool.queue.length - 1] as Waiter, 'pool-removed');
  state.pools.delete(pool.key);
  const list = state.poolsByFeature.get(pool.feature) ?? [];
  list.splice(list.indexOf(pool), 1);
  if (list.length === 0) state.poolsByFeature.delete(pool.feature);
}
