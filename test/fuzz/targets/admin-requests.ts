// Fuzz target: requests to the admin API, through app.request() over a real
// single-node FloeNode. Each route gets hostile bodies (any JSON, deep
// nesting, huge numbers, random bytes, its valid body with one field
// changed), hostile path segments and query strings, and odd content types
// and tokens. Every answer must be JSON: a 2xx, or an error with an
// UPPER_CASE code; a 500 (something threw) fails the property.
//
// The membership routes' effect is not under test (a valid body would add a
// voter that never exists and stall the node), so addMember and
// removeMember are stubbed; their bodies and parameters are still parsed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import nacl from 'tweetnacl';
import { createAdminApp, hashToken } from '../../../admin/index.ts';
import { parseConfig } from '../../../daemon/config.ts';
import { FloeNode } from '../../../daemon/node/index.ts';
import { formatVendorPublicKey } from '../../../protocol/index.ts';
import type { FuzzTarget } from '../fuzz-target.ts';
import { hostileJsonText, isErrorCode, randomText, TRICKY_STRINGS, withOneFieldMutated, HUGE_NUMBER_TEXTS } from '../hostile-values.ts';

const TOKEN = 'fuzz-admin-token';
/** Bytes of a request body the app accepts (the config's adminBodyBytesMax in the test node). */
const BODY_BYTES_MAX = 32 * 1024;

/** A route, its valid body (if it takes one) and the query parameters it reads. */
interface Route {
  readonly method: string;
  /** With `:param` where a path segment goes. */
  readonly path: string;
  readonly body?: object;
  readonly query?: readonly string[];
}

const ROUTES: readonly Route[] = [
  { method: 'GET', path: '/health' },
  { method: 'GET', path: '/openapi.json' },
  { method: 'GET', path: '/cluster' },
  { method: 'POST', path: '/cluster/members', body: { id: 'n4', peerUrl: 'ws://127.0.0.1:7604/raft', clientUrl: 'ws://127.0.0.1:7404/ws', publicKey: 'A'.repeat(43) } },
  { method: 'DELETE', path: '/cluster/members/:param' },
  { method: 'POST', path: '/licenses', body: { key: 'FLOE1.e30.AAAA' } },
  { method: 'GET', path: '/licenses', query: ['stale'] },
  { method: 'DELETE', path: '/licenses/:param' },
  { method: 'GET', path: '/pools', query: ['stale'] },
  { method: 'GET', path: '/leases', query: ['feature', 'stale'] },
  { method: 'DELETE', path: '/leases/:param', body: { reason: 'stuck' } },
  { method: 'GET', path: '/sessions', query: ['stale'] },
  { method: 'GET', path: '/usage', query: ['feature', 'fromMs', 'toMs', 'limit'] },
];

/** `text` percent-encoded byte by byte (lone surrogates become U+FFFD, as a client's encoder would send them). */
function percentEncoded(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) out += /[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).padStart(2, '0')}`;
  return out;
}

/** A path segment: tricky text, percent-encoded or raw percent garbage (a bad escape must not throw). */
const segment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...TRICKY_STRINGS.filter((s) => s.length < 200)).map(percentEncoded),
  fc.string({ maxLength: 40 }).map(percentEncoded),
  fc.constantFrom('%', '%E0%A4%A', '%FF', '%00', '%2F..%2F', '%C0%AE', 'L1', 'LIC-A', 'n1'),
);

/** A query value: huge numbers, tricky text, anything. */
const queryValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...HUGE_NUMBER_TEXTS, 'true', 'false', '', 'NaN', '-1', '0x10', '1e3'),
  fc.string({ maxLength: 30 }),
  fc.constantFrom(...TRICKY_STRINGS.filter((s) => s.length < 200)),
);

export const request = fc.constantFrom(...ROUTES).chain((route) =>
  fc.record({
    method: fc.oneof({ weight: 5, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH') }),
    path: segment.map((s) => route.path.replace(':param', s)),
    query: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...(route.query ?? ['stale'])), fc.string({ maxLength: 8 })), queryValue), { maxLength: 4 }),
    body: fc.option(
      fc.oneof(
        { weight: route.body === undefined ? 0 : 4, arbitrary: route.body === undefined ? fc.constant('') : withOneFieldMutated(route.body) },
        { weight: 3, arbitrary: hostileJsonText },
        { weight: 1, arbitrary: randomText },
      ),
      { freq: 4 },
    ),
    contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', null),
    token: fc.oneof({ weight: 8, arbitrary: fc.constant(`Bearer ${TOKEN}`) }, { weight: 1, arbitrary: fc.constantFrom('Bearer', 'Bearer x y', 'Basic abc', 'Bearer '.padEnd(2000, 'x'), '') }),
  }),
);

/** The admin API: every answer is JSON, 2xx or an error code, never a 500. */
export const adminRequestsTarget: FuzzTarget = {
  name: 'admin-requests',
  claim: 'an admin request with any body, path segment or query answers JSON with an error code or success, never a 500',
  runsInTest: 250,
  open: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'floe-fuzz-admin-'));
    const vendor = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(5));
    const config = parseConfig({ dataDir: dir, vendorPublicKeys: [formatVendorPublicKey(vendor.publicKey)] });
    const node = await FloeNode.open({ config, lockCode: 'FUZZ-LOCK' });
    Object.assign(node, { addMember: async () => {}, removeMember: async () => {} });
    const app = createAdminApp(node, { tokenSha256: [hashToken(TOKEN)], bodyBytesMax: BODY_BYTES_MAX });
    return {
      property: fc.asyncProperty(request, async (r) => {
        const query = new URLSearchParams(r.query).toString();
        const headers: Record<string, string> = {};
        if (r.contentType !== null) headers['content-type'] = r.contentType;
        if (r.token !== '') headers['authorization'] = r.token;
        const init: RequestInit = { method: r.method, headers };
        if (r.body !== null && r.method !== 'GET') init.body = r.body;
        const res = await app.request(`/api/v1${r.path}${query === '' ? '' : `?${query}`}`, init);
        const text = await res.text();
        if (res.status >= 500 && res.status !== 503) throw new Error(`answered ${res.status}: ${text.slice(0, 300)}`);
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw new Error(`answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
        }
        if (res.status >= 400) {
          const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
          if (!isErrorCode(code)) throw new Error(`answered ${res.status} without an error code: ${text.slice(0, 200)}`);
        }
      }),
      close: async () => {
        await node.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};
