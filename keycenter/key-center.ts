// The vendor's key center: creates entitlements (authorization codes) and
// activates them against customers' lock codes into signed license keys,
// keeping a record of both in a SQLite store. The rules are those of a
// vendor key center:
// - a concurrent code activates once; a second activation is refused and
//   names the key already issued;
// - an authorized-user code covers N named users, which may be split over
//   several activations (several sites) until all N are issued;
// - an activation names 1 lock code, or 3 distinct ones for a redundant
//   license (5 allowed);
// - a bundle yields one code per component; a temporary code carries its end;
// - mistyped codes are refused as typos, never taken for other codes.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { asc, eq, sql } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import type nacl from 'tweetnacl';
import {
  LICENSE_FORMAT_VERSION,
  featureNameSchema,
  formatVendorPublicKey,
  licenseModelSchema,
  parseLockCode,
  productVersionSchema,
  signLicenseKey,
  vendorKeyIdOf,
  type LicenseModel,
  type LicensePayload,
} from '../protocol/index.ts';
import { newAuthCode, newLicenseId, parseAuthCode } from './auth-code.ts';
import { KeyCenterError } from './key-center-error.ts';
import * as schema from './schema.ts';
import { createVendorKeyPair, hasVendorKey, loadVendorKeyPair } from './vendor-key.ts';

/** The store's file inside the key-center directory. */
export const STORE_FILE_NAME = 'keycenter.db';

/** Longest host description, characters (the payload's limit). */
export const HOST_DESCRIPTION_CHARS_MAX = 200;
/** Most components one bundle entitlement may name. */
export const COMPONENTS_PER_BUNDLE_MAX = 64;
/** Longest temporary license, days. */
export const TEMPORARY_DAYS_MAX = 36_500;
/**
 * How far before its issue a key's notBefore is set, ms: a server whose clock
 * runs a little behind the key center's must not find a fresh key "not yet valid".
 */
export const CLOCK_SKEW_ALLOWANCE_MS = 24 * 3600 * 1000;

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));
const DAY_MS = 24 * 3600 * 1000;

/** What `entitle` creates: one order line, or one per component of a bundle. */
export interface EntitleRequest {
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
  readonly orderNumber?: string | undefined;
  readonly comment?: string | undefined;
  /** `s` a checked-in seat stays with its last user; default 0. */
  readonly lingerSeconds?: number | undefined;
  /** Authorized-user model: hosts at once per named user; default 1. */
  readonly hostsPerUserMax?: number | undefined;
}

/** An authorization code and what it entitles. */
export interface Entitlement {
  readonly authCode: string;
  readonly product: string;
  readonly component: string | null;
  readonly version: string;
  readonly model: LicenseModel;
  readonly seats: number;
  readonly startsAt: number | null;
  readonly expiresAt: number | null;
  readonly lingerSeconds: number;
  readonly hostsPerUserMax: number;
  readonly orderNumber: string | null;
  readonly comment: string | null;
  readonly createdAt: number;
  /** Seats (named users) already issued in keys. */
  readonly seatsActivated: number;
}

export interface ActivateRequest {
  readonly authCode: string;
  /** 1 lock code, or 3 distinct ones for a redundant license (5 allowed). */
  readonly lockCodes: readonly string[];
  readonly hostDescription?: string | undefined;
  /** Authorized-user codes: how many of the remaining named users this key covers (default: all). */
  readonly seats?: number | undefined;
}

/** A license key the key center issued. */
export interface IssuedKey {
  readonly licenseId: string;
  readonly authCode: string;
  readonly product: string;
  readonly component: string | null;
  readonly version: string;
  readonly model: LicenseModel;
  readonly seats: number;
  readonly lockCodes: string[];
  readonly hostDescription: string | null;
  readonly expiresAt: number | null;
  readonly issuedAt: number;
  readonly keyText: string;
}

/** Keys issued to one host description. */
export interface HostKeys {
  readonly hostDescription: string | null;
  readonly keys: IssuedKey[];
}

export interface KeyCenterOptions {
  /** The time, ms since the Unix epoch (default Date.now). */
  readonly clock?: () => number;
}

type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

function bad(message: string): KeyCenterError {
  return new KeyCenterError('BAD_REQUEST', message);
}

function optionalText(value: string | undefined, what: string, charsMax: number): string | null {
  if (value === undefined) return null;
  // eslint-disable-next-line no-control-regex
  if (value.length > charsMax || /[\u0000-\u001f\u007f]/.test(value)) {
    throw bad(`the ${what} must be at most ${charsMax} characters on one line`);
  }
  return value === '' ? null : value;
}

