// What every rule of the key center works with: the store, the clock, the
// vendor's signing key and the config. One object, built by KeyCenter.open(),
// passed to the rule functions (activation.ts, accounts.ts, …) so each stays a
// plain function a test can call.
import type { KeyCenterConfig } from './key-center-config.ts';
import type { RateLimits } from './rate-limits.ts';
import type { KeyCenterStore } from './store/key-center-store.ts';

/** The vendor's signing key. */
export interface VendorSigner {
  /** Ed25519 secret key (64 bytes, tweetnacl layout). */
  readonly secretKey: Uint8Array;
  readonly vendorKeyId: string;
}

export interface KeyCenterContext {
  readonly store: KeyCenterStore;
  /** The time, ms since the Unix epoch. */
  readonly clock: () => number;
  readonly signer: VendorSigner;
  readonly config: KeyCenterConfig;
  readonly rateLimits: RateLimits;
}

/**
 * Who does something, as the audit trail and `issuedBy` record it:
 * "cli", "api" (an activation by code), "vendor:NAME" (staff), "user:EMAIL" (a member).
 */
export type Actor = string;

/** A member acting inside one account: everything they reach must belong to it. */
export interface AccountScope {
  readonly siteNumber: string;
  readonly userId: string;
  readonly email: string;
}

/** The actor string of a member. */
export function memberActor(scope: AccountScope): Actor {
  return `user:${scope.email}`;
}
