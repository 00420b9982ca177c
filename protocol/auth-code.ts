// Authorization codes as text. The key center issues them (keycenter/
// auth-code.ts); a license server reads one someone typed with the same
// parser before it writes an offline activation request, so a typo is caught
// where it was typed rather than after the file travelled to the vendor.
import { parseFriendlyCode, type FriendlyCodeParse } from './friendly-code.ts';

/** Symbols in an authorization code, check character included (four groups, so it is never taken for a lock code). */
export const AUTH_CODE_CHARS = 20;

/** Reads an authorization code someone typed: canonical text, MALFORMED or TYPO. Never throws. */
export function parseAuthCode(input: unknown): FriendlyCodeParse {
  return parseFriendlyCode(input, AUTH_CODE_CHARS, 'authorization code');
}
