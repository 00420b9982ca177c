// Why a server could not be reached, in words a person can act on. A
// connect() that runs out of attempts answers SERVERS_UNREACHABLE; its
// message carries the last dial's reason, and when that was the server's TLS
// certificate — untrusted (no site CA given), naming another host, expired —
// it says so and names the fix, instead of leaving a wss:// user guessing
// between a dead server and a missing `ca`.
import { UNTRUSTED_CHAIN_CODES } from '../protocol/certificate-errors.ts';

/** The innermost error with a string `code` in `err`'s cause chain (at most 8 deep). */
function rootCause(err: unknown): { code: string; message: string } | undefined {
  let e: unknown = err;
  let found: { code: string; message: string } | undefined;
  for (let depth = 0; depth < 8 && typeof e === 'object' && e !== null; depth++) {
    const { code, message, cause } = e as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string') found = { code, message: typeof message === 'string' ? message : code };
    e = cause;
  }
  return found;
}

/** What to do about a dial that failed on the server's certificate with `code`; undefined for any other failure. */
function certificateFix(code: string): string | undefined {
  if (UNTRUSTED_CHAIN_CODES.has(code)) return "the server's certificate is not signed by a CA this client trusts; give the site CA (ca.crt of floe tls init) as ca or caFile";
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return "the server's certificate does not name this host; connect by a name or address it names";
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return "the server's certificate is outside its validity dates; renew it (floe tls issue)";
  return undefined;
}

/**
 * Whether a dial failed on the server's TLS certificate (untrusted, naming
 * another host, out of its dates): a fault of configuration, which retrying
 * the same server does not mend.
 */
export function isCertificateFailure(err: unknown): boolean {
  const root = rootCause(err);
  return root !== undefined && certificateFix(root.code) !== undefined;
}

/**
 * One sentence on the last failed dial `err` (a FloeError UNAVAILABLE whose
 * message names the URL, its cause Node's error): the TLS certificate
 * problem and its fix when it was one, else the error's own message.
 */
export function describeDialFailure(err: unknown): string {
  const text = err instanceof Error ? err.message.replace(/^UNAVAILABLE: /, '') : String(err);
  const root = rootCause(err);
  const fix = root === undefined ? undefined : certificateFix(root.code);
  return fix === undefined ? text : `${text}: TLS: ${fix}`;
}
