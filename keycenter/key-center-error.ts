// The key center's refusals: one stable code and a human sentence each, the
// same whether the CLI, the JSON API or a portal page asked.

/** Why the key center refused a request. */
export type KeyCenterErrorCode =
  | 'BAD_REQUEST'
  | 'ALREADY_INITIALIZED'
  | 'NOT_INITIALIZED'
  | 'STORE_UNUSABLE'
  | 'AUTH_CODE_MALFORMED'
  | 'AUTH_CODE_TYPO'
  | 'UNKNOWN_AUTH_CODE'
  | 'LOCK_CODE_MALFORMED'
  | 'LOCK_CODE_TYPO'
  | 'LOCK_CODE_COUNT'
  | 'DUPLICATE_LOCK_CODE'
  | 'ALREADY_ACTIVATED'
  | 'SEATS_EXHAUSTED'
  | 'ENTITLEMENT_EXPIRED'
  | 'LICENSE_NOT_FOUND'
  | 'ALREADY_SUPERSEDED'
  | 'HOST_NOT_COMPATIBLE'
  | 'RENEWAL_NOT_STARTED'
  | 'REHOSTS_EXHAUSTED'
  | 'NOT_FOUND'
  | 'ACCOUNT_EXISTS'
  | 'ORDER_EXISTS'
  | 'MEMBER_EXISTS'
  | 'STAFF_EXISTS'
  | 'JOIN_REQUEST_DECIDED'
  | 'INVALID_CREDENTIALS'
  | 'PASSWORD_WRONG'
  | 'PASSWORD_TOO_WEAK'
  | 'TOKEN_INVALID'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'CSRF_TOKEN_INVALID'
  | 'ACCOUNT_NOT_CHOSEN'
  | 'CONFIG_INVALID'
  | 'REQUEST_MALFORMED'
  | 'REQUEST_SIGNATURE_INVALID'
  | 'REQUEST_LOCK_CODE_UNBOUND';

/** A refused key-center request; nothing was written. */
export class KeyCenterError extends Error {
  override readonly name = 'KeyCenterError';
  constructor(
    readonly code: KeyCenterErrorCode,
    message: string,
    /** The input the refusal is about ("lockCodes.1", "password"), so a form shows it on that field. */
    readonly field?: string,
    /** RATE_LIMITED: seconds until a retry may succeed. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}
