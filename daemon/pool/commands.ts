// The commands of the seat-pool state machine: the only way pool state changes.
// Each is a plain JSON-serialisable object that travels in the Raft log and is
// applied, in log order, on every node. Time enters only as `at`, stamped by
// the leader; every deadline (lease expiry, queue timeout, linger) is computed
// from it and from durations carried in the command, never from node config.
import type { LicensePayload } from '../../protocol/license-payload.ts';
import type { Policy, PolicyFormat } from '../../protocol/policy.ts';
import type { LicenseProvenance } from './pool-state.ts';

/**
 * Fields every command carries.
 * `at`: cluster time in ms since the Unix epoch, stamped by the leader: it
 * advances with the leader's monotonic clock, so deadlines measure elapsed
 * time. The state machine never moves backwards: an `at` below the last
 * applied one is treated as that one.
 */
export interface CommandBase {
  readonly at: number;
  /**
   * `ms` since the epoch: the date license notBefore and expiresAt are judged
   * at (the leader's wall clock, held within a tolerance of `at`). Unlike
   * `at` it may move back (a corrected clock), and the licenses are judged
   * again. Absent: `at` (the leader writes it only when they differ by a second or more).
   */
  readonly dateMs?: number;
}

/**
 * Install an already-verified license key: its seats join the pools of its
 * features at `version`. A key that `supersedes` another removes that one in
 * the same step and retires it for good: installing it later answers
 * SUPERSEDED. A pool of an older version that only the old key had is carried
 * over into the new key's pool of the feature (a renewal: its leases, named
 * users and queue move, see carry-over.ts); then leases beyond the remaining
 * capacity are revoked as on license-remove. A license an admin removed is installed again only by an
 * explicit import, never `from` a license file (LICENSE_REMOVED).
 */
export interface LicenseInstallCommand extends CommandBase {
  readonly type: 'license-install';
  readonly license: LicensePayload;
  /** 'license-file': proposed from the config's licenseFiles; absent: an admin's import. */
  readonly from?: 'license-file';
  /** The key center it came from (activation online or offline); recorded with the license. */
  readonly provenance?: LicenseProvenance;
}

/**
 * Remove an installed license; leases beyond the remaining capacity are
 * revoked (newest first). The license stays retired as removed: a license
 * file naming it does not install it again.
 */
export interface LicenseRemoveCommand extends CommandBase {
  readonly type: 'license-remove';
  readonly licenseId: string;
}

/**
 * Open a client session. `sessionId` is chosen by the daemon (unique).
 * `sessionTtlMs`: the session closes itself when not renewed for this long,
 * and never before a lease it was granted falls due (a grant, like a renew,
 * moves the session's deadline out to the lease's). So its leases not renewed
 * either (the usual case: renew and grant move both) are then
 * revoked as expired (reason `lease-expired`, usage `expiry`), its queued
 * checkouts leave their queues, and any lease still held is checked in as on
 * session-close. See `expire`.
 */
export interface SessionOpenCommand extends CommandBase {
  readonly type: 'session-open';
  readonly sessionId: string;
  /** Stable identity of the client installation; the key of remembered request results. */
  readonly clientId: string;
  readonly user: string;
  readonly host: string;
  readonly app: string;
  /** The client's IP address as the node saw it, for policy rules by IP range; absent or '' when unknown. */
  readonly ip?: string;
  readonly sessionTtlMs: number;
  /**
   * SHA-256 of the session's secret (base64url), which only the client that
   * opened the session was told: resuming the session needs the secret. The
   * log carries the hash only. Absent (entries written before): the session
   * cannot be resumed.
   */
  readonly secretSha256?: string;
}

/**
 * Close a session: each of its leases is checked in (linger applies, as for a
 * checkin), and each of its queued checkouts leaves its queue.
 */
export interface SessionCloseCommand extends CommandBase {
  readonly type: 'session-close';
  readonly sessionId: string;
}

