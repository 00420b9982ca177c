// The vendor's key center: a directory holding the vendor key pair, the
// optional config file and (by default) the SQLite store; with a database URL
// (--database or `database` in the config) the store is PostgreSQL instead,
// which several instances share. KeyCenter.open()
// builds the context every rule works with; the CLI, the portal and the JSON
// API all go through the same rule functions (activation.ts, accounts.ts,
// code-generation.ts, members.ts, member-auth.ts), so each rule exists once.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type nacl from 'tweetnacl';
import { formatVendorPublicKey, vendorKeyIdOf } from '../protocol/index.ts';
import { activate, addSeatsToHost, rehost, type ActivateRequest, type AddSeatsRequest, type IssueOptions, type RehostRequest } from './activation.ts';
import { entitle, seatsActivatedByCode, type Entitlement, type EntitleRequest } from './entitlement.ts';
import { describeKey, describeKeys, hostsOf, type IssuedKey, type LicenseHost } from './issued-key.ts';
import { loadKeyCenterConfig, type KeyCenterConfig } from './key-center-config.ts';
import type { AccountScope, Actor, KeyCenterContext } from './key-center-context.ts';
import { KeyCenterError } from './key-center-error.ts';
import { DEFAULT_RATE_LIMITS, type RateLimits } from './rate-limits.ts';
import type { KeyCenterStore, OwnedFilter } from './store/key-center-store.ts';
import { isPostgresUrl, openPostgresStore, redactedDatabaseUrl } from './store/postgres-store.ts';
import { openSqliteStore } from './store/sqlite-store.ts';
import { createVendorKeyPair, hasVendorKey, loadVendorKeyPair } from './vendor-key.ts';

export { CLOCK_SKEW_ALLOWANCE_MS, HOST_DESCRIPTION_CHARS_MAX } from './activation.ts';
export { COMPONENTS_PER_BUNDLE_MAX, TEMPORARY_DAYS_MAX } from './entitlement.ts';

/** The SQLite store's file inside the key-center directory. */
export const STORE_FILE_NAME = 'keycenter.db';

export interface KeyCenterOptions {
  /** The time, ms since the Unix epoch (default Date.now). */
  readonly clock?: (() => number) | undefined;
  /** The store (default: the database URL's, else SQLite in the directory). */
  readonly store?: KeyCenterStore | undefined;
  /** postgres://… : the store is on that PostgreSQL database (default: the config's `database`, else SQLite in the directory). */
  readonly databaseUrl?: string | undefined;
  /** The config (default: DIR/keycenter.toml, or the defaults). */
  readonly config?: KeyCenterConfig | undefined;
  /** Tighter or looser limits (tests). */
  readonly rateLimits?: Partial<RateLimits> | undefined;
}

function wrapStoreError(error: unknown, what: string): never {
  if (error instanceof KeyCenterError) throw error;
  throw new KeyCenterError('STORE_UNUSABLE', `${what}: ${error instanceof Error ? error.message : String(error)}`);
}

/**
 * Creates a key center in `dir`: a vendor key pair and an empty issuing store
 * (SQLite in `dir`; with `withSqliteStore: false` none, for a key center whose
 * store is PostgreSQL: KeyCenter.open() migrates it). Refuses
 * (ALREADY_INITIALIZED) where one exists. Answers the public key text.
 */
