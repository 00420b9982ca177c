// The admin API's typed client for the `floe` commands: Hono's hc over the
// admin app's own route types (admin/admin-app.ts chains its routes for
// this), so a renamed route, a changed query or answer is a type error here
// rather than a 404 at a customer's site. call() turns every failure into a
// CliError with a stable code: the API's `{"error":{"code","message"}}`, or
// UNAVAILABLE when no answer came (refused connection, timeout, not JSON),
// TLS_CERT_UNTRUSTED (and the fix) when an https:// node's certificate does
// not verify.
import { hc } from 'hono/client';
import type { AdminApp } from '../admin/index.ts';
import { UNTRUSTED_CHAIN_CODES } from '../protocol/certificate-errors.ts';
import type { AdminConnection } from './admin-connection.ts';
import { fetchTrustingCa } from './ca-fetch.ts';
import { CliError } from './cli-error.ts';

/**
 * The CliError for a TLS verification failure `cause` on `connection`,
 * naming the fix; undefined when `cause` is no such failure.
 */
export function certificateRefusal(connection: AdminConnection, cause: { code?: unknown; message?: unknown } | undefined): CliError | undefined {
  const code = typeof cause?.code === 'string' ? cause.code : '';
  const why = typeof cause?.message === 'string' ? cause.message : code;
  const at = `the admin API at ${connection.baseUrl}`;
  if (UNTRUSTED_CHAIN_CODES.has(code)) {
    const fix =
      connection.caFile === undefined
        ? 'give the site CA with --ca FILE or FLOE_CA=FILE (ca.crt of floe tls init, e.g. --ca /etc/floe/tls/ca.crt)'
        : `its certificate is not signed by the CA in ${connection.caFile}: give the CA that issued the node certificates`;
    return new CliError('TLS_CERT_UNTRUSTED', `${at} presented a certificate this command does not trust (${why}): ${fix}`);
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new CliError('TLS_CERT_UNTRUSTED', `${at}: ${why}; use a host name or address the node's certificate names, or issue it one (floe tls issue --dns NAME --ip ADDRESS)`);
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return new CliError('TLS_CERT_UNTRUSTED', `${at}: ${why}; renew the node's certificate (floe tls issue) and reload it (systemctl reload floe)`);
  }
  return undefined;
}

/** `ms` an admin call waits for its answer's headers unless told otherwise. */
export const ADMIN_REQUEST_MS_DEFAULT = 10_000;

/** The typed client of /api/v1 on `connection`; each call waits `timeoutMs` for its answer's headers. */
export function adminClient(connection: AdminConnection, timeoutMs = ADMIN_REQUEST_MS_DEFAULT) {
  const baseFetch = connection.ca === undefined ? fetch : fetchTrustingCa(connection.ca);
  const timedFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      return await baseFetch(input, { ...init, signal: controller.signal });
    } catch (error) {
      const cause = (error as { cause?: { code?: unknown; message?: string } }).cause;
      if (!controller.signal.aborted) {
        const refusal = certificateRefusal(connection, cause);
        if (refusal !== undefined) throw refusal;
      }
      const why = controller.signal.aborted ? `no answer within ${timeoutMs} ms` : (cause?.message ?? (error as Error).message);
      throw new CliError('UNAVAILABLE', `cannot reach the admin API at ${connection.baseUrl}: ${why}`);
    } finally {
      // The headers arrived (or never will): a streamed body (floe backup) may take its time.
      clearTimeout(timer);
    }
  };
  return hc<AdminApp>(connection.baseUrl, { headers: { authorization: `Bearer ${connection.token}` }, fetch: timedFetch }).api.v1;
}

/** A response of the typed client. */
interface AnyResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly url: string;
  json(): Promise<unknown>;
}

/** The body type of the 2xx answers of a typed call. */
export type OkBody<R> = R extends { ok: true; json(): Promise<infer T> } ? T : never;

/** The API's refusal in `res`, or UNAVAILABLE when it carries no error code. */
export async function refusalOf(res: AnyResponse): Promise<CliError> {
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

/** `ms` a call keeps sending again while the cluster answers 503 UNAVAILABLE (an election, a leader change), at most. */
export const UNAVAILABLE_RETRY_MS_MAX = 10_000;
/** `ms` before the first retry; it doubles up to UNAVAILABLE_RETRY_DELAY_MS_MAX. */
const UNAVAILABLE_RETRY_DELAY_MS_FIRST = 100;
const UNAVAILABLE_RETRY_DELAY_MS_MAX = 1000;

/**
 * Sends a typed call and answers its 2xx JSON body; throws CliError
 * otherwise. While the node answers 503 UNAVAILABLE (no leader for a moment:
 * an election, a leader change), the call is sent again for up to
 * `retryMs` (default UNAVAILABLE_RETRY_MS_MAX); a refusal after that carries
 * `afterRetry`. A node that cannot be reached is not retried.
 */
export async function call<R extends AnyResponse>(send: () => Promise<R>, options: { retryMs?: number } = {}): Promise<OkBody<R>> {
  const res = await accepted(send, options);
  try {
    return (await res.json()) as OkBody<R>;
  } catch (error) {
    throw new CliError('UNAVAILABLE', `the admin API sent an unreadable answer: ${(error as Error).message}`);
  }
}

/** call() without reading the body: the 2xx response itself (a streamed body: floe backup). */
export async function accepted<R extends AnyResponse>(send: () => Promise<R>, options: { retryMs?: number } = {}): Promise<R> {
  const giveUpAt = Date.now() + (options.retryMs ?? UNAVAILABLE_RETRY_MS_MAX);
  let delayMs = UNAVAILABLE_RETRY_DELAY_MS_FIRST;
  let retried = false;
  for (;;) {
    const res = await send();
    if (res.ok) return res;
    const refusal = await refusalOf(res);
    if (res.status === 503 && refusal.code === 'UNAVAILABLE' && Date.now() + delayMs < giveUpAt) {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, UNAVAILABLE_RETRY_DELAY_MS_MAX);
      retried = true;
      continue;
    }
    refusal.afterRetry = retried;
    throw refusal;
  }
}

/** The data of a read answered without ?stale=true (the stale envelope is only sent when asked for). */
export function fresh<T>(answer: T | { stale: true; data: T }): T {
  return typeof answer === 'object' && answer !== null && !Array.isArray(answer) && (answer as { stale?: unknown }).stale === true ? (answer as { data: T }).data : (answer as T);
}
