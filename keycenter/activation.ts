// Activation: an authorization code plus the lock codes of one server (or of
// three redundant ones) becomes a signed license key. This file holds the
// rules once, for every caller — the CLI, the portal's wizard, the JSON API
// that license servers call, and later an uploaded offline request:
// - a concurrent code activates once (or as often as support allowed); a
//   second activation is refused and names the key already issued;
// - an authorized-user code covering N users may be split over several
//   activations until all N are issued;
// - the same code on the same lock codes again answers the same key
//   (idempotent: a server retrying after a lost answer gets what it missed);
// - a key is superseded at most once: a rehost (same seats, new lock codes),
//   seats added to an existing host (the new key carries the old key's seats
//   plus the code's) or a maintenance renewal activated where the renewed
//   line's key is (renewal.ts) names the key it replaces in `supersedes`;
// - the same code on the lock codes of its servers after one was replaced (a
//   majority unchanged) is a rehost by the customer (member-replacement.ts).
import {
  LICENSE_FORMAT_VERSION,
  parseLockCode,
  sameLockIdentity,
  signLicenseKey,
  type LicensePayload,
} from '../protocol/index.ts';
import { newLicenseId, parseAuthCode } from './auth-code.ts';
import { atomically } from './atomically.ts';
import { recordAudit } from './audit-trail.ts';
import { bad, integerIn, optionalText } from './input-checks.ts';
import { describeKey, type IssuedKey } from './issued-key.ts';
import type { AccountScope, Actor, KeyCenterContext } from './key-center-context.ts';
import { KeyCenterError } from './key-center-error.ts';
import { currentOf, sameLockCodes } from './key-chain.ts';
import { keyOfReplacedMember } from './member-replacement.ts';
import { renewalSupersedes } from './renewal.ts';
import { enqueueMail } from './mail/mail-outbox.ts';
import { keyIssuedMail } from './mail/mail-templates.ts';
import type { EntitlementRecord, LicenseKeyRecord, StoreQueries } from './store/key-center-store.ts';

/** Longest host description, characters (the payload's limit). */
export const HOST_DESCRIPTION_CHARS_MAX = 200;
/** Longest comment on an activation, characters (the payload's limit). */
export const ACTIVATION_COMMENT_CHARS_MAX = 500;
/**
 * How far before its issue a key's notBefore is set, ms: a server whose clock
 * runs a little behind the key center's must not find a fresh key "not yet valid".
 */
export const CLOCK_SKEW_ALLOWANCE_MS = 24 * 3600 * 1000;

/** An activation: a code and the lock codes of the server(s) it is for. */
export interface ActivateRequest {
  readonly authCode: string;
  /** 1 lock code, or 3 distinct ones for a redundant license (5 allowed). */
  readonly lockCodes: readonly string[];
  readonly hostDescription?: string | undefined;
  /** Authorized-user codes: how many of the remaining named users this key covers (default: all). */
  readonly seats?: number | undefined;
  /** Written into the key and shown with it. */
  readonly comment?: string | undefined;
}

/** Seats of a code added to the host an existing key serves: the new key supersedes that key. */
export interface AddSeatsRequest {
  readonly authCode: string;
  /** The key now in force on the host. */
  readonly licenseId: string;
  readonly seats?: number | undefined;
  readonly comment?: string | undefined;
}

/** A key moved to other servers: same seats, new lock codes; the new key supersedes the old. */
export interface RehostRequest {
  readonly licenseId: string;
  readonly lockCodes: readonly string[];
  /** Default: the old key's. */
  readonly hostDescription?: string | undefined;
  readonly comment?: string | undefined;
}

/** Who asks, within what account, and where the key is mailed. */
export interface IssueOptions {
  readonly actor: Actor;
  /** A member's account: codes and keys of any other account are NOT_FOUND. */
  readonly scope?: AccountScope | undefined;
  /** E-mail the key (as an attachment) to this address. */
  readonly mailTo?: string | undefined;
}

