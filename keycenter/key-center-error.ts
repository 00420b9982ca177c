// The key center's refusals: one stable code and a human sentence each.

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
  | 'ENTITLEMENT_EXPIRED';

/** A refused key-center request; nothing was written. */
export class KeyCenterError extends Error {
  override readonly name = 'KeyCenterError';
  constructor(
    readonly code: KeyCenterErrorCode,
    message: string,
  ) {
    super(message);
  }
}
