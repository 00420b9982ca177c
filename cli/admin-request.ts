// Calls of a node's admin API for the `floe` commands that talk to a running
// node: bearer token, JSON, a bounded wait, and every failure turned into a
// CliError with a stable code: the API's `{"error":{"code","message"}}`, or
// UNAVAILABLE when no answer came (refused connection, timeout, not JSON).
import type { AdminConnection } from './admin-connection.ts';
import { CliError } from './cli-error.ts';

/** `ms` an admin call waits for its answer unless told otherwise. */
export const ADMIN_REQUEST_MS_DEFAULT = 10_000;

/** Options of one admin call. */
export interface AdminCallOptions {
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Query parameters; undefined values are left out. */
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** `ms` to wait for the answer (the headers, for adminFetch). */
  readonly timeoutMs?: number;
}

function urlOf(connection: AdminConnection, path: string, query: AdminCallOptions['query']): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
  const q = params.toString();
  return `${connection.baseUrl}/api/v1${path}${q === '' ? '' : `?${q}`}`;
}

async function errorOf(res: Response): Promise<CliError> {
  let parsed: { error?: { code?: unknown; message?: unknown } } | undefined;
  try {
    parsed = (await res.json()) as typeof parsed;
  } catch {
    parsed = undefined;
  }
  const e = parsed?.error;
  if (e !== undefined && typeof e.code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(e.code)) {
    return new CliError(e.code, typeof e.message === 'string' ? e.message : `HTTP ${res.status}`);
  }
  return new CliError('UNAVAILABLE', `the admin API answered HTTP ${res.status} without an error code (is ${new URL(res.url).origin} a Floe admin URL?)`);
}

/**
 * Sends `method path` (under /api/v1) and answers the raw Response once its
 * headers arrived with a 2xx status (streamed bodies: floe backup).
 * Throws CliError otherwise.
 */
export async function adminFetch(
  connection: AdminConnection,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: AdminCallOptions = {},
): Promise<Response> {
  const timeoutMs = options.timeoutMs ?? ADMIN_REQUEST_MS_DEFAULT;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let res: Response;
  try {
    res = await fetch(urlOf(connection, path, options.query), {
      method,
      headers: {
        authorization: `Bearer ${connection.token}`,
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      signal: controller.signal,
    });
  } catch (error) {
    const why = controller.signal.aborted ? `no answer within ${timeoutMs} ms` : ((error as { cause?: { code?: string; message?: string } }).cause?.message ?? (error as Error).message);
    throw new CliError('UNAVAILABLE', `cannot reach the admin API at ${connection.baseUrl}: ${why}`);
  } finally {
    clearTimeout(timer);
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

/** Sends `method path` and answers its JSON body; throws CliError on any failure. */
export async function adminRequest(
  connection: AdminConnection,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: AdminCallOptions = {},
): Promise<unknown> {
  const timeoutMs = options.timeoutMs ?? ADMIN_REQUEST_MS_DEFAULT;
  const res = await adminFetch(connection, method, path, options);
  try {
    return await Promise.race([
      res.json(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`the body did not arrive within ${timeoutMs} ms`)), timeoutMs).unref()),
    ]);
  } catch (error) {
    throw new CliError('UNAVAILABLE', `the admin API at ${connection.baseUrl} sent an unreadable answer: ${(error as Error).message}`);
  }
}