function integerIn(value: number, min: number, max: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) throw bad(`${what} must be a whole number from ${min} to ${max}`);
  return value;
}

function wrapStoreError(error: unknown, what: string): never {
  if (error instanceof KeyCenterError) throw error;
  throw new KeyCenterError('STORE_UNUSABLE', `${what}: ${error instanceof Error ? error.message : String(error)}`);
}

function openDb(path: string, create: boolean): Db {
  const client = new Database(path, { fileMustExist: !create });
  try {
    client.pragma('journal_mode = WAL');
    client.pragma('synchronous = FULL');
    client.pragma('foreign_keys = ON');
    client.pragma('busy_timeout = 5000');
    const db = drizzle({ client, schema });
    migrate(db, { migrationsFolder: MIGRATIONS_DIR });
    return db;
  } catch (error) {
    client.close();
    throw error;
  }
}

/**
 * Creates a key center in `dir`: a vendor key pair and an empty issuing store.
 * Refuses (ALREADY_INITIALIZED) where one exists. Answers the public key text.
 */
export function initKeyCenter(dir: string): string {
  if (hasVendorKey(dir)) {
    throw new KeyCenterError('ALREADY_INITIALIZED', `${dir} already holds a vendor key; it is never replaced`);
  }
  let keyPair: nacl.SignKeyPair;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    openDb(join(dir, STORE_FILE_NAME), true).$client.close();
    keyPair = createVendorKeyPair(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new KeyCenterError('ALREADY_INITIALIZED', `${dir} already holds a vendor key; it is never replaced`);
    }
    wrapStoreError(error, `cannot create a key center in ${dir}`);
  }
  return formatVendorPublicKey(keyPair.publicKey);
}

/** The vendor public key text of the key center in `dir`, without opening its store. */
export function readVendorPublicKey(dir: string): string {
  return formatVendorPublicKey(loadVendorKeyPair(dir).publicKey);
}

/** An open key center. Call close() when done. */
export class KeyCenter {
  /** The vendor public key, as customers' servers are configured with it. */
  readonly publicKeyText: string;
  readonly vendorKeyId: string;

  private constructor(
    private readonly db: Db,
    private readonly keyPair: nacl.SignKeyPair,
    private readonly clock: () => number,
  ) {
    this.publicKeyText = formatVendorPublicKey(keyPair.publicKey);
    this.vendorKeyId = vendorKeyIdOf(keyPair.publicKey);
  }

  /** Opens the key center in `dir`; NOT_INITIALIZED when there is none. */
  static open(dir: string, options: KeyCenterOptions = {}): KeyCenter {
    const keyPair = loadVendorKeyPair(dir);
    let db: Db;
    try {
      db = openDb(join(dir, STORE_FILE_NAME), false);
    } catch (error) {
      wrapStoreError(error, `cannot open the issuing store in ${dir}`);
    }
    return new KeyCenter(db, keyPair, options.clock ?? Date.now);
  }

  close(): void {
    this.db.$client.close();
  }

