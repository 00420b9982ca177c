// One call to a node's admin API for the CLI commands that talk to a running
// node (`floe status`, `floe cluster`): bearer token, JSON, a bounded wait,
// and the API's `{"error":{"code","message"}}` turned into an Error with `.code`.

/** An admin API refusal, or UNAVAILABLE when the answer carried no error body. */
export type AdminRequestError = Error & { code: string };

/**
 * Sends `method path` (under `/api/v1`) to the admin API at `base` and answers
 * its JSON body; throws an AdminRequestError on any non-2xx status.
 * `timeoutMs`: how long to wait for the answer.
 */
export async function adminRequest(
  base: string,
  token: string,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  options: { body?: unknown; timeoutMs: number },
): Promise<unknown> {
  const res = await fetch(`${base.replace(/\/+$/, '')}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    signal: AbortSignal.timeout(options.timeoutMs),
  });
  const parsed = (await res.json()) as { error?: { code: string; message: string } };
  if (!res.ok) {
    const e = parsed.error ?? { code: 'UNAVAILABLE', message: `HTTP ${res.status}` };
    throw Object.assign(new Error(e.message), { code: e.code }) as AdminRequestError;
  }
  return parsed;
}

/**
 * Writes a failed admin call to stderr as `CODE: message` (the API's code, or
 * UNAVAILABLE for a network error or timeout) and answers the exit status, 1.
 */
export function reportAdminFailure(error: unknown): number {
  const e = error as { code?: unknown; message?: string };
  const code = typeof e.code === 'string' && /^[A-Z_]+$/.test(e.code) ? e.code : 'UNAVAILABLE';
  process.stderr.write(`${code}: ${e.message ?? String(error)}\n`);
  return 1;
}
