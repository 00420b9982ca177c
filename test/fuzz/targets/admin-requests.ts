// Fuzz target: requests to the admin server, through app.request() over a
// real single-node FloeNode holding a concurrent and an authorized-user
// license. Each route gets hostile bodies (any JSON, deep nesting, huge
// numbers, random bytes, its valid body with one field changed), hostile
// path segments and query strings, and odd content types and tokens (an
// admin's, a viewer's, malformed ones). Under /api/v1 every answer must be
// JSON: a success, or an error with an UPPER_CASE code; anywhere, a 500
// (something threw) fails the property.
//
// Every route the app registers is fuzzed (Hono's own route list, so a route
// outside the OpenAPI document counts too): routes added later are covered
// without a change here. KNOWN adds valid bodies to mutate; a KNOWN entry
// whose route is gone fails the target, so it cannot rot unseen.
//
// The membership routes' effect is not under test (a valid body would add a
// voter that never exists and stall the node), so addMember and
// removeMember are stubbed; their bodies and parameters are still parsed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import nacl from 'tweetnacl';
import { API_BASE_PATH, configTokenVerifier, createAdminApp, hashToken } from '../../../admin/index.ts';
import { parseConfig } from '../../../daemon/config.ts';
import { FloeNode } from '../../../daemon/node/index.ts';
import { formatVendorPublicKey, signLicenseKey, vendorKeyIdOf, type LicensePayload } from '../../../protocol/index.ts';
import type { FuzzTarget } from '../fuzz-target.ts';
import { hostileJsonText, isErrorCode, randomText, TRICKY_STRINGS, withOneFieldMutated, HUGE_NUMBER_TEXTS } from '../hostile-values.ts';

const TOKEN = 'fuzz-admin-token';
const VIEWER_TOKEN = 'fuzz-viewer-token';
/** Bytes of a request body the app accepts (the config's adminBodyBytesMax in the test node). */
const BODY_BYTES_MAX = 32 * 1024;
const LOCK_CODE = 'FUZZ-LOCK';
const vendor = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(5));

/** A license key for the fuzz node: `model` pool of `product`, 3 seats, no end date. */
function licenseKey(licenseId: string, product: string, model: LicensePayload['model']): string {
  return signLicenseKey(
    {
      v: 1,
      licenseId,
      authCode: `AUTH-${licenseId}`,
      vendorKeyId: vendorKeyIdOf(vendor.publicKey),
      product,
      version: '1',
      model,
      seats: 3,
      components: [],
      issuedAt: 0,
      notBefore: 0,
      lockCodes: [LOCK_CODE],
      lingerSeconds: 0,
      hostsPerUserMax: 1,
    },
    vendor.secretKey,
  );
}

/** Installed before fuzzing, so routes over a pool reach past UNKNOWN_FEATURE. */
const INSTALLED_KEYS = [licenseKey('LIC-FUZZ-C', 'cad', 'concurrent'), licenseKey('LIC-FUZZ-U', 'sim', 'authorized-user')];
/** Names that exist in the fuzz node, mixed into path segments. */
const EXISTING_NAMES = ['LIC-FUZZ-C', 'LIC-FUZZ-U', 'cad', 'sim', 'n1', 'config-1'];

/** A route, its valid body (if it takes one) and the query parameters it reads. */
interface Route {
  readonly method: string;
  /** The full path, with Hono's `:name` where a path segment goes. */
  readonly path: string;
  readonly body?: object;
  readonly query?: readonly string[];
}

/**
 * What the fuzzer knows of some routes beyond their path (keys are
 * `METHOD path` below /api/v1, as Hono registers them): a valid body to
 * mutate, the query parameters read. Every registered route is fuzzed;
 * these just get closer to valid.
 */
const KNOWN: Readonly<Record<string, Omit<Route, 'method' | 'path'>>> = {
  'POST /cluster/members': { body: { id: 'n4', peerUrl: 'ws://127.0.0.1:7604/raft', clientUrl: 'ws://127.0.0.1:7404/ws', publicKey: 'A'.repeat(43) } },
  'POST /licenses': { body: { key: licenseKey('LIC-FUZZ-NEW', 'cam', 'concurrent') } },
  'DELETE /leases/:leaseId': { body: { reason: 'stuck' } },
  'PUT /pools/:feature/users': { body: { users: ['alice', 'bob'] } },
  'GET /licenses': { query: ['stale'] },
  'GET /pools': { query: ['stale'] },
  'GET /leases': { query: ['feature', 'stale'] },
  'GET /sessions': { query: ['stale'] },
  'GET /usage': { query: ['feature', 'fromMs', 'toMs', 'limit'] },
  'GET /policy': { query: ['stale'] },
  'PUT /policy': { body: { format: 'flexlm-options', text: 'GROUP eng alice bob\nRESERVE 1 cad USER alice\nMAX 2 cad GROUP eng', revokeViolating: false }, query: ['dryRun'] },
  'GET /policy/explain': { query: ['feature', 'user', 'host', 'app', 'ip', 'version', 'count', 'stale'] },
};

/** Routes that call out of the machine (online activation): a fuzzed URL must not reach the network. */
const OUTBOUND_ROUTES: ReadonlySet<string> = new Set(['POST /licenses/activate']);

/** `METHOD path` with the path below /api/v1 when it is there (KNOWN's keys). */
function keyOf(method: string, path: string): string {
  return `${method} ${path.startsWith(`${API_BASE_PATH}/`) ? path.slice(API_BASE_PATH.length) : path}`;
}

