// Checks of free-form input shared by every rule: bounded single-line text and
// bounded whole numbers. Each refusal is BAD_REQUEST naming the field.
import { KeyCenterError } from './key-center-error.ts';

/** A BAD_REQUEST refusal, optionally about one field. */
export function bad(message: string, field?: string): KeyCenterError {
  return new KeyCenterError('BAD_REQUEST', message, field);
}

/** Optional one-line text of at most `charsMax` characters; "" and undefined are null. */
export function optionalText(value: string | undefined | null, what: string, charsMax: number, field?: string): string | null {
  if (value === undefined || value === null) return null;
  const trimmed = value.trim();
  // eslint-disable-next-line no-control-regex
  if (trimmed.length > charsMax || /[\u0000-\u001f\u007f]/.test(trimmed)) {
    throw bad(`the ${what} must be at most ${charsMax} characters on one line`, field);
  }
  return trimmed === '' ? null : trimmed;
}

/** Required one-line text of 1 to `charsMax` characters. */
export function requiredText(value: string | undefined | null, what: string, charsMax: number, field?: string): string {
  const text = optionalText(value, what, charsMax, field);
  if (text === null) throw bad(`the ${what} is required`, field);
  return text;
}

/** A whole number from `min` to `max`. */
export function integerIn(value: number, min: number, max: number, what: string, field?: string): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) throw bad(`${what} must be a whole number from ${min} to ${max}`, field);
  return value;
}

/** Longest e-mail address, characters (RFC 5321's path limit). */
export const EMAIL_CHARS_MAX = 254;

/** A lower-cased e-mail address; BAD_REQUEST when it does not look like one. */
export function emailAddress(value: string | undefined | null, field = 'email'): string {
  const text = requiredText(value, 'e-mail address', EMAIL_CHARS_MAX, field).toLowerCase();
  if (!/^[^\s@<>",;]+@[^\s@<>",;]+\.[^\s@<>",;]+$/.test(text)) throw bad(`"${text.slice(0, 80)}" is not an e-mail address`, field);
  return text;
}
