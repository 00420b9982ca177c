// What applying a command yields: the reply to its proposer, and the events
// the daemon pushes to other clients and writes to the usage table. Every node
// computes the same result for the same log entry, so any node can answer.
import type { LeaseInfo } from '../../protocol/wire.ts';
import type { PoolErrorCode } from './error-codes.ts';

/**
 * A granted lease, as its holder is told: exactly the client protocol's
 * LeaseInfo (fencingToken is the log index of the command that granted it).
 */
export type LeaseGrant = LeaseInfo;

/** A refused command: nothing changed except time-driven license transitions. */
export interface PoolError {
  readonly ok: false;
  readonly code: PoolErrorCode;
  /** Human sentence. */
  readonly message: string;
}

/** Direct answers, a union on `type`. */
export type PoolOk =
  | { readonly ok: true; readonly type: 'granted'; readonly lease: LeaseGrant }
  | {
      readonly ok: true;
      readonly type: 'queued';
      readonly feature: string;
      readonly version: string;
      /** 1 is the head of the queue. */
      readonly position: number;
      /** `ms` since the epoch: the wait ends then unless granted. */
      readonly waitUntilMs: number;
    }
  | {
      readonly ok: true;
      readonly type: 'checked-in';
      readonly leaseId: string;
      /** `ms` since the epoch until which the seat lingers for its last user; equals `at` when it does not. */
      readonly lingerUntilMs: number;
    }
  | { readonly ok: true; readonly type: 'checkout-cancelled'; readonly requestId: string }
  | {
      readonly ok: true;
      readonly type: 'renewed';
      /** Leases renewed (named, or held by a named session), whether or not their deadline moved: a deadline never moves earlier. */
      readonly leaseCount: number;
      readonly expiresAt: number;
      readonly unknownLeaseIds: readonly string[];
      readonly unknownSessionIds: readonly string[];
    }
  | {
      readonly ok: true;
      readonly type: 'expired';
      readonly leaseCount: number;
      readonly lingerCount: number;
      readonly waiterCount: number;
      readonly sessionCount: number;
    }
  | {
      readonly ok: true;
      readonly type: 'license-installed';
      readonly licenseId: string;
      /** The installed license this key superseded and so removed; absent when none was installed. */
      readonly supersededLicenseId?: string;
      readonly pools: readonly { readonly feature: string; readonly version: string }[];
    }
  | { readonly ok: true; readonly type: 'license-removed'; readonly licenseId: string }
  | { readonly ok: true; readonly type: 'session-opened'; readonly sessionId: string }
  | { readonly ok: true; readonly type: 'session-closed'; readonly sessionId: string; readonly leaseCount: number }
  | {
      readonly ok: true;
      readonly type: 'force-checked-in';
      readonly leaseId: string;
      /**
       * For a borrowed lease whose client is offline: its seat is not back
       * yet; it comes back at this time (`ms` since the epoch, the borrow's
       * end) or when the client next opens a session, whichever comes first.
       */
      readonly borrowedUntilMs?: number;
    }
  | { readonly ok: true; readonly type: 'users-assigned'; readonly feature: string; readonly version: string; readonly userCount: number }
  | { readonly ok: true; readonly type: 'pool-configured'; readonly feature: string; readonly version: string }
  | { readonly ok: true; readonly type: 'grace'; readonly untilMs: number }
  | {
      readonly ok: true;
      readonly type: 'borrowed';
      readonly lease: LeaseGrant;
      /** `ms` since the epoch the borrow began. */
      readonly borrowedAt: number;
      readonly clientId: string;
      readonly user: string;
      readonly host: string;
      readonly fingerprint: string;
    }
  | { readonly ok: true; readonly type: 'returned'; readonly leaseId: string }
  | { readonly ok: true; readonly type: 'borrow-key-set'; readonly publicKey: string; readonly changed: boolean }
  | {
      readonly ok: true;
      readonly type: 'policy-set';
      readonly version: number;
      /** Leases revoked because the new rules refuse them (only when asked). */
      readonly revokedLeaseIds: readonly string[];
      /** Queued checkouts that left their queues because the new rules exclude them. */
      readonly dequeuedCount: number;
    };

