// Every error code the seat-pool state machine answers with, and what it means.
// docs/protocol.md is written from this table; codes are stable wire names.

/** Each code with its one-line meaning. */
export const POOL_ERROR_CODES = {
  NO_SEATS: 'Every seat of every pool that could serve the checkout is held.',
  UNKNOWN_FEATURE: 'No installed license grants this feature.',
  VERSION_NOT_LICENSED: 'The feature is licensed, but no pool has a version at least the one asked for.',
  NOT_AUTHORIZED_USER: 'The pool uses the authorized-user model and this user is not one of its named users.',
  HOSTS_PER_USER_REACHED: 'This named user already holds the seat from as many hosts as the key allows.',
  QUEUE_FULL: 'The pool queue holds its maximum number of waiters.',
  COUNT_EXCEEDS_SEATS: 'The checkout asks more seats than any pool that could serve it has: it could never be granted, so it is not queued.',
  QUEUED_PER_SESSION_LIMIT_REACHED: 'The session already has as many checkouts queued as the server allows.',
  REQUEST_ID_REUSED: 'The requestId is remembered as the answer to a different request (another type or other fields); nothing was done.',
  QUEUED_REQUEST_NOT_FOUND: 'No queued checkout of this session has this requestId.',
  LEASE_NOT_FOUND: 'This session holds no lease with this id (it may have been checked in, expired or revoked, or never been this session\'s).',
  SESSION_NOT_FOUND: 'No open session has this id.',
  SESSION_EXISTS: 'A session with this id is already open.',
  SESSIONS_LIMIT_REACHED: 'The server holds its maximum number of sessions.',
  LEASES_PER_POOL_LIMIT_REACHED: 'The pool holds its maximum number of leases.',
  LEASES_PER_SESSION_LIMIT_REACHED: 'The session holds its maximum number of leases and queued checkouts.',
  LICENSE_EXISTS: 'A license with this id is already installed.',
  LICENSE_NOT_FOUND: 'No installed license has this id.',
  LICENSE_EXPIRED: 'The license ended before it was installed.',
  SUPERSEDED: 'A key that names this license as the one it supersedes was installed: this key is refused for good.',
  LICENSE_REMOVED: 'An admin removed this license; a license file does not bring it back (an admin import does).',
  RETIRED_LICENSES_LIMIT_REACHED: 'The server remembers its maximum number of removed and superseded licenses.',
  LICENSES_LIMIT_REACHED: 'The server holds its maximum number of licenses.',
  POOLS_LIMIT_REACHED: 'The server holds its maximum number of pools.',
  MODEL_CONFLICT: 'The pool already holds keys of the other licensing model.',
  POOL_NOT_FOUND: 'No pool has this feature and version.',
  POOL_NOT_AUTHORIZED_USER: 'Named users can be assigned only in an authorized-user pool.',
  USERS_EXCEED_SEATS: 'More named users than the pool has seats.',
  COUNT_INVALID: 'The seat count must be an integer from 1 (exactly 1 in an authorized-user pool).',
  DURATION_INVALID: 'A duration (ttl, wait, grace, linger) must be a non-negative integer of ms within its limit.',
  BATCH_LIMIT_REACHED: 'The renew batch names more ids than allowed.',
} as const;

/** An UPPER_CASE error code of the pool. */
export type PoolErrorCode = keyof typeof POOL_ERROR_CODES;
