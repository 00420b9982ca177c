// Licensing on one node: verifies key texts (signature, dates, lock code)
// before they are proposed, installs the config's license files when this
// node takes office, and gates client checkouts under the installed keys'
// lock codes (license-locks.ts). A refused checkout proposes nothing; a retry
// of a request the pool already answered still gets that first answer.
import { readFileSync } from 'node:fs';
import { findSession, hasLicense, rememberedReply, requestKey, retiredLicense, type ApplyResult, type LicenseProvenance, type PoolReply, type PoolState } from '../pool/index.ts';
import { ProposalError } from '../raft-driver/index.ts';
import type { UnstampedCommand } from './command-codec.ts';
import { checkLicenseKey, parseVendorKeys, supersededRefusal, type LicenseCheck } from './license-check.ts';
import {
  LicenseLocks,
  LicenseRefusalError,
  type DuplicateLockCode,
  type KeyLockState,
  type LicenseRefusal,
  type LockGate,
  type MemberLockCode,
  type PeerLockState,
} from './license-locks.ts';

/** What NodeLicenses needs of its node. */
export interface NodeLicensesHost {
  /** This node's id (names it among the members presenting a duplicated lock code). */
  readonly nodeId: string;
  /** Vendor public key texts ("ed25519:…"); an unreadable one throws at construction. */
  readonly vendorPublicKeys: readonly string[];
  /** This node's lock codes as it states them (formatNodeLockCodes, or one code); undefined skips the check and serves everything (tests). */
  readonly lockCode: string | undefined;
  /** The peers' stated lock codes and whether each is connected now. */
  readonly peerLockCodes: (() => ReadonlyMap<string, PeerLockState>) | undefined;
  /** The node's current pool state (replaced wholesale by a snapshot install). */
  readonly pool: () => PoolState;
  /** The node's propose(): forwards to the leader on a follower. */
  readonly propose: (command: UnstampedCommand, audit?: { readonly actor: string }) => Promise<ApplyResult>;
  /** The node's readBarrier(): rejects with ProposalError when no leader confirms. */
  readonly readBarrier: () => Promise<void>;
  /** The leader's id as this node knows it; '' when none. */
  readonly leaderId: () => string;
  /** `ms` since the epoch. */
  readonly clock: () => number;
  readonly log: (line: string) => void;
}

/** What an import answers: the installed license, or a refusal code. */
export type ImportResult =
  | { ok: true; licenseId: string; features: string[]; supersededLicenseId?: string }
  | { ok: false; code: string; message: string };

/** Key checks, key installs and the checkout gate of one node. */
export class NodeLicenses {
  private readonly host: NodeLicensesHost;
  private readonly vendorKeys: Uint8Array[];
  /** Which features this node may serve under the installed keys' lock codes. */
  private readonly locks: LicenseLocks;

  constructor(host: NodeLicensesHost) {
    this.host = host;
    this.locks = new LicenseLocks(host.lockCode, host.peerLockCodes, {
      nodeId: host.nodeId,
      onDuplicates: (duplicates) => {
        for (const d of duplicates) {
          host.log(`${d.code}: members ${d.members.join(', ')} present one lock code (${d.lockCode}); none of them counts for any license key until one is replaced`);
        }
      },
    });
    this.vendorKeys = parseVendorKeys(host.vendorPublicKeys);
  }

  /** Recomputes the locks from `pool`'s licenses: call after a license change or a snapshot install. */
  refresh(pool: PoolState): void {
    this.locks.refresh(pool);
  }

  /**
   * Verifies a license key for this node (signature, dates, lock code) and
   * against the licenses the cluster retired as this node applied them
   * (SUPERSEDED); the pool checks that again when it applies the install.
   */
  check(keyText: unknown): LicenseCheck {
    const check = checkLicenseKey(keyText, { vendorKeys: this.vendorKeys, lockCode: this.host.lockCode, nowMs: this.host.clock() });
    if (!check.ok) return check;
    const superseded = supersededRefusal(this.host.pool(), check.license.licenseId);
    return superseded === undefined ? check : { ok: false, ...superseded };
  }

  /**
   * Verifies `keyText`, then proposes its install (an admin's import: a
   * license an admin removed comes back); a refused key answers its code and
   * changes nothing. `supersededLicenseId`: the installed key it replaced.
   * `audit`: the admin token that asked (the audit log records it);
   * `provenance`: the key center it came from, recorded with the license.
   */
  async import(keyText: unknown, audit?: { readonly actor: string }, provenance?: LicenseProvenance): Promise<ImportResult> {
    const check = this.check(keyText);
    if (!check.ok) return check;
    const result = await this.host.propose({ type: 'license-install', license: check.license, ...(provenance === undefined ? {} : { provenance }) }, audit);
    const reply = result.reply;
    if (!reply.ok) return { ok: false, code: reply.code, message: reply.message };
    if (reply.type !== 'license-installed') throw new Error(`assert: license-install answered ${reply.type}`);
    return {
      ok: true,
      licenseId: reply.licenseId,
      features: [...new Set(reply.pools.map((p) => p.feature))],
      ...(reply.supersededLicenseId === undefined ? {} : { supersededLicenseId: reply.supersededLicenseId }),
    };
  }

