// daemon/pool: the seat-pool state machine. Pure and deterministic: every
// licensing rule lives here; time comes in each command's `at`.
export { apply } from './apply.ts';
export type {
  BorrowCommand,
  BorrowKeySetCommand,
  ReturnCommand,
  CheckinCommand,
  CheckoutCancelCommand,
  CheckoutCommand,
  CommandBase,
  ExpireCommand,
  ForceCheckinCommand,
  GraceCommand,
  LicenseInstallCommand,
  LicenseRemoveCommand,
  PoolCommand,
  PoolCommandType,
  PoolConfigureCommand,
  PolicySetCommand,
  RenewCommand,
  SessionCloseCommand,
  SessionOpenCommand,
  UsersAssignCommand,
} from './commands.ts';
export { POOL_ERROR_CODES, type PoolErrorCode } from './error-codes.ts';
export { checkInvariants } from './invariants.ts';
export { POOL_LIMITS_DEFAULT, type PoolLimits } from './limits.ts';
export { createPoolState, type LicenseProvenance, type PoolState } from './pool-state.ts';
export {
  borrowKey,
  explainCheckout,
  findSession,
  policyDryRun,
  policyView,
  reservedIdleSeats,
  hasLicense,
  isIdle,
  listLeases,
  listSessionLeases,
  listLicenses,
  listPools,
  listRetiredLicenses,
  listSessions,
  nextDeadlineMs,
  retiredLicense,
  queuePosition,
  rememberedReply,
  type CheckoutExplanation,
  type ExplainQuery,
  type LeaseView,
  type PolicyView,
  type PolicyViolationView,
  type LicenseView,
  type PoolView,
  type RetiredLicenseView,
  type SessionOwner,
  type SessionView,
} from './queries.ts';
export type {
  ApplyResult,
  DequeueReason,
  LeaseGrant,
  PoolError,
  PoolEvent,
  PoolOk,
  PoolReply,
  RevokeReason,
  UsageKind,
} from './results.ts';
export { requestKey } from './request-memory.ts';
export { decodeSnapshot, encodeSnapshot } from './snapshot.ts';
