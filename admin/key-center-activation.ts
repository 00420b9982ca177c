// Online activation (POST /licenses/activate): the cluster asks the vendor's
// key center for a key locked to every current member, checks the answer,
// and installs it through the log like an imported key. The lock codes are
// the ones the members already exchange in the peer handshake, so nobody
// gathers or types them. Every failure is a stable code and installs nothing:
// a member missing (CLUSTER_INCOMPLETE, naming it), the key center
// unreachable or slow (KEY_CENTER_UNREACHABLE, with the URL and the cause),
// its refusal passed through (ALREADY_ACTIVATED, AUTH_CODE_TYPO, …), an
// answer that does not verify or names other lock codes
// (KEY_CENTER_ANSWER_INVALID). A retry after a lost answer gets the same key
// from the key center (it is idempotent for a code and its lock codes) and
// installs it; once installed, the same code answers ALREADY_ACTIVATED —
// unless the ask carries the requestId the install was recorded with (the
// log carries it in the license's provenance): that is a retry of a request
// whose answer was lost (a 503 during a leader change after the key was
// installed), and it is answered as the first attempt would have been.
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { FloeNode } from '../daemon/node/index.ts';
import type { LicenseProvenance } from '../daemon/pool/index.ts';
import { activationAnswerSchema, readNamedLockCode } from '../protocol/index.ts';
import { AdminError, statusOfCode } from './errors.ts';

/** Bytes of a key center's answer read at most (a key is a few hundred characters). */
const ANSWER_BYTES_MAX = 64 * 1024;

/** What POST /licenses/activate asks. */
export interface ActivationAsk {
  readonly authCode: string;
  /** Overrides the config's keyCenterUrl. */
  readonly keyCenterUrl?: string | undefined;
  readonly hostDescription?: string | undefined;
  /** The same on every retry of one activation (the CLI makes one per command). */
  readonly requestId?: string | undefined;
}

/** What an activation installed. */
export interface Activated {
  readonly licenseId: string;
  readonly features: string[];
  readonly lockCodes: string[];
  readonly keyCenterUrl: string;
  readonly supersededLicenseId?: string;
}

/** How the activation reaches the key center (tests give a short timeout). */
export interface ActivationOptions {
  /** `ms` the key center has to answer; then KEY_CENTER_UNREACHABLE. */
  readonly timeoutMs: number;
  readonly audit: { readonly actor: string };
}

/** Asks the key center for a key for this cluster and installs it; throws AdminError with the refusal's code. */
export async function activateFromKeyCenter(node: FloeNode, ask: ActivationAsk, options: ActivationOptions): Promise<Activated> {
  const baseUrl = ask.keyCenterUrl ?? node.config.keyCenterUrl;
  if (baseUrl === undefined) {
    throw new AdminError(400, 'KEY_CENTER_URL_MISSING', 'no key center URL: give keyCenterUrl in the request, or set keyCenterUrl in the config');
  }
  const lockCodes = clusterMembers(node).map((m) => m.lockCode);
  const url = new URL('api/v1/activations', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).href;
  const body = { authCode: ask.authCode, lockCodes, ...(ask.hostDescription === undefined ? {} : { hostDescription: ask.hostDescription }) };
  const { status, json } = await postJson(url, body, options.timeoutMs);
  if (status !== 201) throw refusalOf(url, status, json);
  const answer = activationAnswerSchema.safeParse(json);
  if (!answer.success) throw invalid(url, 'the answer is not {"licenseId","key"}');
  return installActivatedKey(node, answer.data.key, lockCodes, {
    provenance: { keyCenterUrl: baseUrl, via: 'online', ...(ask.requestId === undefined ? {} : { requestId: ask.requestId }) },
    audit: options.audit,
    answerInvalid: (why) => invalid(url, why),
  });
}

/** How installActivatedKey() installs and refuses. */
export interface InstallActivatedOptions {
  readonly provenance: LicenseProvenance;
  readonly audit: { readonly actor: string };
  /**
   * Online: a key that does not verify or names other lock codes is the key
   * center's fault (KEY_CENTER_ANSWER_INVALID). Absent (a key file): its own
   * code is answered, LOCK_CODE_MISMATCH for other lock codes.
   */
  readonly answerInvalid?: (why: string) => AdminError;
}

/**
 * Installs a key a key center issued for this cluster, checked as an
 * activation's answer is: it verifies here (vendor signature, dates), names
 * exactly `lockCodes` (every member's), and is not installed yet
 * (ALREADY_ACTIVATED). The key center it came from is recorded with it.
 */