  /**
   * Installs each of `files` not installed yet (a new leader taking office);
   * an unreadable or refused file is logged and skipped, and so is a license
   * an admin removed (the removal is replicated state and outlives the
   * config: an admin's import brings the license back). Rejects as
   * propose() does.
   */
  async installFiles(files: readonly string[]): Promise<void> {
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        this.host.log(`license file ${file}: ${(error as Error).message}`);
        continue;
      }
      const check = this.check(text);
      if (!check.ok) {
        this.host.log(`license file ${file}: ${check.code}: ${check.message}`);
        continue;
      }
      const licenseId = check.license.licenseId;
      if (hasLicense(this.host.pool(), licenseId)) continue;
      const removed = retiredLicense(this.host.pool(), licenseId);
      if (removed !== undefined) {
        this.host.log(
          `license file ${file}: LICENSE_REMOVED: license ${licenseId} was removed by an admin at ${new Date(removed.retiredAt).toISOString()}; ` +
            'not installed again (import it to add it back)',
        );
        continue;
      }
      const r = await this.host.propose({ type: 'license-install', license: check.license, from: 'license-file' });
      if (!r.reply.ok) this.host.log(`license file ${file}: ${r.reply.code}: ${r.reply.message}`);
      else this.host.log(`license ${check.license.licenseId} installed from ${file}`);
    }
  }

  /** Whether this node may serve `feature` now, and with which keys' seats (license-locks.ts). */
  gate(feature: string): LockGate {
    return this.locks.gate(feature);
  }

  /** Why this node may not serve checkouts of `feature`, or undefined when it may (license-locks.ts). */
  refusal(feature: string): LicenseRefusal | undefined {
    return this.locks.refusal(feature);
  }

  /**
   * A client's checkout: proposed when this node may serve the feature,
   * limited to the seats of the keys that pass here (the command carries
   * their ids: the pool grants it only within their seats). When it may not, a retry of a request the pool has already answered
   * still gets that first answer (from the applied state, nothing proposed);
   * any other checkout is rejected with LicenseRefusalError.
   */
  async proposeCheckout(command: Extract<UnstampedCommand, { type: 'checkout' }>): Promise<ApplyResult> {
    const gate = this.locks.gate(command.feature);
    if (gate.ok) return this.host.propose(gate.licenseIds === undefined ? command : { ...command, licenseIds: gate.licenseIds });
    const first = await this.answeredReply(command.sessionId, command.requestId, requestKey(command));
    if (first !== undefined) return { reply: first, events: [] };
    throw new LicenseRefusalError(gate.refusal);
  }

  /** How each installed key fares on this node now: served here, or why not (license-locks.ts). */
  keyStates(): KeyLockState[] {
    return this.locks.keyStates();
  }

  /** This node and every peer it knows, with their stated lock codes. */
  memberLockCodes(): MemberLockCode[] {
    return this.locks.members();
  }

  /** Lock codes that two or more members present now: those members count for no key. */
  duplicateLockCodes(): readonly DuplicateLockCode[] {
    return this.locks.duplicates();
  }

  /**
   * The pool's remembered answer to the request `requestId` (whose
   * `requestKey` is `key`) of the client of `sessionId`, as of everything
   * committed when called where a leader can tell (a follower's applied
   * state may lag the commit it acknowledged to the proposer), else as of
   * this node's applied state.
   *
   * Answered from the state rather than by proposing the retry: an entry
   * proposed because the answer was remembered here could apply after the
   * pool forgot it (beyond its limits) and grant a seat this node must not
   * serve; and a node cut off from the leader (where keys lose their quorum
   * most often) could not propose it at all. A remembered answer is
   * committed and, but for a queued one, never replaced: it is what the log
   * would answer the retry.
   */
  private async answeredReply(sessionId: string, requestId: string, key: string): Promise<PoolReply | undefined> {
    const local = this.recallFor(sessionId, requestId, key);
    // Final answers: granted and refusals are never replaced (a queued one may become a grant).
    if (local !== undefined && !(local.ok && local.type === 'queued')) return local;
    // No leader known: a barrier would only wait out its timeout before the refusal.
    if (this.host.leaderId() === '') return local;
    try {
      await this.host.readBarrier();
    } catch (error) {
      if (error instanceof ProposalError) return local;
      throw error;
    }
    return this.recallFor(sessionId, requestId, key);
  }

  private recallFor(sessionId: string, requestId: string, key: string): PoolReply | undefined {
    const pool = this.host.pool();
    const session = findSession(pool, sessionId);
    return session === undefined ? undefined : rememberedReply(pool, session.clientId, requestId, key);
  }
}