export function initKeyCenter(dir: string, options: { readonly withSqliteStore?: boolean } = {}): string {
  if (hasVendorKey(dir)) {
    throw new KeyCenterError('ALREADY_INITIALIZED', `${dir} already holds a vendor key; it is never replaced`);
  }
  let keyPair: nacl.SignKeyPair;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Closing right away: the store's migrations ran; the connection is not needed.
    if (options.withSqliteStore !== false) void openSqliteStore(join(dir, STORE_FILE_NAME), true).close();
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
    /** What every rule function takes. */
    readonly ctx: KeyCenterContext,
    /** The key-center directory. */
    readonly dir: string,
    publicKey: Uint8Array,
    /** Where the store is, for logs ("SQLite KC/keycenter.db", "PostgreSQL postgres://kc:***@db/keys"). */
    readonly storeDescription: string,
  ) {
    this.publicKeyText = formatVendorPublicKey(publicKey);
    this.vendorKeyId = vendorKeyIdOf(publicKey);
  }

  /** Opens the key center in `dir`; NOT_INITIALIZED when there is none. */
  static async open(dir: string, options: KeyCenterOptions = {}): Promise<KeyCenter> {
    const keyPair = loadVendorKeyPair(dir);
    const config = options.config ?? loadKeyCenterConfig(dir);
    const databaseUrl = options.databaseUrl ?? config.database;
    if (databaseUrl !== undefined && !isPostgresUrl(databaseUrl)) {
      throw new KeyCenterError('CONFIG_INVALID', 'a database URL starts with postgres:// (without one the store is SQLite in the key-center directory)', 'database');
    }
    let store = options.store;
    if (store === undefined) {
      try {
        store = databaseUrl === undefined ? openSqliteStore(join(dir, STORE_FILE_NAME), false) : await openPostgresStore(databaseUrl);
      } catch (error) {
        wrapStoreError(error, databaseUrl === undefined ? `cannot open the issuing store in ${dir}` : `cannot open the issuing store at ${redactedDatabaseUrl(databaseUrl)}`);
      }
    }
    const ctx: KeyCenterContext = {
      store,
      clock: options.clock ?? Date.now,
      signer: { secretKey: keyPair.secretKey, vendorKeyId: vendorKeyIdOf(keyPair.publicKey) },
      config,
      rateLimits: { ...DEFAULT_RATE_LIMITS, ...options.rateLimits },
    };
    return new KeyCenter(ctx, dir, keyPair.publicKey, databaseUrl === undefined ? `SQLite ${join(dir, STORE_FILE_NAME)}` : `PostgreSQL ${redactedDatabaseUrl(databaseUrl)}`);
  }

  close(): Promise<void> {
    return this.ctx.store.close();
  }

  /** Creates the vendor's direct authorization code(s): one, or one per bundle component. */
  entitle(request: EntitleRequest, actor: Actor = 'cli'): Promise<Entitlement[]> {
    return entitle(this.ctx, request, actor);
  }

  /** Activates an authorization code against lock codes into a signed license key. */
  activate(request: ActivateRequest, options: IssueOptions = { actor: 'cli' }): Promise<IssuedKey> {
    return activate(this.ctx, request, options);
  }

  /** A key for other lock codes, superseding `request.licenseId` (same code, order and seats). */
  rehost(request: RehostRequest, options: IssueOptions = { actor: 'cli' }): Promise<IssuedKey> {
    return rehost(this.ctx, request, options);
  }

  /** Adds a code's seats to the host a key serves; the new key supersedes that key. */
  addSeatsToHost(request: AddSeatsRequest, options: IssueOptions): Promise<IssuedKey> {
    return addSeatsToHost(this.ctx, request, options);
  }

  /** Authorization codes (all, or an account's, an order's, a line's), oldest first, with the seats issued. */
  async listEntitlements(filter: OwnedFilter = {}): Promise<Entitlement[]> {
    return this.ctx.store.read(async (q) => {
      const issued = seatsActivatedByCode(await q.keys(filter));
      return (await q.entitlements(filter)).map((e) => ({ ...e, seatsActivated: issued.get(e.authCode) ?? 0 }));
    });
  }

  /** Issued keys (all, or an account's, an order's, a code's), oldest first, with status and supersede links. */
  async listKeys(filter: OwnedFilter = {}): Promise<IssuedKey[]> {
    const nowMs = this.ctx.clock();
    // Supersede links stay within an account, so an account's keys (or all) hold every successor.
    const scope = { siteNumber: filter.siteNumber };
    const [keys, entitlements] = await this.ctx.store.read(async (q) => [await q.keys(scope), await q.entitlements(scope)] as const);
    return describeKeys(keys, entitlements, nowMs).filter(
      (k) =>
        (filter.orderId === undefined || k.orderId === filter.orderId) &&
        (filter.authCode === undefined || k.authCode === filter.authCode) &&
        (filter.lineId === undefined || entitlements.find((e) => e.authCode === k.authCode)?.lineId === filter.lineId),
    );
  }

  /** Issued keys grouped by host (set of lock codes). */
  async keysByHost(filter: OwnedFilter = {}): Promise<LicenseHost[]> {
    return hostsOf(await this.listKeys(filter));
  }

  /** One key; LICENSE_NOT_FOUND, or NOT_FOUND for a key outside the member's account. */
  async key(licenseId: string, scope?: AccountScope): Promise<IssuedKey> {
    const nowMs = this.ctx.clock();
    const key = await this.ctx.store.read(async (q) => {
      const k = await q.key(licenseId);
      if (k === undefined || (scope !== undefined && k.siteNumber !== scope.siteNumber)) return undefined;
      return describeKey(k, await q.entitlement(k.authCode), (await q.successorOf(licenseId))?.licenseId ?? null, nowMs);
    });
    if (key === undefined) {
      throw new KeyCenterError(scope === undefined ? 'LICENSE_NOT_FOUND' : 'NOT_FOUND', `there is no license ${licenseId}${scope === undefined ? '' : ' in this account'}`, 'licenseId');
    }
    return key;
  }
}