/** One lock code as typed: its canonical text, or LOCK_CODE_TYPO / LOCK_CODE_MALFORMED about `field`. */
export function checkLockCode(input: unknown, field = 'lockCode'): string {
  const lock = parseLockCode(input);
  if (!lock.ok) throw new KeyCenterError(lock.problem === 'TYPO' ? 'LOCK_CODE_TYPO' : 'LOCK_CODE_MALFORMED', lock.message, field);
  return lock.code;
}

/**
 * The canonical lock codes of an activation: 1, 3 or 5, each passing its
 * check character, naming as many different servers (protocol's
 * sameLockIdentity: two 0.2 codes with one identity name one node, whatever
 * its machine inputs, and would let one server count twice).
 */
export function checkLockCodes(inputs: readonly unknown[]): string[] {
  const count = inputs.length;
  if (count !== 1 && count !== 3 && count !== 5) {
    throw new KeyCenterError('LOCK_CODE_COUNT', `an activation names 1 lock code, or 3 for a redundant license (5 allowed); ${count} given`, 'lockCodes');
  }
  const lockCodes: string[] = [];
  inputs.forEach((input, i) => {
    const code = checkLockCode(input, `lockCodes.${i}`);
    const same = lockCodes.find((other) => sameLockIdentity(other, code));
    if (same !== undefined) {
      const what = same === code ? `lock code ${code} is given twice` : `lock codes ${same} and ${code} name one server (the same node identity)`;
      throw new KeyCenterError('DUPLICATE_LOCK_CODE', `${what}; a redundant license names ${count} different servers`, `lockCodes.${i}`);
    }
    lockCodes.push(code);
  });
  return lockCodes;
}

/** The canonical authorization code; AUTH_CODE_TYPO / AUTH_CODE_MALFORMED otherwise. */
export function checkAuthCode(input: unknown): string {
  const code = parseAuthCode(input);
  if (!code.ok) throw new KeyCenterError(code.problem === 'TYPO' ? 'AUTH_CODE_TYPO' : 'AUTH_CODE_MALFORMED', code.message, 'authCode');
  return code.code;
}

async function entitlementFor(q: StoreQueries, authCode: string, scope: AccountScope | undefined): Promise<EntitlementRecord> {
  const e = await q.entitlement(authCode);
  if (e === undefined) throw new KeyCenterError('UNKNOWN_AUTH_CODE', `authorization code ${authCode} was not issued by this key center`, 'authCode');
  if (scope !== undefined && e.siteNumber !== scope.siteNumber) throw new KeyCenterError('NOT_FOUND', `there is no authorization code ${authCode} in this account`, 'authCode');
  return e;
}

function refuseExpired(e: EntitlementRecord, nowMs: number): void {
  if (e.expiresAt !== null && e.expiresAt <= nowMs) {
    throw new KeyCenterError('ENTITLEMENT_EXPIRED', `authorization code ${e.authCode} is a temporary license that ended ${new Date(e.expiresAt).toISOString()}`, 'authCode');
  }
}

async function keyView(q: StoreQueries, key: LicenseKeyRecord, nowMs: number): Promise<IssuedKey> {
  const successor = await q.successorOf(key.licenseId);
  return describeKey(key, await q.entitlement(key.authCode), successor?.licenseId ?? null, nowMs);
}

