// The secret that owns a client session. A hello that opens a session
// answers a fresh random secret; resuming the session needs it, so knowing a
// sessionId and a clientId (both visible to admins and in logs) is not
// enough to take a session and its leases over. Sessions are replicated
// state: the log and snapshots carry only the secret's SHA-256, so any node
// can check a resume and no copy of the data dir reveals a secret.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { encodeBase64url } from '../../protocol/index.ts';

/** Random bytes in a session secret (256 bits). */
export const SESSION_SECRET_BYTES = 32;

/** A new session's secret, told to its client once, and the hash the log keeps. */
export interface SessionSecret {
  /** base64url of SESSION_SECRET_BYTES random bytes. */
  readonly secret: string;
  /** base64url SHA-256 of `secret`. */
  readonly sha256: string;
}

/** A fresh secret (crypto.randomBytes) with its hash. */
export function newSessionSecret(): SessionSecret {
  const secret = encodeBase64url(randomBytes(SESSION_SECRET_BYTES));
  return { secret, sha256: sessionSecretSha256(secret) };
}

/** base64url SHA-256 of a session secret as the client sends it. */
export function sessionSecretSha256(secret: string): string {
  return encodeBase64url(createHash('sha256').update(secret, 'utf8').digest());
}

/**
 * True when `secret` is the one whose hash the session keeps. False when
 * either is missing ('' : a session opened without a secret cannot be
 * resumed). Compares the hashes in constant time.
 */
export function sessionSecretMatches(secret: string | undefined, sha256: string): boolean {
  if (secret === undefined || sha256 === '') return false;
  const given = Buffer.from(sessionSecretSha256(secret));
  const kept = Buffer.from(sha256);
  return given.length === kept.length && timingSafeEqual(given, kept);
}