/**
 * Ask for `count` seats of `feature`. Any pool of the feature whose version is
 * at least `version` may serve (a v30 seat serves a v29 client); the lowest
 * such version that can is chosen. Without `version`, any version serves.
 * A checkout that no eligible pool could ever grant (`count` above every
 * concurrent pool's seatsCeiling) is refused at once, COUNT_EXCEEDS_SEATS.
 * With `wait`, a checkout that finds no seat joins the FIFO queue of the
 * lowest eligible concurrent pool that could grant it and waits at most `waitMs`.
 * A retry with the same (clientId, requestId) returns the first answer.
 */
export interface CheckoutCommand extends CommandBase {
  readonly type: 'checkout';
  readonly sessionId: string;
  readonly requestId: string;
  readonly feature: string;
  readonly version?: string;
  /** Seats wanted, an integer ≥ 1 (1 in authorized-user pools). */
  readonly count: number;
  readonly wait: boolean;
  /** `ms`: the lease expires this long after its grant unless renewed; its session lives at least as long. */
  readonly leaseTtlMs: number;
  /** `ms`: how long a queued checkout waits before it gives up; ignored without `wait`. */
  readonly waitMs: number;
  /**
   * Most checkouts the session may have queued at once (the node's config,
   * `[limits] queuedPerSessionMax`); beyond it a checkout that would queue
   * is refused QUEUED_PER_SESSION_LIMIT_REACHED. Absent (entries written
   * before it existed): only leasesPerSessionMax bounds them.
   */
  readonly queuedPerSessionMax?: number;
  /**
   * The keys whose seats may serve this checkout: those that pass their lock
   * rule on the node that took it (its lock code, or a majority of the codes
   * they name among the members it reaches). It is granted, now or from the
   * queue, only while the pool's seats in use stay within those keys' seats
   * (in force); queued, it is passed over (keeping its place) while they
   * do not, so it never holds back the queue behind it. Absent: every key
   * of the pool (a node that checks no lock codes; commands logged before
   * 0.2). A fact of the serving node, carried as data so that the pool stays
   * pure and every replica agrees.
   */
  readonly licenseIds?: readonly string[];
}

/** Give back a lease. The seat stays held for the pool's linger time, if any. Idempotent by requestId. */
export interface CheckinCommand extends CommandBase {
  readonly type: 'checkin';
  readonly sessionId: string;
  readonly requestId: string;
  readonly leaseId: string;
}

/** Withdraw a queued checkout (its requestId) before it is granted. */
export interface CheckoutCancelCommand extends CommandBase {
  readonly type: 'checkout-cancel';
  readonly sessionId: string;
  readonly requestId: string;
}

/**
 * Keep leases alive: each lease in `leaseIds`, and each session in
 * `sessionIds` with every one of its leases, now expires no earlier than
 * `at + leaseTtlMs` (a session's own deadline moves the same way). Unknown ids
 * are reported, not fatal. The daemon batches client heartbeats into one renew.
 * So a client that stops heartbeating has its session and its leases fall due
 * at the same `at`: its leases are revoked as expired, not checked in.
 */
export interface RenewCommand extends CommandBase {
  readonly type: 'renew';
  readonly leaseIds: readonly string[];
  readonly sessionIds: readonly string[];
  readonly leaseTtlMs: number;
}

/**
 * Expire everything whose deadline ≤ `at`, in this order: queued checkouts
 * past their wait leave their queues; sessions not renewed lose their queued
 * checkouts (no seat freed by this expire goes to a dead session); leases are
 * revoked (reason `lease-expired`, usage `expiry`) and lingering seats freed;
 * then those sessions close, checking in any lease not yet due. Freed seats
 * serve their queues. The daemon's reaper proposes it at `nextDeadlineMs()`.
 */
export interface ExpireCommand extends CommandBase {
  readonly type: 'expire';
}

/** An admin frees a seat: the lease ends now (no linger); its holder is told `reason`. */
export interface ForceCheckinCommand extends CommandBase {
  readonly type: 'force-checkin';
  readonly leaseId: string;
  /** Free text from the admin, at most 200 characters are kept. */
  readonly reason: string;
}

/**
 * Authorized-user model: the pool's named users, replacing the previous list.
 * At most the pool's seat count. Leases of users no longer named are revoked.
 */
