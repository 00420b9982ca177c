// Entitlements: what a product line grants (product, version, model, seats,
// bundle components, term), checked once here for both the vendor's direct
// codes (`floe keycenter entitle`) and order lines, and the vendor's direct
// codes themselves.
import {
  BORROW_HOURS_DEFAULT,
  BORROW_HOURS_MAX,
  featureNameSchema,
  licenseModelSchema,
  productVersionSchema,
  type LicenseModel,
} from '../protocol/index.ts';
import { newAuthCode } from './auth-code.ts';
import { atomically } from './atomically.ts';
import { recordAudit } from './audit-trail.ts';
import { bad, integerIn, optionalText } from './input-checks.ts';
import { KeyCenterError } from './key-center-error.ts';
import type { Actor, KeyCenterContext } from './key-center-context.ts';
import type { EntitlementRecord, LicenseKeyRecord } from './store/key-center-store.ts';

/** Most components one bundle entitlement may name. */
export const COMPONENTS_PER_BUNDLE_MAX = 64;
/** Longest temporary license, days. */
export const TEMPORARY_DAYS_MAX = 36_500;
/** Most seats (or named users) of one line or code. */
export const SEATS_MAX = 1_000_000;
/** Latest instant a date may name, ms since the Unix epoch (JavaScript's Date limit). */
export const EPOCH_MS_MAX = 8_640_000_000_000_000;

const DAY_MS = 24 * 3600 * 1000;

/** What a product line grants: one order line, or one `entitle` of the vendor. */
export interface LineSpec {
  readonly product: string;
  readonly version: string;
  readonly model: LicenseModel;
  /** Concurrent seats, or named users for the authorized-user model. */
  readonly seats: number;
  /** Bundle components: one authorization code each. */
  readonly components?: readonly string[] | undefined;
  /** Temporary license: days from its start (or from now). */
  readonly days?: number | undefined;
  /** Temporary license: end instant, ms since the Unix epoch. */
  readonly expiresAt?: number | undefined;
  /** Seats are not in force before this instant, ms since the Unix epoch. */
  readonly startsAt?: number | undefined;
  /** `s` a checked-in seat stays with its last user; default 0. */
  readonly lingerSeconds?: number | undefined;
  /** Authorized-user model: hosts at once per named user; default 1. */
  readonly hostsPerUserMax?: number | undefined;
  /**
   * Borrowing (FlexNet's BORROW, RLM's roaming, Sentinel's commuter licenses):
   * a client may take a seat offline. Default false; true with no
   * borrowHoursMax allows BORROW_HOURS_DEFAULT hours.
   */
  readonly borrowAllowed?: boolean | undefined;
  /** `h`: the longest borrow; giving it allows borrowing. */
  readonly borrowHoursMax?: number | undefined;
}

/** A LineSpec checked and normalized. */
export interface CheckedLine {
  readonly product: string;
  readonly version: string;
  readonly model: LicenseModel;
  readonly seats: number;
  readonly components: string[];
  readonly startsAt: number | null;
  readonly expiresAt: number | null;
  readonly lingerSeconds: number;
  readonly hostsPerUserMax: number;
  /** `h`: the longest borrow its keys allow; null: not borrowable. */
  readonly borrowHoursMax: number | null;
}

/** What `entitle` creates: one line's code, or one per component of a bundle. */
export interface EntitleRequest extends LineSpec {
  readonly orderNumber?: string | undefined;
  readonly comment?: string | undefined;
}

/** An authorization code and what it entitles. */
export interface Entitlement extends EntitlementRecord {
  /** Seats (named users) already issued in keys. */
  readonly seatsActivated: number;
}

/** Checks a product line; BAD_REQUEST naming the first problem. `field` prefixes the field names. */
export function checkLine(spec: LineSpec, nowMs: number, field = ''): CheckedLine {
  const product = featureNameSchema.safeParse(spec.product);
  if (!product.success) throw bad(`"${String(spec.product).slice(0, 80)}" is not a product name (letters, digits, dot, dash, underscore)`, `${field}product`);
  const version = productVersionSchema.safeParse(spec.version);
  if (!version.success) throw bad(`"${String(spec.version).slice(0, 40)}" is not a version (dot-separated numbers such as 29 or 2024.1)`, `${field}version`);
  const model = licenseModelSchema.safeParse(spec.model);
  if (!model.success) throw bad('the model is concurrent or authorized-user', `${field}model`);
  const seats = integerIn(spec.seats, 1, SEATS_MAX, model.data === 'concurrent' ? 'seats' : 'named users', `${field}seats`);
  const components = [...(spec.components ?? [])];
  if (components.length > COMPONENTS_PER_BUNDLE_MAX) throw bad(`a bundle has at most ${COMPONENTS_PER_BUNDLE_MAX} components`, `${field}components`);
  for (const c of components) {
    if (!featureNameSchema.safeParse(c).success) throw bad(`"${String(c).slice(0, 80)}" is not a component name`, `${field}components`);
  }
  if (new Set(components).size !== components.length) throw bad('a bundle names each component once', `${field}components`);
  const startsAt = spec.startsAt ?? null;
  if (startsAt !== null) integerIn(startsAt, 0, EPOCH_MS_MAX, 'the start', `${field}startsAt`);
  if (spec.days !== undefined && spec.expiresAt !== undefined) throw bad('give --days or --expires, not both', `${field}expiresAt`);
  let expiresAt: number | null = null;
  if (spec.days !== undefined) {
    expiresAt = (startsAt ?? nowMs) + integerIn(spec.days, 1, TEMPORARY_DAYS_MAX, 'days', `${field}days`) * DAY_MS;
  } else if (spec.expiresAt !== undefined) {
    expiresAt = integerIn(spec.expiresAt, 0, EPOCH_MS_MAX, 'the end', `${field}expiresAt`);
    if (expiresAt <= nowMs) throw bad(`the end date ${new Date(expiresAt).toISOString()} is already past`, `${field}expiresAt`);
  }
  if (expiresAt !== null && startsAt !== null && expiresAt <= startsAt) throw bad('the end date must come after the start date', `${field}expiresAt`);
  return {
    product: product.data,
    version: version.data,
    model: model.data,
    seats,
    components,
    startsAt,
    expiresAt,
    lingerSeconds: integerIn(spec.lingerSeconds ?? 0, 0, 7 * 24 * 3600, 'linger seconds', `${field}lingerSeconds`),
    hostsPerUserMax: integerIn(spec.hostsPerUserMax ?? 1, 1, 64, 'hosts per user', `${field}hostsPerUserMax`),
    borrowHoursMax: checkBorrow(spec, field),
  };
}