  /** Creates the authorization code(s) of one order line: one, or one per bundle component. */
  entitle(request: EntitleRequest): Entitlement[] {
    const nowMs = this.clock();
    const product = featureNameSchema.safeParse(request.product);
    if (!product.success) throw bad(`"${String(request.product).slice(0, 80)}" is not a product name (letters, digits, dot, dash, underscore)`);
    const version = productVersionSchema.safeParse(request.version);
    if (!version.success) throw bad(`"${String(request.version).slice(0, 40)}" is not a version (dot-separated numbers such as 29 or 2024.1)`);
    const model = licenseModelSchema.safeParse(request.model);
    if (!model.success) throw bad('the model is concurrent or authorized-user');
    const seats = integerIn(request.seats, 1, 1_000_000, model.data === 'concurrent' ? 'seats' : 'named users');
    const components = [...(request.components ?? [])];
    if (components.length > COMPONENTS_PER_BUNDLE_MAX) throw bad(`a bundle has at most ${COMPONENTS_PER_BUNDLE_MAX} components`);
    for (const c of components) {
      if (!featureNameSchema.safeParse(c).success) throw bad(`"${c.slice(0, 80)}" is not a component name`);
    }
    if (new Set(components).size !== components.length) throw bad('a bundle names each component once');
    const startsAt = request.startsAt ?? null;
    if (startsAt !== null) integerIn(startsAt, 0, 8_640_000_000_000_000, 'the start');
    if (request.days !== undefined && request.expiresAt !== undefined) throw bad('give --days or --expires, not both');
    let expiresAt: number | null = null;
    if (request.days !== undefined) {
      expiresAt = (startsAt ?? nowMs) + integerIn(request.days, 1, TEMPORARY_DAYS_MAX, 'days') * DAY_MS;
    } else if (request.expiresAt !== undefined) {
      expiresAt = integerIn(request.expiresAt, 0, 8_640_000_000_000_000, 'the end');
      if (expiresAt <= nowMs) throw bad(`the end date ${new Date(expiresAt).toISOString()} is already past`);
    }
    if (expiresAt !== null && startsAt !== null && expiresAt <= startsAt) throw bad('the end date must come after the start date');
    const rows = (components.length === 0 ? [null] : components).map((component) => ({
      authCode: newAuthCode(),
      product: product.data,
      component,
      version: version.data,
      model: model.data,
      seats,
      startsAt,
      expiresAt,
      lingerSeconds: integerIn(request.lingerSeconds ?? 0, 0, 7 * 24 * 3600, 'linger seconds'),
      hostsPerUserMax: integerIn(request.hostsPerUserMax ?? 1, 1, 64, 'hosts per user'),
      orderNumber: optionalText(request.orderNumber, 'order number', 64),
      comment: optionalText(request.comment, 'comment', 500),
      createdAt: nowMs,
    }));
    try {
      this.db.insert(schema.entitlements).values(rows).run();
    } catch (error) {
      wrapStoreError(error, 'cannot record the entitlement');
    }
    return rows.map((r) => ({ ...r, seatsActivated: 0 }));
  }

  /** Activates an authorization code against lock codes into a signed license key. */
  activate(request: ActivateRequest): IssuedKey {
    const code = parseAuthCode(request.authCode);
    if (!code.ok) throw new KeyCenterError(code.problem === 'TYPO' ? 'AUTH_CODE_TYPO' : 'AUTH_CODE_MALFORMED', code.message);
    const count = request.lockCodes.length;
    if (count !== 1 && count !== 3 && count !== 5) {
      throw new KeyCenterError(
        'LOCK_CODE_COUNT',
        `an activation names 1 lock code, or 3 for a redundant license (5 allowed); ${count} given`,
      );
    }
    const lockCodes: string[] = [];
    for (const input of request.lockCodes) {
      const lock = parseLockCode(input);
      if (!lock.ok) throw new KeyCenterError(lock.problem === 'TYPO' ? 'LOCK_CODE_TYPO' : 'LOCK_CODE_MALFORMED', lock.message);
      if (lockCodes.includes(lock.code)) {
        throw new KeyCenterError('DUPLICATE_LOCK_CODE', `lock code ${lock.code} is given twice; a redundant license names ${count} different servers`);
      }
      lockCodes.push(lock.code);
    }
    const hostDescription = optionalText(request.hostDescription, 'host description', HOST_DESCRIPTION_CHARS_MAX);
    const nowMs = this.clock();
    try {
      return this.db.transaction(
        (tx) => {
          const entitlement = tx.select().from(schema.entitlements).where(eq(schema.entitlements.authCode, code.code)).get();
          if (entitlement === undefined) {
            throw new KeyCenterError('UNKNOWN_AUTH_CODE', `authorization code ${code.code} was not issued by this key center`);
          }
          if (entitlement.expiresAt !== null && entitlement.expiresAt <= nowMs) {
            throw new KeyCenterError(
              'ENTITLEMENT_EXPIRED',
              `authorization code ${code.code} is a temporary license that ended ${new Date(entitlement.expiresAt).toISOString()}`,
            );
          }
          const earlier = tx.select().from(schema.licenseKeys).where(eq(schema.licenseKeys.authCode, code.code)).all();
          const seatsActivated = earlier.reduce((sum, k) => sum + k.seats, 0);
          let seats = entitlement.seats;
          if (entitlement.model === 'concurrent') {
            const first = earlier[0];
            if (first !== undefined) {
              throw new KeyCenterError(
                'ALREADY_ACTIVATED',
                `authorization code ${code.code} was already activated as license ${first.licenseId} (lock codes ${(JSON.parse(first.lockCodes) as string[]).join(', ')}); a concurrent code activates once`,
              );
            }
            if (request.seats !== undefined && request.seats !== entitlement.seats) {
              throw bad(`a concurrent code activates all its ${entitlement.seats} seats at once`);
            }
          } else {
            const remaining = entitlement.seats - seatsActivated;
            if (remaining <= 0) {
              throw new KeyCenterError(
                'SEATS_EXHAUSTED',
                `all ${entitlement.seats} named users of authorization code ${code.code} are issued, in ${earlier.map((k) => k.licenseId).join(', ')}`,
              );
            }
            seats = request.seats === undefined ? remaining : integerIn(request.seats, 1, remaining, 'named users for this key');
          }
          const licenseId = newLicenseId();
          const payload: LicensePayload = {
            v: LICENSE_FORMAT_VERSION,
            licenseId,
            authCode: code.code,
            vendorKeyId: this.vendorKeyId,
            product: entitlement.product,
            version: entitlement.version,
            model: entitlement.model,
            seats,
            components: entitlement.component === null ? [] : [entitlement.component],
            issuedAt: nowMs,
            notBefore: entitlement.startsAt ?? Math.max(0, nowMs - CLOCK_SKEW_ALLOWANCE_MS),
            ...(entitlement.expiresAt === null ? {} : { expiresAt: entitlement.expiresAt }),
            lockCodes,
            lingerSeconds: entitlement.lingerSeconds,
            hostsPerUserMax: entitlement.hostsPerUserMax,
            ...(hostDescription === null ? {} : { hostDescription }),
            ...(entitlement.orderNumber === null ? {} : { orderNumber: entitlement.orderNumber }),
            ...(entitlement.comment === null ? {} : { comment: entitlement.comment }),
          };
          const keyText = signLicenseKey(payload, this.keyPair.secretKey);
          tx.insert(schema.licenseKeys)
            .values({ licenseId, authCode: code.code, lockCodes: JSON.stringify(lockCodes), hostDescription, seats, keyText, issuedAt: nowMs })
            .run();
          return {
            licenseId,
            authCode: code.code,
            product: entitlement.product,
            component: entitlement.component,
            version: entitlement.version,
            model: entitlement.model,
            seats,
            lockCodes,
            hostDescription,
            expiresAt: entitlement.expiresAt,
            issuedAt: nowMs,
            keyText,
          };
        },
        { behavior: 'immediate' },
      );
    } catch (error) {
      wrapStoreError(error, 'cannot record the activation');
    }
  }

