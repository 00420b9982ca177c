// A console form's fields. Hono's parseBody throws on a body that does not
// parse as its content type says (a multipart body without its parts, a
// cut-off upload): that is the sender's fault, so it answers 400
// FORM_INVALID instead of the 500 an uncaught throw would give.
import type { Context } from 'hono';
import { AdminError } from '../errors.ts';

/** The posted form's fields; 400 FORM_INVALID when the body cannot be read as a form. */
export async function readForm(c: Context): Promise<Record<string, string | File>> {
  try {
    return (await c.req.parseBody()) as Record<string, string | File>;
  } catch {
    throw new AdminError(400, 'FORM_INVALID', 'the form could not be read; reload the page and send it again');
  }
}