/** How many seats a new activation of `e` takes, and its activation number; refuses when none are left. */
async function seatsToTake(
  q: StoreQueries,
  e: EntitlementRecord,
  earlier: readonly LicenseKeyRecord[],
  requestedSeats: number | undefined,
): Promise<{ seats: number; activationNo: number }> {
  const activations = earlier.filter((k) => k.activationNo !== null);
  const activationNo = activations.reduce((max, k) => Math.max(max, k.activationNo ?? 0), 0) + 1;
  if (e.model === 'concurrent') {
    const last = activations.at(-1);
    if (last !== undefined && activations.length >= e.activationsMax) {
      const current = await currentOf(q, last);
      throw new KeyCenterError(
        'ALREADY_ACTIVATED',
        `authorization code ${e.authCode} was already activated as license ${current.licenseId} (lock codes ${current.lockCodes.join(', ')}); a concurrent code activates once`,
        'authCode',
      );
    }
    if (requestedSeats !== undefined && requestedSeats !== e.seats) throw bad(`a concurrent code activates all its ${e.seats} seats at once`, 'seats');
    return { seats: e.seats, activationNo };
  }
  const remaining = e.seats - earlier.reduce((sum, k) => sum + k.seatsFromCode, 0);
  if (remaining <= 0) {
    throw new KeyCenterError(
      'SEATS_EXHAUSTED',
      `all ${e.seats} named users of authorization code ${e.authCode} are issued, in ${activations.map((k) => k.licenseId).join(', ')}`,
      'seats',
    );
  }
  return { seats: requestedSeats === undefined ? remaining : integerIn(requestedSeats, 1, remaining, 'named users for this key', 'seats'), activationNo };
}

interface KeyToIssue {
  readonly entitlement: EntitlementRecord;
  readonly lockCodes: readonly string[];
  readonly hostDescription: string | null;
  readonly seats: number;
  readonly seatsFromCode: number;
  readonly activationNo: number | null;
  readonly supersedes: LicenseKeyRecord | null;
  readonly comment: string | null;
  readonly action: 'activate' | 'add-seats' | 'rehost';
}

/** Signs and records one key; the one place a key is made. */
async function issueKey(q: StoreQueries, ctx: KeyCenterContext, nowMs: number, k: KeyToIssue, options: IssueOptions): Promise<IssuedKey> {
  const e = k.entitlement;
  const licenseId = newLicenseId();
  const comment = k.comment ?? e.comment;
  const payload: LicensePayload = {
    v: LICENSE_FORMAT_VERSION,
    licenseId,
    authCode: e.authCode,
    vendorKeyId: ctx.signer.vendorKeyId,
    product: e.product,
    version: e.version,
    model: e.model,
    seats: k.seats,
    components: e.component === null ? [] : [e.component],
    issuedAt: nowMs,
    notBefore: e.startsAt ?? Math.max(0, nowMs - CLOCK_SKEW_ALLOWANCE_MS),
    ...(e.expiresAt === null ? {} : { expiresAt: e.expiresAt }),
    lockCodes: [...k.lockCodes],
    // Absent means tolerant: written only for the vendor's strict choice.
    ...(ctx.config.lockMatch === 'exact' ? { lockMatch: 'exact' as const } : {}),
    lingerSeconds: e.lingerSeconds,
    hostsPerUserMax: e.hostsPerUserMax,
    ...(e.borrowHoursMax === null ? {} : { borrowAllowed: true, borrowHoursMax: e.borrowHoursMax }),
    ...(k.hostDescription === null ? {} : { hostDescription: k.hostDescription }),
    ...(e.orderNumber === null ? {} : { orderNumber: e.orderNumber }),
    ...(comment === null ? {} : { comment }),
    ...(k.supersedes === null ? {} : { supersedes: k.supersedes.licenseId }),
  };
  const record: LicenseKeyRecord = {
    licenseId,
    authCode: e.authCode,
    lockCodes: [...k.lockCodes],
    hostDescription: k.hostDescription,
    seats: k.seats,
    keyText: signLicenseKey(payload, ctx.signer.secretKey),
    issuedAt: nowMs,
    activationNo: k.activationNo,
    seatsFromCode: k.seatsFromCode,
    supersedes: k.supersedes?.licenseId ?? null,
    siteNumber: e.siteNumber,
    comment: k.comment,
    issuedBy: options.actor,
  };
  await q.insertKey(record);
  await recordAudit(q, nowMs, options.actor, k.action, { siteNumber: e.siteNumber, target: licenseId }, {
    authCode: e.authCode,
    seats: k.seats,
    lockCodes: k.lockCodes,
    ...(k.supersedes === null ? {} : { supersedes: k.supersedes.licenseId }),
  });
  const key = describeKey(record, e, null, nowMs);
  if (options.mailTo !== undefined) await enqueueMail(q, nowMs, keyIssuedMail(ctx.config, options.mailTo, key));
  return key;
}

