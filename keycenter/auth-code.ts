// Authorization codes: what a vendor hands a customer for one entitlement.
// The same friendly format as lock codes (Crockford base32, groups of five,
// check character), but four groups long so the two are never confused.
import nacl from 'tweetnacl';
import { AUTH_CODE_CHARS, bytesToCrockford, formatFriendlyCode } from '../protocol/index.ts';

export { AUTH_CODE_CHARS, parseAuthCode } from '../protocol/index.ts';

/** A fresh random authorization code (95 random bits). */
export function newAuthCode(): string {
  return formatFriendlyCode(bytesToCrockford(nacl.randomBytes(12), AUTH_CODE_CHARS - 1));
}

/** A fresh license id: "LIC-" and three friendly groups (70 random bits). */
export function newLicenseId(): string {
  return `LIC-${formatFriendlyCode(bytesToCrockford(nacl.randomBytes(9), 14))}`;
}
