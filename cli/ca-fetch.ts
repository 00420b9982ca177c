// A fetch that trusts exactly the CA certificates it is given, for the
// `floe` commands' `--ca FILE` (and the cluster tests' admin reads): Node
// 20's global fetch has no option for a CA, and NODE_EXTRA_CA_CERTS is read
// only when the process starts. This sends the request with node:https
// (which takes `ca`) and answers a standard Response, body streamed, so Hono's
// typed client (hc) and a streamed `floe backup` work as over fetch.
// The undici package would do the same through a dispatcher, but as a second
// copy of what Node bundles, pinned to match it; these 60 lines need nothing.
import { request } from 'node:https';
import { Readable } from 'node:stream';

/** HTTP statuses whose answer has no body (the Response constructor refuses one). */
const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 204, 205, 304]);

/**
 * A fetch over which `https://` servers must present a certificate chaining
 * to `ca` (PEM text, one or more certificates): only those are trusted, the
 * CA is pinned. `http://` URLs go to the global fetch unchanged. Failures
 * reject as fetch's do: a TypeError whose `cause` is the socket or TLS error
 * (its `code`, e.g. SELF_SIGNED_CERT_IN_CHAIN, says why).
 */
export function fetchTrustingCa(ca: string): typeof fetch {
  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    if (url.protocol !== 'https:') return fetch(req);
    const body = req.body === null ? undefined : Buffer.from(await req.arrayBuffer());
    return new Promise<Response>((resolve, reject) => {
      const outgoing = request(url, { method: req.method, headers: Object.fromEntries(req.headers), ca, signal: req.signal, minVersion: 'TLSv1.2' }, (res) => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value === undefined) continue;
          for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
        }
        const status = res.statusCode ?? 502;
        const hasBody = !NULL_BODY_STATUSES.has(status) && req.method !== 'HEAD';
        if (!hasBody) res.resume();
        const response = new Response(hasBody ? (Readable.toWeb(res) as ReadableStream<Uint8Array>) : null, { status, statusText: res.statusMessage ?? '', headers });
        // A constructed Response has url ""; callers name the server from it, as with fetch.
        Object.defineProperty(response, 'url', { value: url.href });
        resolve(response);
      });
      outgoing.on('error', (error) => reject(req.signal.aborted ? error : new TypeError('fetch failed', { cause: error })));
      outgoing.end(body);
    });
  };
}
