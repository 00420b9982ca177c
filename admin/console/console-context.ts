// What a console page handler starts from: the signed-in caller, their CSRF
// token, the typed API client, the page's reads (and how fresh they are),
// and the fields of a posted form after its CSRF check.
import type { Context } from 'hono';
import { AdminError } from '../errors.ts';
import type { ConsoleDeps, ConsoleEnv } from './console-env.ts';
import { PageReads } from './console-read.ts';
import { CSRF_FIELD, csrfMatches } from './console-sessions.ts';
import { readForm } from './read-form.ts';

/** The page context of a signed-in request: who, their CSRF token, and the page's reads. */
export function pageOf(c: Context<ConsoleEnv>, deps: ConsoleDeps) {
  return {
    api: c.var.api,
    principal: c.var.principal,
    csrf: c.var.session.csrf,
    reads: new PageReads(() => {
      const s = deps.node.status();
      return { nodeId: s.nodeId, role: s.role };
    }),
  };
}

/** A form's fields, after checking its CSRF token (403 CSRF_TOKEN_INVALID). */
export async function formOf(c: Context<ConsoleEnv>): Promise<Record<string, string | File>> {
  const body = await readForm(c);
  const sent = body[CSRF_FIELD];
  if (typeof sent !== 'string' || !csrfMatches(c.var.session, sent)) {
    throw new AdminError(403, 'CSRF_TOKEN_INVALID', 'this form has expired or did not come from this console; reload the page and send it again');
  }
  return body;
}

