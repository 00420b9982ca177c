// Ids of the key center's records: a short kind prefix and random Crockford
// symbols ("ORD-7G2KQ-M3XZ0"), readable in URLs and over the phone, and
// unguessable, so an id seen in one account says nothing about another's.
import { randomBytes } from 'node:crypto';
import { bytesToCrockford, formatFriendlyCode } from '../protocol/index.ts';

/** The kinds of record that get a generated id. */
export type IdKind = 'ORD' | 'LN' | 'AL' | 'USR' | 'JR' | 'ML';

/** A fresh id: `KIND-` and two friendly groups (45 random bits and a check character). */
export function newId(kind: IdKind): string {
  return `${kind}-${formatFriendlyCode(bytesToCrockford(randomBytes(6), 9))}`;
}

/** A fresh secret for a link or a cookie: 32 random bytes, base64url. */
export function newSecretToken(): string {
  return randomBytes(32).toString('base64url');
}
