// The named maximum of every collection in the pool state (TIGER_STYLE: put a
// limit on everything). Limits are chosen when the state is created and travel
// in its snapshot, so every replica enforces the same ones.

/** Every maximum of the pool state. */
export interface PoolLimits {
  /** Installed licenses. */
  readonly licensesMax: number;
  /**
   * Removed and superseded licenses remembered (so that a license file or an
   * old key cannot bring them back); beyond it a removal or a superseding
   * install is refused (RETIRED_LICENSES_LIMIT_REACHED).
   */
  readonly licensesRetiredMax: number;
  /** Pools (feature × version). */
  readonly poolsMax: number;
  /** Open sessions. */
  readonly sessionsMax: number;
  /** Leases (held or lingering) in one pool. */
  readonly leasesPerPoolMax: number;
  /** Leases plus queued checkouts of one session. */
  readonly leasesPerSessionMax: number;
  /** Waiters in one pool's queue. */
  readonly queueLengthMax: number;
  /**
   * Remembered request results per client (older ones are forgotten). At
   * least the client SDK's requests in flight (16): it retries them all after
   * a failover, and a retry whose answer was forgotten takes a second seat.
   */
  readonly requestsPerClientRememberedMax: number;
  /** Clients whose request results are remembered (beyond it, the client first remembered is forgotten). */
  readonly clientsRememberedMax: number;
  /** Lease and session ids in one renew command. */
  readonly renewIdsMax: number;
  /** `ms`: longest lease ttl, queue wait, session ttl or grace. */
  readonly durationMsMax: number;
  /** `ms`: longest borrow, whatever a key allows. */
  readonly borrowMsMax: number;
}

/** Defaults sized for a site of tens of thousands of seats. */
export const POOL_LIMITS_DEFAULT: PoolLimits = {
  licensesMax: 1_000,
  licensesRetiredMax: 10_000,
  poolsMax: 1_000,
  sessionsMax: 250_000,
  leasesPerPoolMax: 250_000,
  leasesPerSessionMax: 1_000,
  queueLengthMax: 10_000,
  requestsPerClientRememberedMax: 16,
  clientsRememberedMax: 250_000,
  renewIdsMax: 100_000,
  durationMsMax: 7 * 24 * 3600 * 1000,
  borrowMsMax: 366 * 24 * 3600 * 1000,
};
