// Codes that people read aloud, type and paste: lock codes, authorization
// codes. Crockford base32 (digits and letters without I, L, O, U), upper case,
// in dash-separated groups of five, ending in one check character.
//
// The check character is a weighted sum over GF(32): symbol i (counting from
// the left, at most CHECKED_CHARS_MAX of them) is multiplied by α^(i+1) for a
// primitive α. Every weight is distinct and none is 1 (the check character's
// own weight), so the check catches every single mistyped character and every
// swap of two characters, adjacent or not. A mistyped code is therefore
// refused as a typo, never taken for another valid code.
//
// Reading is forgiving where it cannot be wrong: case, spaces and dashes are
// ignored, and I/L read as 1, O as 0, as Crockford's decoding prescribes.

/** The 32 symbols, in value order. */
export const CROCKFORD_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Characters per dash-separated group. */
export const FRIENDLY_GROUP_CHARS = 5;

/** Most data characters a check character protects with full strength. */
export const CHECKED_CHARS_MAX = 30;

/** Longest input (with dashes and spaces) a parser even looks at. */
export const FRIENDLY_INPUT_CHARS_MAX = 256;

/** GF(32) multiplication modulo the primitive polynomial x^5 + x^2 + 1. */
function gfMul(a: number, b: number): number {
  let product = 0;
  for (let i = 0; i < 5; i++) {
    if ((b >> i) & 1) product ^= a;
    a <<= 1;
    if (a & 32) a ^= 0b100101;
  }
  return product;
}

/** α^1 … α^CHECKED_CHARS_MAX with α = x (order 31, so all distinct and ≠ 1). */
const WEIGHTS: number[] = (() => {
  const weights: number[] = [];
  let w = 1;
  for (let i = 0; i < CHECKED_CHARS_MAX; i++) {
    w = gfMul(w, 2);
    weights.push(w);
  }
  return weights;
})();

function valueOf(ch: string): number {
  return ch.length === 1 ? CROCKFORD_ALPHABET.indexOf(ch) : -1;
}

/** The check character of `data` (canonical symbols, no dashes). */
export function checkCharacter(data: string): string {
  if (data.length > CHECKED_CHARS_MAX) throw new Error(`assert: friendly code data longer than ${CHECKED_CHARS_MAX}`);
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    const v = valueOf(data[i]!);
    if (v < 0) throw new Error(`assert: "${data[i]}" is not a Crockford symbol`);
    sum ^= gfMul(v, WEIGHTS[i]!);
  }
  return CROCKFORD_ALPHABET[sum]!;
}

/** Crockford base32 of the leading `chars * 5` bits of `bytes`. */
export function bytesToCrockford(bytes: Uint8Array, chars: number): string {
  if (chars * 5 > bytes.length * 8) throw new Error('assert: not enough bytes for the requested characters');
  let out = '';
  for (let c = 0; c < chars; c++) {
    let v = 0;
    for (let b = 0; b < 5; b++) {
      const bit = c * 5 + b;
      v = (v << 1) | ((bytes[bit >> 3]! >> (7 - (bit & 7))) & 1);
    }
    out += CROCKFORD_ALPHABET[v]!;
  }
  return out;
}

/** Groups `symbols` as XXXXX-XXXXX-…. */
function group(symbols: string): string {
  const groups: string[] = [];
  for (let i = 0; i < symbols.length; i += FRIENDLY_GROUP_CHARS) groups.push(symbols.slice(i, i + FRIENDLY_GROUP_CHARS));
  return groups.join('-');
}

/** The canonical, grouped text of `data` followed by its check character. */
export function formatFriendlyCode(data: string): string {
  return group(data + checkCharacter(data));
}

/** What parseFriendlyCode() found. */
export type FriendlyCodeParse =
  | { ok: true; code: string }
  | { ok: false; problem: 'MALFORMED' | 'TYPO'; message: string };

/**
 * Reads a code someone typed or pasted. `totalChars`: the number of symbols
 * (data and check) a code of this kind has, or the numbers when it comes in
 * several lengths. Answers the canonical grouped text, or MALFORMED (not
 * shaped like such a code) or TYPO (shaped right but the check character
 * disagrees: a character mistyped or two swapped). Never throws.
 */
export function parseFriendlyCode(input: unknown, totalChars: number | readonly number[], kind: string): FriendlyCodeParse {
  if (typeof input !== 'string') return { ok: false, problem: 'MALFORMED', message: `the ${kind} is not text` };
  if (input.length > FRIENDLY_INPUT_CHARS_MAX) {
    return { ok: false, problem: 'MALFORMED', message: `the ${kind} is far too long (${input.length} characters)` };
  }
  let symbols = '';
  for (const raw of input) {
    if (raw === '-' || raw === ' ' || raw === '\t') continue;
    // ASCII only: toUpperCase() would turn some other letters into ASCII ones.
    let ch = raw.length === 1 && raw.charCodeAt(0) < 128 ? raw.toUpperCase() : '?';
    if (ch === 'I' || ch === 'L') ch = '1';
    else if (ch === 'O') ch = '0';
    if (valueOf(ch) < 0) {
      return { ok: false, problem: 'MALFORMED', message: `the ${kind} contains "${raw}", which is not a code character` };
    }
    symbols += ch;
  }
  const lengths: readonly number[] = typeof totalChars === 'number' ? [totalChars] : totalChars;
  if (!lengths.includes(symbols.length)) {
    return {
      ok: false,
      problem: 'MALFORMED',
      message: `the ${kind} has ${symbols.length} characters; a ${kind} has ${lengths.join(' or ')}`,
    };
  }
  const data = symbols.slice(0, -1);
  if (checkCharacter(data) !== symbols.slice(-1)) {
    return {
      ok: false,
      problem: 'TYPO',
      message: `the ${kind} "${input.trim()}" fails its check character: a character is mistyped or two are swapped`,
    };
  }
  return { ok: true, code: group(symbols) };
}