/** The direct answer to a command's proposer. */
export type PoolReply = PoolOk | PoolError;

/** Why a lease ended without its holder's checkin. */
export type RevokeReason =
  | 'lease-expired'
  | 'force-checkin'
  | 'license-removed'
  | 'license-expired'
  | 'user-unassigned'
  | 'policy'
  | 'borrow-revoked';

/** Why a queued checkout left its queue without a grant; `seats-reduced`: its pool's keys now hold fewer seats than it asks; `policy-excluded`: a new seat policy excludes it. */
export type DequeueReason = 'wait-timeout' | 'session-closed' | 'cancelled' | 'pool-removed' | 'seats-reduced' | 'policy-excluded';

/**
 * Usage kinds for the reports table. A held lease starts with `checkout` and
 * ends with exactly one of `checkin` (its holder or its session's end gave it
 * back), `expiry` (not renewed in time), `force-checkin` (an admin freed it;
 * `reason` is the admin's text) or `revoke` (its seats went away; `reason` is
 * the RevokeReason: license-removed, license-expired, user-unassigned).
 * `user-added` / `user-removed`: the named users of an authorized-user pool
 * changed (`reason` '' when an admin set them, else why the user lost the seat).
 * A borrowed seat starts with `borrow` and ends with one of `return` (given
 * back early), `borrow-end` (its time was up) or `revoke` (reason
 * license-removed, license-expired, policy, or borrow-revoked: revoked while
 * offline and freed when its client came back) or `force-checkin`.
 */
export type UsageKind =
  | 'checkout'
  | 'checkin'
  | 'denial'
  | 'expiry'
  | 'queue-wait'
  | 'force-checkin'
  | 'revoke'
  | 'user-added'
  | 'user-removed'
  | 'borrow'
  | 'return'
  | 'borrow-end';

/** Something other clients (or the reports table) must hear about; a union on `kind`. */
export type PoolEvent =
  | {
      /** A queued checkout got its seats; its remembered result is now this grant. */
      readonly kind: 'granted';
      readonly clientId: string;
      readonly sessionId: string;
      readonly requestId: string;
      readonly lease: LeaseGrant;
    }
  | {
      /** A waiter's queue position changed (1 is the head). */
      readonly kind: 'queue';
      readonly clientId: string;
      readonly sessionId: string;
      readonly requestId: string;
      readonly feature: string;
      readonly version: string;
      readonly position: number;
    }
  | {
      /** A waiter left its queue without a grant. */
      readonly kind: 'dequeued';
      readonly clientId: string;
      readonly sessionId: string;
      readonly requestId: string;
      readonly feature: string;
      readonly version: string;
      readonly reason: DequeueReason;
    }
  | {
      /** A lease ended without its holder's checkin. */
      readonly kind: 'revoked';
      readonly leaseId: string;
      readonly clientId: string;
      readonly sessionId: string;
      readonly feature: string;
      readonly version: string;
      readonly reason: RevokeReason;
      /** Human sentence for the client (for force-checkin, includes the admin's reason). */
      readonly message: string;
    }
  | {
      /** A row for the usage reports table. */
      readonly kind: 'usage';
      readonly usage: UsageKind;
      readonly at: number;
      readonly feature: string;
      /** Pool version; for a denial, the version asked for ('' when none). */
      readonly version: string;
      readonly user: string;
      readonly host: string;
      readonly clientId: string;
      readonly count: number;
      /** The lease concerned ('' for denial and queue-wait). */
      readonly leaseId: string;
      /** `ms` a queue-wait lasted (until its grant or its end); 0 for other kinds. */
      readonly waitedMs: number;
      /** For a denial, the error code; '' otherwise. */
      readonly code: string;
      /** For force-checkin the admin's reason, for revoke and user-removed the RevokeReason; '' otherwise. */
      readonly reason: string;
    };

/** What `apply` returns. `events` may be a shared empty array: never mutate it. */
export interface ApplyResult {
  readonly reply: PoolReply;
  readonly events: readonly PoolEvent[];
}