export interface UsersAssignCommand extends CommandBase {
  readonly type: 'users-assign';
  readonly feature: string;
  readonly version: string;
  readonly users: readonly string[];
}

/**
 * Pool settings chosen by the admin. `lingerMsMax`: the cap on the keys'
 * linger time for this pool (`ms`); the default is no cap beyond the keys'.
 */
export interface PoolConfigureCommand extends CommandBase {
  readonly type: 'pool-configure';
  readonly feature: string;
  readonly version: string;
  readonly lingerMsMax: number;
}

/**
 * A new leader's grace period: every held lease, session and queued checkout
 * now expires no earlier than `at + graceMs`. Lingering seats are not extended.
 */
export interface GraceCommand extends CommandBase {
  readonly type: 'grace';
  readonly graceMs: number;
}

/**
 * Put a seat policy in force (docs/policy.md), replacing the one before; its
 * version is the previous one's + 1. Existing leases keep their seats unless
 * `revokeViolating`: then those the new rules refuse (an exclusion, a max
 * limit: the newest beyond it) are revoked. Queued checkouts the new rules
 * exclude leave their queues. `policy` was parsed and checked by the node
 * from `text` (kept for GET /policy).
 */
export interface PolicySetCommand extends CommandBase {
  readonly type: 'policy-set';
  readonly policy: Policy;
  readonly format: PolicyFormat;
  readonly text: string;
  /** Refused with POLICY_VERSION_CONFLICT unless the policy in force has this version (0: none yet). */
  readonly expectedVersion?: number;
  readonly revokeViolating: boolean;
}

/**
 * Take one seat of `feature` offline (borrow it) for `durationMs`: a lease
 * with no session that needs no renewal and ends at `at + durationMs`
 * (usage 'borrow', then 'return' or 'borrow-end'). Only where a key in force
 * allows borrowing, within its hours, the policy's limits and the free seats
 * (a borrow never queues). A retry with the same (clientId, requestId)
 * returns the first answer.
 */
export interface BorrowCommand extends CommandBase {
  readonly type: 'borrow';
  readonly sessionId: string;
  readonly requestId: string;
  readonly feature: string;
  readonly version?: string;
  readonly durationMs: number;
  /** The borrowing machine's fingerprint (1–128 characters). */
  readonly fingerprint: string;
  /**
   * The keys that pass their lock rule on the node that took it, as a
   * checkout's licenseIds: the seat is lent only while the seats in use stay
   * within those keys' seats. Absent: every key of the pool.
   */
  readonly licenseIds?: readonly string[];
}

/**
 * Give a borrowed seat back before its end. A borrowed seat belongs to the
 * client that borrowed it, not to a session (borrowing is for offline use:
 * the session that borrowed is long gone), so the return names the client,
 * as the session it came through states it; it applies whether or not that
 * session still lives when the entry does. Idempotent by (clientId, requestId).
 */
export interface ReturnCommand extends CommandBase {
  readonly type: 'return';
  /** The client returning it, as its hello stated it: only the client that borrowed the seat may return it. */
  readonly clientId: string;
  readonly requestId: string;
  readonly leaseId: string;
}

/**
 * The cluster's borrow-token key (Ed25519, base64url): the first one set
 * stays; a later set changes nothing and answers the key in force. A leader
 * proposes one when the pool has none.
 */
export interface BorrowKeySetCommand extends CommandBase {
  readonly type: 'borrow-key-set';
  readonly publicKey: string;
  readonly secretKey: string;
}

/** Every command of the seat-pool state machine, a union on `type`. */
export type PoolCommand =
  | LicenseInstallCommand
  | LicenseRemoveCommand
  | SessionOpenCommand
  | SessionCloseCommand
  | CheckoutCommand
  | CheckinCommand
  | CheckoutCancelCommand
  | RenewCommand
  | ExpireCommand
  | ForceCheckinCommand
  | UsersAssignCommand
  | PoolConfigureCommand
  | GraceCommand
  | PolicySetCommand
  | BorrowCommand
  | ReturnCommand
  | BorrowKeySetCommand;

/** The `type` of every command. */
export type PoolCommandType = PoolCommand['type'];
