// Reading a portal form: its text fields as strings (files and repeats
// ignored), each bounded, so a hostile body costs nothing downstream.
import type { Context } from 'hono';
import { KeyCenterError } from '../../key-center-error.ts';
import type { KcEnv } from '../server-env.ts';
import type { FieldErrors } from './page.tsx';

/** Longest form field read, characters (a comment is at most 500). */
const FIELD_CHARS_MAX = 2000;

/** The form's text fields. */
export async function formOf(c: Context<KcEnv>): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) if (typeof value === 'string') out[name] = value.slice(0, FIELD_CHARS_MAX);
  return out;
}

/** A whole number typed in a form, or undefined when blank or not one. */
export function formInteger(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d{1,9}\s*$/.test(value)) return undefined;
  return Number(value);
}

/** A local path to go back to after sign-in ("/codes"), never another site. */
export function localPath(value: string | undefined): string | undefined {
  return value !== undefined && /^\/(?![/\\])[\x21-\x7e]*$/.test(value) && value.length <= 200 ? value : undefined;
}

/** A KeyCenterError about a field, as the form's errors; anything else is rethrown. */
export function fieldErrorsOf(error: unknown, fallbackField: string): FieldErrors {
  if (!(error instanceof KeyCenterError) || error.code === 'CSRF_TOKEN_INVALID' || error.code === 'NOT_FOUND') throw error;
  return { [error.field ?? fallbackField]: error.message };
}