  /** Every authorization code, oldest first, with how many seats are issued. */
  listEntitlements(): Entitlement[] {
    const issued = new Map<string, number>();
    for (const k of this.db.select().from(schema.licenseKeys).all()) issued.set(k.authCode, (issued.get(k.authCode) ?? 0) + k.seats);
    return this.db
      .select()
      .from(schema.entitlements)
      .orderBy(asc(schema.entitlements.createdAt), asc(schema.entitlements.authCode))
      .all()
      .map((e) => ({ ...e, seatsActivated: issued.get(e.authCode) ?? 0 }));
  }

  /** Every issued key, oldest first. */
  listKeys(): IssuedKey[] {
    return this.db
      .select()
      .from(schema.licenseKeys)
      .innerJoin(schema.entitlements, eq(schema.licenseKeys.authCode, schema.entitlements.authCode))
      // Issue order: keys issued in the same millisecond keep the order they were activated in.
      .orderBy(asc(schema.licenseKeys.issuedAt), sql`"license_keys"."rowid"`)
      .all()
      .map(({ license_keys: k, entitlements: e }) => ({
        licenseId: k.licenseId,
        authCode: k.authCode,
        product: e.product,
        component: e.component,
        version: e.version,
        model: e.model,
        seats: k.seats,
        lockCodes: JSON.parse(k.lockCodes) as string[],
        hostDescription: k.hostDescription,
        expiresAt: e.expiresAt,
        issuedAt: k.issuedAt,
        keyText: k.keyText,
      }));
  }

  /** Issued keys grouped by host description (keys without one last). */
  keysByHost(): HostKeys[] {
    const groups = new Map<string | null, IssuedKey[]>();
    for (const key of this.listKeys()) {
      const group = groups.get(key.hostDescription) ?? [];
      group.push(key);
      groups.set(key.hostDescription, group);
    }
    return [...groups.entries()]
      .sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : a.localeCompare(b)))
      .map(([hostDescription, keys]) => ({ hostDescription, keys }));
  }
}
