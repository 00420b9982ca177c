// Issued keys as people see them: each with what it grants, its status
// (active, superseded by a newer key, expired) and the chain of keys that
// replaced one another; and the hosts — the sets of lock codes keys were
// issued to — that "View codes by host" lists.
import type { LicenseModel } from '../protocol/index.ts';
import type { EntitlementRecord, LicenseKeyRecord } from './store/key-center-store.ts';

/** Where a key stands: in force, replaced by a newer key, or past its end. */
export type KeyStatus = 'active' | 'superseded' | 'expired';

/** A license key the key center issued. */
export interface IssuedKey {
  readonly licenseId: string;
  readonly authCode: string;
  readonly product: string;
  readonly component: string | null;
  readonly version: string;
  readonly model: LicenseModel;
  /** Seats (named users) the key grants. */
  readonly seats: number;
  /** Of those, the seats taken from its own code (0 for a rehost). */
  readonly seatsFromCode: number;
  readonly lockCodes: string[];
  readonly hostDescription: string | null;
  /** End of a temporary key, ms since the Unix epoch; null: perpetual. */
  readonly expiresAt: number | null;
  /** `h`: the longest borrow the key allows; null: its seats cannot be borrowed. */
  readonly borrowHoursMax: number | null;
  readonly issuedAt: number;
  readonly keyText: string;
  /** The key this one replaced. */
  readonly supersedes: string | null;
  /** The key that replaced this one. */
  readonly supersededBy: string | null;
  readonly status: KeyStatus;
  readonly siteNumber: string | null;
  readonly orderId: string | null;
  readonly orderNumber: string | null;
  readonly comment: string | null;
  readonly issuedBy: string;
}

/** One license host: a set of lock codes (one server, or three redundant ones) and the keys issued to it. */
export interface LicenseHost {
  /** The sorted lock codes joined by "_": stable, URL-safe. */
  readonly hostId: string;
  readonly lockCodes: string[];
  /** The latest description given to it. */
  readonly hostDescription: string | null;
  /** In issue order. */
  readonly keys: IssuedKey[];
}

/** The id of the host a set of lock codes names (order does not matter). */
export function hostIdOf(lockCodes: readonly string[]): string {
  return [...lockCodes].sort().join('_');
}

/**
 * The keys as people see them. `keys` must hold every key that could
 * supersede one of them (all of an account's, or all), `entitlements` their codes.
 */
export function describeKeys(keys: readonly LicenseKeyRecord[], entitlements: readonly EntitlementRecord[], nowMs: number): IssuedKey[] {
  const codes = new Map(entitlements.map((e) => [e.authCode, e]));
  const successors = new Map<string, string>();
  for (const k of keys) if (k.supersedes !== null) successors.set(k.supersedes, k.licenseId);
  return keys.map((k) => describeKey(k, codes.get(k.authCode), successors.get(k.licenseId) ?? null, nowMs));
}

/** One key as people see it, given its code and the id of the key that replaced it. */
export function describeKey(k: LicenseKeyRecord, e: EntitlementRecord | undefined, supersededBy: string | null, nowMs: number): IssuedKey {
  if (e === undefined) throw new Error(`assert: key ${k.licenseId} has no authorization code ${k.authCode}`);
  const status: KeyStatus = supersededBy !== null ? 'superseded' : e.expiresAt !== null && e.expiresAt <= nowMs ? 'expired' : 'active';
  return {
    licenseId: k.licenseId,
    authCode: k.authCode,
    product: e.product,
    component: e.component,
    version: e.version,
    model: e.model,
    seats: k.seats,
    seatsFromCode: k.seatsFromCode,
    lockCodes: [...k.lockCodes],
    hostDescription: k.hostDescription,
    expiresAt: e.expiresAt,
    borrowHoursMax: e.borrowHoursMax,
    issuedAt: k.issuedAt,
    keyText: k.keyText,
    supersedes: k.supersedes,
    supersededBy,
    status,
    siteNumber: k.siteNumber,
    orderId: e.orderId,
    orderNumber: e.orderNumber,
    comment: k.comment,
    issuedBy: k.issuedBy,
  };
}

/** Keys grouped by host (set of lock codes), hosts ordered by description (none last), then by id. */
export function hostsOf(keys: readonly IssuedKey[]): LicenseHost[] {
  const hosts = new Map<string, { lockCodes: string[]; hostDescription: string | null; keys: IssuedKey[] }>();
  for (const key of keys) {
    const hostId = hostIdOf(key.lockCodes);
    const host = hosts.get(hostId) ?? { lockCodes: [...key.lockCodes].sort(), hostDescription: null, keys: [] };
    host.keys.push(key);
    if (key.hostDescription !== null) host.hostDescription = key.hostDescription;
    hosts.set(hostId, host);
  }
  return [...hosts.entries()]
    .map(([hostId, h]) => ({ hostId, ...h }))
    .sort((a, b) =>
      a.hostDescription === b.hostDescription
        ? a.hostId.localeCompare(b.hostId)
        : a.hostDescription === null
          ? 1
          : b.hostDescription === null
            ? -1
            : a.hostDescription.localeCompare(b.hostDescription),
    );
}

/** The chain of keys `licenseId` belongs to, oldest first (each superseding the one before). */
export function chainOf(licenseId: string, keys: readonly IssuedKey[]): IssuedKey[] {
  const byId = new Map(keys.map((k) => [k.licenseId, k]));
  let first = byId.get(licenseId);
  const seen = new Set<string>();
  while (first?.supersedes != null && byId.has(first.supersedes) && !seen.has(first.licenseId)) {
    seen.add(first.licenseId);
    first = byId.get(first.supersedes);
  }
  const chain: IssuedKey[] = [];
  for (let k = first; k !== undefined && chain.length <= keys.length; k = k.supersededBy === null ? undefined : byId.get(k.supersededBy)) chain.push(k);
  return chain;
}