/** Activates an authorization code against lock codes into a signed license key (or answers the key it already made for them). */
export async function activate(ctx: KeyCenterContext, request: ActivateRequest, options: IssueOptions): Promise<IssuedKey> {
  const authCode = checkAuthCode(request.authCode);
  const lockCodes = checkLockCodes(request.lockCodes);
  const hostDescription = optionalText(request.hostDescription, 'host description', HOST_DESCRIPTION_CHARS_MAX, 'hostDescription');
  const comment = optionalText(request.comment, 'comment', ACTIVATION_COMMENT_CHARS_MAX, 'comment');
  const nowMs = ctx.clock();
  return atomically(ctx.store, async (q) => {
    // Activations of one code queue here (on PostgreSQL) instead of racing to the unique constraint.
    await q.lockEntitlement(authCode);
    const e = await entitlementFor(q, authCode, options.scope);
    refuseExpired(e, nowMs);
    const earlier = await q.keys({ authCode });
    // The same code on the same lock codes again: the key in force there, made by the first call (or moved there by a rehost).
    const matching = earlier.filter((k) => sameLockCodes(k.lockCodes, lockCodes));
    for (const k of matching) {
      const current = await currentOf(q, k);
      if (sameLockCodes(current.lockCodes, lockCodes)) return keyView(q, current, nowMs);
    }
    const moved = matching.find((k) => k.activationNo !== null);
    if (moved !== undefined) {
      const current = await currentOf(q, moved);
      throw new KeyCenterError(
        'ALREADY_ACTIVATED',
        `authorization code ${authCode} was activated on these lock codes as ${moved.licenseId}, since moved to other servers as ${current.licenseId}`,
        'authCode',
      );
    }
    // A member of the servers replaced: the key in force there moves to the new lock codes (a rehost).
    const replaced = await keyOfReplacedMember(q, e, earlier, lockCodes);
    if (replaced !== null) {
      return issueKey(
        q,
        ctx,
        nowMs,
        { entitlement: e, lockCodes, hostDescription: hostDescription ?? replaced.hostDescription, seats: replaced.seats, seatsFromCode: 0, activationNo: null, supersedes: replaced, comment, action: 'rehost' },
        options,
      );
    }
    const { seats, activationNo } = await seatsToTake(q, e, earlier, request.seats);
    // A maintenance renewal replaces the renewed line's key on these servers: its seats count once.
    const supersedes = await renewalSupersedes(q, e, lockCodes, nowMs);
    // Like a rehost, a renewal's key keeps the host's name unless given a new one.
    const named = hostDescription ?? supersedes?.hostDescription ?? null;
    return issueKey(q, ctx, nowMs, { entitlement: e, lockCodes, hostDescription: named, seats, seatsFromCode: seats, activationNo, supersedes, comment, action: 'activate' }, options);
  });
}

/** The key now in force on a host, or LICENSE_NOT_FOUND / NOT_FOUND (another account) / ALREADY_SUPERSEDED. */
async function keyInForce(q: StoreQueries, licenseId: string, scope: AccountScope | undefined): Promise<LicenseKeyRecord> {
  const key = await q.key(licenseId);
  if (key === undefined || (scope !== undefined && key.siteNumber !== scope.siteNumber)) {
    throw new KeyCenterError(scope === undefined ? 'LICENSE_NOT_FOUND' : 'NOT_FOUND', `there is no license ${licenseId}${scope === undefined ? '' : ' in this account'}`, 'licenseId');
  }
  return key;
}

function alreadySuperseded(old: LicenseKeyRecord, successor: LicenseKeyRecord): KeyCenterError {
  return new KeyCenterError(
    'ALREADY_SUPERSEDED',
    `license ${old.licenseId} was already replaced by ${successor.licenseId} (lock codes ${successor.lockCodes.join(', ')}); a key is superseded once — use the newer key`,
    'licenseId',
  );
}