export async function installActivatedKey(node: FloeNode, key: string, lockCodes: readonly string[], options: InstallActivatedOptions): Promise<Activated> {
  const check = node.checkLicense(key);
  if (!check.ok) {
    if (check.code === 'SUPERSEDED' || options.answerInvalid === undefined) throw new AdminError(statusOfCode(check.code), check.code, check.message);
    throw options.answerInvalid(`the key it answered does not verify here (${check.code}: ${check.message})`);
  }
  const named = check.license.lockCodes.map((c) => readNamedLockCode(c).code);
  if (named.length !== lockCodes.length || !lockCodes.every((c) => named.includes(c))) {
    const why = `the key names lock codes ${check.license.lockCodes.join(', ')}, not this cluster's ${lockCodes.join(', ')}`;
    throw options.answerInvalid?.(why) ?? new AdminError(409, 'LOCK_CODE_MISMATCH', `${why} (was a member replaced since the request was written? write a new request); nothing was installed`);
  }
  /** The key is installed already: this request's own earlier install, or ALREADY_ACTIVATED. */
  const answerInstalled = (): Activated => {
    const retried = installedByRequest(node, check.license.licenseId, lockCodes, options.provenance);
    if (retried !== undefined) return retried;
    throw new AdminError(409, 'ALREADY_ACTIVATED', `code ${check.license.authCode} is already activated on this cluster: license ${check.license.licenseId} is installed; nothing changed`);
  };
  if (node.licenses().some((l) => l.licenseId === check.license.licenseId)) return answerInstalled();
  const installed = await node.importLicense(key, options.audit, options.provenance);
  if (!installed.ok && installed.code === 'LICENSE_EXISTS') {
    // The first attempt's install committed meanwhile: this node has applied it once the barrier passes.
    await node.readBarrier();
    return answerInstalled();
  }
  if (!installed.ok) throw new AdminError(statusOfCode(installed.code), installed.code, installed.message);
  return {
    licenseId: installed.licenseId,
    features: installed.features,
    lockCodes: [...lockCodes],
    keyCenterUrl: options.provenance.keyCenterUrl,
    ...(installed.supersededLicenseId === undefined ? {} : { supersededLicenseId: installed.supersededLicenseId }),
  };
}

/**
 * What the install of `licenseId` answered, when the same request (its
 * requestId) installed it: a retry after a lost answer. Undefined otherwise.
 */
function installedByRequest(node: FloeNode, licenseId: string, lockCodes: readonly string[], provenance: LicenseProvenance): Activated | undefined {
  if (provenance.requestId === undefined) return undefined;
  const license = node.licenses().find((l) => l.licenseId === licenseId);
  if (license?.provenance?.requestId !== provenance.requestId) return undefined;
  const superseded = node.retiredLicenses().find((r) => r.supersededBy === licenseId);
  return {
    licenseId,
    features: [...license.features],
    lockCodes: [...lockCodes],
    keyCenterUrl: license.provenance.keyCenterUrl,
    ...(superseded === undefined ? {} : { supersededLicenseId: superseded.licenseId }),
  };
}

/** One member of the cluster as an activation names it. */
export interface ClusterMember {
  readonly id: string;
  /** Its lock code, canonical (tolerant form where it states one). */
  readonly lockCode: string;
}

/** Every current member and its lock code; CLUSTER_INCOMPLETE naming the members this node cannot vouch for, LOCK_CODE_DUPLICATE. */
export function clusterMembers(node: FloeNode): ClusterMember[] {
  const members = node.memberLockCodes();
  const missing = members.filter((m) => !m.connected || m.lockCode === undefined);
  if (missing.length > 0) {
    const named = missing.map((m) => `${m.id} (${m.connected ? 'lock code not known yet' : 'not connected'})`).join(', ');
    throw new AdminError(
      503,
      'CLUSTER_INCOMPLETE',
      `a key must name every member's lock code, and this node cannot reach ${named}; start it, or remove it from the cluster, then retry`,
    );
  }
  const duplicates = node.duplicateLockCodes();
  if (duplicates.length > 0) {
    const d = duplicates[0]!;
    throw new AdminError(409, 'LOCK_CODE_DUPLICATE', `members ${d.members.join(', ')} present one lock code (${d.lockCode}); replace one before activating`);
  }
  return members.map((m) => ({ id: m.id, lockCode: readNamedLockCode(m.lockCode!).code }));
}

/** POSTs `body` to `url`; KEY_CENTER_UNREACHABLE when it does not answer within `timeoutMs`. */
async function postJson(url: string, body: unknown, timeoutMs: number): Promise<{ status: number; json: unknown }> {
  let res: Response;
  let text: string;
  try {
    const signal = AbortSignal.timeout(timeoutMs);
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal, redirect: 'error' });
    text = await readBounded(res);
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } };
    const cause = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new AdminError(502, 'KEY_CENTER_UNREACHABLE', `the key center at ${url} could not be reached: ${cause}; nothing was installed`);
  }
  try {
    return { status: res.status, json: JSON.parse(text) as unknown };
  } catch {
    return { status: res.status, json: undefined };
  }
}

/** The body of `res` as text, refusing one over ANSWER_BYTES_MAX. */
async function readBounded(res: Response): Promise<string> {
  if (res.body === null) return '';
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.byteLength;
    if (bytes > ANSWER_BYTES_MAX) throw new Error(`its answer is over ${ANSWER_BYTES_MAX} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The key center's refusal, passed through with its code; KEY_CENTER_ANSWER_INVALID when it carries none. */
function refusalOf(url: string, status: number, json: unknown): AdminError {
  const e = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (e !== undefined && typeof e.code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(e.code)) {
    const message = typeof e.message === 'string' ? e.message.slice(0, 500) : `HTTP ${status}`;
    const passed: ContentfulStatusCode = status >= 400 && status < 500 ? (status as ContentfulStatusCode) : 502;
    return new AdminError(passed, e.code, `the key center refused: ${message}`);
  }
  return invalid(url, `it answered HTTP ${status} without an error code (is it a Floe key center?)`);
}

function invalid(url: string, why: string): AdminError {
  return new AdminError(502, 'KEY_CENTER_ANSWER_INVALID', `the key center at ${url}: ${why}; nothing was installed`);
}