/** The longest borrow a line allows, hours; null when it allows none. */
function checkBorrow(spec: LineSpec, field: string): number | null {
  if (spec.borrowHoursMax === undefined) return spec.borrowAllowed === true ? BORROW_HOURS_DEFAULT : null;
  if (spec.borrowAllowed === false) throw bad('a borrow period needs borrowing allowed', `${field}borrowHoursMax`);
  return integerIn(spec.borrowHoursMax, 1, BORROW_HOURS_MAX, 'borrow hours', `${field}borrowHoursMax`);
}

/**
 * Seats (named users) of a code still to activate: a concurrent code's seats
 * while it has activations left (one, unless support raised it), an
 * authorized-user code's users not yet in a key.
 */
export function seatsLeft(e: Entitlement): number {
  if (e.model === 'concurrent') return e.seatsActivated < e.seats * e.activationsMax ? e.seats : 0;
  return e.seats - e.seatsActivated;
}

/** Seats each code has issued in keys (its activations' seats; rehosts take none). */
export function seatsActivatedByCode(keys: readonly LicenseKeyRecord[]): Map<string, number> {
  const issued = new Map<string, number>();
  for (const k of keys) issued.set(k.authCode, (issued.get(k.authCode) ?? 0) + k.seatsFromCode);
  return issued;
}

/** Creates the vendor's direct authorization code(s), outside any account: one, or one per bundle component. */
export async function entitle(ctx: KeyCenterContext, request: EntitleRequest, actor: Actor): Promise<Entitlement[]> {
  const nowMs = ctx.clock();
  const line = checkLine(request, nowMs);
  const orderNumber = optionalText(request.orderNumber, 'order number', 64, 'orderNumber');
  const comment = optionalText(request.comment, 'comment', 500, 'comment');
  const rows: EntitlementRecord[] = (line.components.length === 0 ? [null] : line.components).map((component) => ({
    authCode: newAuthCode(),
    product: line.product,
    component,
    version: line.version,
    model: line.model,
    seats: line.seats,
    startsAt: line.startsAt,
    expiresAt: line.expiresAt,
    lingerSeconds: line.lingerSeconds,
    hostsPerUserMax: line.hostsPerUserMax,
    borrowHoursMax: line.borrowHoursMax,
    orderNumber,
    comment,
    createdAt: nowMs,
    siteNumber: null,
    orderId: null,
    lineId: null,
    allocationId: null,
    activationsMax: 1,
  }));
  await atomically(ctx.store, async (q) => {
    await q.insertEntitlements(rows);
    await recordAudit(q, nowMs, actor, 'entitle', { target: rows.map((r) => r.authCode).join(' ') }, { product: line.product, version: line.version, seats: line.seats });
  });
  return rows.map((r) => ({ ...r, seatsActivated: 0 }));
}

/** Lets a concurrent code be activated once more (support, e.g. a server lost with no way to rehost). Audited. */
export async function raiseActivations(ctx: KeyCenterContext, authCode: string, by: number, actor: Actor): Promise<Entitlement> {
  integerIn(by, 1, 100, 'the added activations', 'by');
  const nowMs = ctx.clock();
  return atomically(ctx.store, async (q) => {
    const e = await q.entitlement(authCode);
    if (e === undefined) throw new KeyCenterError('UNKNOWN_AUTH_CODE', `authorization code ${authCode} was not issued by this key center`);
    if (e.model !== 'concurrent') throw bad(`code ${authCode} is an authorized-user code: its named users, not its activations, are the limit`, 'authCode');
    const activationsMax = e.activationsMax + by;
    await q.setActivationsMax(authCode, activationsMax);
    await recordAudit(q, nowMs, actor, 'raise-activations', { siteNumber: e.siteNumber, target: authCode }, { from: e.activationsMax, to: activationsMax });
    const keys = await q.keys({ authCode });
    return { ...e, activationsMax, seatsActivated: seatsActivatedByCode(keys).get(authCode) ?? 0 };
  });
}