/** Every route `app` registered (not its middleware, which Hono lists as ALL), with what KNOWN adds. */
function routesOf(registered: readonly { readonly method: string; readonly path: string }[]): Route[] {
  const routes = new Map<string, Route>();
  for (const { method, path } of registered) {
    if (method === 'ALL' || path.includes('*')) continue;
    const key = keyOf(method, path);
    if (!OUTBOUND_ROUTES.has(key) && !routes.has(key)) routes.set(key, { method, path, ...KNOWN[key] });
  }
  const stale = Object.keys(KNOWN).filter((key) => !routes.has(key));
  if (stale.length > 0) throw new Error(`admin-requests: KNOWN names routes the app does not have: ${stale.join(', ')}`);
  return [...routes.values()];
}

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
  fc.constantFrom('%', '%E0%A4%A', '%FF', '%00', '%2F..%2F', '%C0%AE', ...EXISTING_NAMES),
);

/** A query value: huge numbers, tricky text, anything. */
const queryValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...HUGE_NUMBER_TEXTS, 'true', 'false', '', 'NaN', '-1', '0x10', '1e3'),
  fc.string({ maxLength: 30 }),
  fc.constantFrom(...TRICKY_STRINGS.filter((s) => s.length < 200)),
);

/** A request to one of `routes`: its method (mostly), a hostile segment, query, body, content type and token. */
function requestTo(routes: readonly Route[]) {
  return fc.constantFrom(...routes).chain((route) =>
    fc.record({
      method: fc.oneof({ weight: 5, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH') }),
      path: segment.map((s) => route.path.replace(/:[^/]+/g, s)),
      query: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...(route.query ?? ['stale'])), fc.string({ maxLength: 8 })), queryValue), { maxLength: 4 }),
      body: fc.option(
        fc.oneof(
          { weight: route.body === undefined ? 0 : 4, arbitrary: route.body === undefined ? fc.constant('') : withOneFieldMutated(route.body) },
          // The valid body as it is, so the route's success path runs too.
          { weight: route.body === undefined ? 0 : 1, arbitrary: fc.constant(JSON.stringify(route.body ?? {})) },
          { weight: 3, arbitrary: hostileJsonText },
          { weight: 1, arbitrary: randomText },
        ),
        { freq: 4 },
      ),
      contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', null),
      token: fc.oneof(
        { weight: 6, arbitrary: fc.constant(`Bearer ${TOKEN}`) },
        { weight: 2, arbitrary: fc.constant(`Bearer ${VIEWER_TOKEN}`) },
        { weight: 1, arbitrary: fc.constantFrom('Bearer', 'Bearer x y', 'Basic abc', 'Bearer '.padEnd(2000, 'x'), '') },
      ),
    }),
  );
}

/** `app.request()` with a fresh JSON body; throws unless it answers `status`. */
async function expectStatus(app: { request: (path: string, init: RequestInit) => Response | Promise<Response> }, method: string, path: string, body: object, status: number): Promise<void> {
  const res = await app.request(`${API_BASE_PATH}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });
  if (res.status !== status) throw new Error(`admin-requests: ${method} ${path} answered ${res.status}, not ${status}: ${await res.text()}`);
}

/** The admin server: every answer under /api/v1 is JSON, a success or an error code; nothing answers 500. */
export const adminRequestsTarget: FuzzTarget = {
  name: 'admin-requests',
  claim: 'an admin request with any body, path segment or query answers JSON with an error code or success, never a 500',
  runsInTest: 250,
  open: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'floe-fuzz-admin-'));
    const config = parseConfig({ dataDir: dir, vendorPublicKeys: [formatVendorPublicKey(vendor.publicKey)] });
    const node = await FloeNode.open({ config, lockCode: LOCK_CODE });
    try {
      Object.assign(node, { addMember: async () => ({ voter: true }), removeMember: async () => {} });
      const tokenSha256 = [hashToken(TOKEN)];
      const configTokens = configTokenVerifier(tokenSha256);
      const app = createAdminApp(node, {
        tokenSha256,
        bodyBytesMax: BODY_BYTES_MAX,
        verifyToken: (token) => (token === VIEWER_TOKEN ? { name: 'fuzz-viewer', role: 'viewer' } : configTokens(token)),
      });
      for (const key of INSTALLED_KEYS) await expectStatus(app, 'POST', '/licenses', { key }, 201);
      await expectStatus(app, 'PUT', '/pools/sim/users', { users: ['alice'] }, 200);
      const routes = routesOf(app.routes);
      return {
        property: fc.asyncProperty(requestTo(routes), async (r) => {
          const query = new URLSearchParams(r.query).toString();
          const headers: Record<string, string> = {};
          if (r.contentType !== null) headers['content-type'] = r.contentType;
          if (r.token !== '') headers['authorization'] = r.token;
          const init: RequestInit = { method: r.method, headers };
          if (r.body !== null && r.method !== 'GET') init.body = r.body;
          const res = await app.request(`${r.path}${query === '' ? '' : `?${query}`}`, init);
          // A success may be something else than JSON (GET /backup streams NDJSON, an event stream
          // never ends): it is not read. An error always is JSON.
          if (res.status < 400 && !(res.headers.get('content-type') ?? '').startsWith('application/json')) {
            await res.body?.cancel();
            return;
          }
          const text = await res.text();
          if (res.status >= 500 && res.status !== 503) throw new Error(`answered ${res.status}: ${text.slice(0, 300)}`);
          // Pages and /metrics outside the JSON API answer what they like, short of a 500.
          if (!r.path.startsWith(`${API_BASE_PATH}/`)) return;
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
    } catch (error) {
      await node.close();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  },
};
