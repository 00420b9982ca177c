// A borrowed seat as the application keeps it: the token the cluster signed
// and the public key that verifies it, plus what the token says, so an
// application can store one JSON object (to a file of its choosing) and check
// it at its next start with no network (checkBorrowedSeat).
import { verifyBorrowToken, type BorrowTokenErrorCode, type BorrowTokenPayload } from '../protocol/borrow-token.ts';
import { machineFingerprint } from './machine-fingerprint.ts';

/** What client.borrow() resolves with. JSON-serialisable: store it as it is. */
export interface BorrowedSeat {
  readonly leaseId: string;
  readonly feature: string;
  readonly version: string;
  readonly count: number;
  /** `ms` since the epoch (the cluster's clock) the borrow began. */
  readonly borrowedAt: number;
  /** `ms` since the epoch (the cluster's clock) the seat is the application's until. */
  readonly expiresAt: number;
  /** The machine fingerprint the borrow is bound to. */
  readonly fingerprint: string;
  /** The borrow token (protocol/borrow-token.ts). */
  readonly token: string;
  /** The cluster's borrow public key (base64url) that signed it. */
  readonly publicKey: string;
}

/** Options of checkBorrowedSeat. */
export interface CheckBorrowOptions {
  /**
   * The cluster's borrow public key the application trusts (base64url). Pin
   * it (ship it, or keep the one of the first borrow apart from the token
   * file): a token checked only against the key stored beside it proves no
   * more than that the file is whole.
   */
  readonly publicKey?: string;
  /** This machine's fingerprint; default machineFingerprint(). */
  readonly fingerprint?: string;
  /** `ms` since the epoch; default Date.now(). */
  readonly nowMs?: number;
}

/** The verdict of checkBorrowedSeat. */
export type BorrowCheck = { readonly ok: true; readonly payload: BorrowTokenPayload } | { readonly ok: false; readonly code: BorrowTokenErrorCode; readonly message: string };

/**
 * Checks a stored borrow with no network: the token's signature by the
 * trusted key (default: the key stored with it), that it was borrowed on
 * this machine, and that it has not ended. Never throws on its input.
 */
export function checkBorrowedSeat(seat: Pick<BorrowedSeat, 'token' | 'publicKey'> | string, options: CheckBorrowOptions = {}): BorrowCheck {
  const token = typeof seat === 'string' ? seat : seat.token;
  const publicKey = options.publicKey ?? (typeof seat === 'string' ? undefined : seat.publicKey);
  if (publicKey === undefined) return { ok: false, code: 'BORROW_TOKEN_SIGNATURE_INVALID', message: 'No public key to check the token with: pass the cluster borrow key.' };
  const verdict = verifyBorrowToken(token, { publicKey, nowMs: options.nowMs ?? Date.now(), fingerprint: options.fingerprint ?? machineFingerprint() });
  return verdict.ok ? { ok: true, payload: verdict.payload } : { ok: false, code: verdict.code, message: verdict.message };
}