/**
 * Adds the seats of a code to the host an existing key serves: one new key
 * with the old key's seats plus the code's, superseding the old key.
 */
export async function addSeatsToHost(ctx: KeyCenterContext, request: AddSeatsRequest, options: IssueOptions): Promise<IssuedKey> {
  const authCode = checkAuthCode(request.authCode);
  const comment = optionalText(request.comment, 'comment', ACTIVATION_COMMENT_CHARS_MAX, 'comment');
  const nowMs = ctx.clock();
  return atomically(ctx.store, async (q) => {
    await q.lockEntitlement(authCode);
    const e = await entitlementFor(q, authCode, options.scope);
    refuseExpired(e, nowMs);
    const old = await keyInForce(q, request.licenseId, options.scope);
    const successor = await q.successorOf(old.licenseId);
    if (successor !== undefined) {
      // The same request again (a form sent twice): the key it made.
      if (successor.authCode === authCode && successor.activationNo !== null) return keyView(q, await currentOf(q, successor), nowMs);
      throw alreadySuperseded(old, successor);
    }
    const host = await q.entitlement(old.authCode);
    if (host === undefined) throw new Error(`assert: key ${old.licenseId} has no code`);
    refuseExpired(host, nowMs);
    if (old.siteNumber !== e.siteNumber || host.product !== e.product || host.version !== e.version || host.component !== e.component || host.model !== e.model || host.expiresAt !== e.expiresAt) {
      throw new KeyCenterError(
        'HOST_NOT_COMPATIBLE',
        `license ${old.licenseId} serves ${host.product}${host.component === null ? '' : `/${host.component}`} ${host.version} (${host.model}, ${host.expiresAt === null ? 'perpetual' : 'temporary'}); code ${authCode} must grant the same product, version, model and term to add its seats there`,
        'licenseId',
      );
    }
    const { seats, activationNo } = await seatsToTake(q, e, await q.keys({ authCode }), request.seats);
    return issueKey(
      q,
      ctx,
      nowMs,
      { entitlement: e, lockCodes: old.lockCodes, hostDescription: old.hostDescription, seats: old.seats + seats, seatsFromCode: seats, activationNo, supersedes: old, comment, action: 'add-seats' },
      options,
    );
  });
}

/** Moves a key to other lock codes: a new key with the same code, order and seats that supersedes it. */
export async function rehost(ctx: KeyCenterContext, request: RehostRequest, options: IssueOptions): Promise<IssuedKey> {
  const lockCodes = checkLockCodes(request.lockCodes);
  const hostDescription = optionalText(request.hostDescription, 'host description', HOST_DESCRIPTION_CHARS_MAX, 'hostDescription');
  const comment = optionalText(request.comment, 'comment', ACTIVATION_COMMENT_CHARS_MAX, 'comment');
  const nowMs = ctx.clock();
  return atomically(ctx.store, async (q) => {
    const old = await keyInForce(q, request.licenseId, options.scope);
    const successor = await q.successorOf(old.licenseId);
    if (successor !== undefined) {
      // The same rehost again (a retry after a lost answer): the key it made.
      if (successor.activationNo === null && sameLockCodes(successor.lockCodes, lockCodes)) return keyView(q, await currentOf(q, successor), nowMs);
      throw alreadySuperseded(old, successor);
    }
    const e = await q.entitlement(old.authCode);
    if (e === undefined) throw new Error(`assert: key ${old.licenseId} has no code`);
    refuseExpired(e, nowMs);
    return issueKey(
      q,
      ctx,
      nowMs,
      { entitlement: e, lockCodes, hostDescription: hostDescription ?? old.hostDescription, seats: old.seats, seatsFromCode: 0, activationNo: null, supersedes: old, comment, action: 'rehost' },
      options,
    );
  });
}
