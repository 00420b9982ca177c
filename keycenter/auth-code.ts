// Authorization codes: what a vendor hands a customer for one entitlement.
// The same friendly format as lock codes (Crockford base32, groups of five,
// check character), but four groups long so the two are never confused.
import nacl from 'tweetnacl';
import { bytesToCrockford, formatFriendlyCode, parseFriendlyCode, type FriendlyCodeParse } from '../protocol/index.ts';

/** Symbols in an authorization code, check character included. */
export const AUTH_CODE_CHARS = 20;

/** A fresh random authorization code (95 random bits). */
export function newAuthCode(): string {
  return formatFriendlyCode(bytesToCrockford(nacl.randomBytes(12), AUTH_CODE_CHARS - 1));
}

/** Reads an authorization code someone typed: canonical text, MALFORMED or TYPO. Never throws. */
export function parseAuthCode(input: unknown): FriendlyCodeParse {
  return parseFriendlyCode(input, AUTH_CODE_CHARS, 'authorization code');
}

/** A fresh license id: "LIC-" and three friendly groups (70 random bits). */
export function newLicenseId(): string {
  return `LIC-${formatFriendlyCode(bytesToCrockford(nacl.randomBytes(9), 14))}`;
}
