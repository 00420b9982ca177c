// Redundant license keys: a key names the lock codes of the servers it may
// run on (one, or three for a redundant site). The pool state is the same on
// every node; which keys' seats a node may *serve* is decided here, per node
// and per key, from the key's own rule:
//   - the key names this node's lock code (else LICENSE_NOT_FOR_THIS_SERVER);
//   - a key naming several servers also needs a majority of them up: this
//     node and the peers connected to it now whose signed handshake stated a
//     lock code the key names (else LICENSE_QUORUM_LOST).
// Only the keys that pass count: a checkout carries their ids (licenseIds)
// into the log, and the pool grants it only while the seats in use stay
// within those keys' seats. So a one-server key cannot unlock the seats of a
// redundant key that lost its majority, nor a key naming other servers.
// Raft alone only guarantees a majority of the *members*; after a member is
// replaced (its lock code gone), the members' majority may hold just one of
// the servers an old key names, and that key must not be served on it alone.
//
// Two members presenting the same lock code (one identity copied to another
// machine, a cloned VM) count for no key: each is refused as if it were not
// named, and the duplicate is reported (log line, GET /lock-codes).
// Lock codes match by protocol/lock-code-match.ts (tolerant codes: identity
// and 2 of 3 machine inputs).
import {
  matchLockCode,
  parseNodeLockCodes,
  readNamedLockCode,
  sameNodeLockCodes,
  type LockMatchMode,
  type NamedLockCode,
  type NodeLockCodes,
} from '../../protocol/index.ts';
import { listLicenses, type PoolState } from '../pool/index.ts';

/** What the peer transport knows of one peer's lock code (daemon/transport's PeerLockCode). */
export interface PeerLockState {
  /** As the peer stated it in its signed handshake; undefined when unknown. */
  readonly lockCode: string | undefined;
  /** True while an authenticated connection to or from it is open. */
  readonly connected: boolean;
}

/** Why this node refuses a checkout of a feature (or does not serve one key). */
export interface LicenseRefusal {
  readonly code: 'LICENSE_NOT_FOR_THIS_SERVER' | 'LICENSE_QUORUM_LOST';
  readonly message: string;
}

/** A checkout this node refused under its license locks: nothing was proposed. */
export class LicenseRefusalError extends Error {
  readonly code: LicenseRefusal['code'];

  constructor(refusal: LicenseRefusal) {
    super(refusal.message);
    this.name = 'LicenseRefusalError';
    this.code = refusal.code;
  }
}

/** Whether a checkout of a feature may go ahead on this node, and with which keys' seats. */
export type LockGate =
  /** `licenseIds`: the feature's keys that pass here; undefined: every key (a node that checks no lock codes). */
  | { readonly ok: true; readonly licenseIds: readonly string[] | undefined }
  | { readonly ok: false; readonly refusal: LicenseRefusal };

/** Two or more members presenting one lock code: none of them counts for a key. */
export interface DuplicateLockCode {
  readonly code: 'LOCK_CODE_DUPLICATE';
  /** The lock code as the first of them states it. */
  readonly lockCode: string;
  /** The members' ids (this node's own id included when it is one of them). */
  readonly members: readonly string[];
}

/** How one installed key fares on this node now. */
export interface KeyLockState {
  readonly licenseId: string;
  /** True when its seats may be served here. */
  readonly served: boolean;
  /** Why not, when not served. */
  readonly refusal?: LicenseRefusal;
}

/** One member's stated lock codes, as this node knows them. */
export interface MemberLockCode {
  readonly id: string;
  /** Its tolerant code, else the code it states to be matched exactly (a 0.1 node's); undefined when unknown. */
  readonly lockCode: string | undefined;
  /** Its 0.1 code when it states both. */
  readonly legacyLockCode?: string;
  /** True for this node, and for a peer while an authenticated connection to it is open. */
  readonly connected: boolean;
  readonly self: boolean;
}

/** How many of `n` named servers must be up: a strict majority. */
export function lockQuorum(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** Lock codes stated by peers, read once each (bounded: cleared beyond this many). */
const STATED_CODES_CACHED_MAX = 64;

/** One installed key, as the locks read it. */
interface KeyLock {
  readonly licenseId: string;
  readonly named: readonly NamedLockCode[];
  readonly mode: LockMatchMode;
}

/** One member that counts now: this node or a connected peer. */
interface Member {
  readonly id: string;
  readonly stated: string;
  readonly codes: NodeLockCodes;
}

/** The members up now, less those presenting a duplicated lock code. */
interface MembersUp {
  /** This node, unless it presents a duplicated code. */
  readonly self: Member | undefined;
  /** Every member that counts, this node included. */
  readonly counted: readonly Member[];
  readonly duplicates: readonly DuplicateLockCode[];
}

/** Which keys this node may serve under their lock codes; refreshed when licenses change. */
export class LicenseLocks {
  /** The keys of each feature, in install order. */
  private keysByFeature = new Map<string, KeyLock[]>();
  private keys: KeyLock[] = [];
  private readonly ownCodes: NodeLockCodes | undefined;
  private readonly statedCodes = new Map<string, NodeLockCodes>();
  /** The duplicates last reported, as one text (reported again only when they change). */
  private reportedDuplicates = '';

  /**
   * `lockCode`: what this node states (formatNodeLockCodes, or one code);
   * undefined serves everything (tests). `peers`: the peer transport's view
   * (id → stated lock code, connected now); absent on a node without peers,
   * which then counts only itself. `onDuplicates` hears each new set of
   * duplicated lock codes (the node logs it).
   */
  constructor(
    private readonly lockCode: string | undefined,
    private readonly peers?: () => ReadonlyMap<string, PeerLockState>,
    private readonly options: { readonly nodeId?: string; readonly onDuplicates?: (duplicates: readonly DuplicateLockCode[]) => void } = {},
  ) {
    this.ownCodes = lockCode === undefined ? undefined : parseNodeLockCodes(lockCode);
  }

  /** Recomputes from the installed licenses (after a license-install/remove entry or a snapshot). */
  refresh(pool: PoolState): void {
    const byFeature = new Map<string, KeyLock[]>();
    const keys: KeyLock[] = [];
    for (const license of listLicenses(pool)) {
      const key: KeyLock = { licenseId: license.licenseId, named: license.payload.lockCodes.map(readNamedLockCode), mode: license.payload.lockMatch ?? 'tolerant' };
      keys.push(key);
      for (const feature of license.features) byFeature.set(feature, [...(byFeature.get(feature) ?? []), key]);
    }
    this.keysByFeature = byFeature;
    this.keys = keys;
  }

  /**
   * Whether a checkout of `feature` may go ahead here now: with the ids of
   * the feature's keys that pass, or the refusal when none does. A feature
   * no key grants goes ahead with none (the pool answers UNKNOWN_FEATURE).
   */
  gate(feature: string): LockGate {
    if (this.ownCodes === undefined) return { ok: true, licenseIds: undefined };
    const keys = this.keysByFeature.get(feature) ?? [];
    if (keys.length === 0) return { ok: true, licenseIds: [] };
    const members = this.membersUp();
    const passing: string[] = [];
    let refusal: LicenseRefusal | undefined;
    for (const key of keys) {
      const r = this.keyRefusal(key, members);
      if (r === undefined) passing.push(key.licenseId);
      // The most useful refusal to show: losing a quorum (retry) over another server's key.
      else if (refusal === undefined || (refusal.code === 'LICENSE_NOT_FOR_THIS_SERVER' && r.code === 'LICENSE_QUORUM_LOST')) refusal = r;
    }
    if (passing.length > 0) return { ok: true, licenseIds: passing };
    return { ok: false, refusal: this.featureRefusal(feature, keys, refusal as LicenseRefusal, members) };
  }

  /** The refusal for a checkout of `feature` on this node now, or undefined when some key of it passes here. */
  refusal(feature: string): LicenseRefusal | undefined {
    const gate = this.gate(feature);
    return gate.ok ? undefined : gate.refusal;
  }

  /** How each installed key fares on this node now, in install order. */
  keyStates(): KeyLockState[] {
    if (this.ownCodes === undefined) return this.keys.map((k) => ({ licenseId: k.licenseId, served: true }));
    const members = this.membersUp();
    return this.keys.map((k) => {
      const refusal = this.keyRefusal(k, members);
      return refusal === undefined ? { licenseId: k.licenseId, served: true } : { licenseId: k.licenseId, served: false, refusal };
    });
  }

  /** This node and every peer it knows, with their stated lock codes. */
  members(): MemberLockCode[] {
    const view = (id: string, codes: NodeLockCodes | undefined, connected: boolean, self: boolean): MemberLockCode => {
      const lockCode = codes?.tolerant ?? codes?.exact;
      return { id, lockCode, ...(codes?.tolerant !== undefined && codes.exact !== undefined ? { legacyLockCode: codes.exact } : {}), connected, self };
    };
    const out = [view(this.options.nodeId ?? 'this node', this.ownCodes, true, true)];
    if (this.peers !== undefined) {
      for (const [id, peer] of this.peers()) out.push(view(id, peer.lockCode === undefined || peer.lockCode === '' ? undefined : this.parseStated(peer.lockCode), peer.connected, false));
    }
    return out;
  }

  /** Lock codes two or more members present now (this node and its connected peers). */
  duplicates(): readonly DuplicateLockCode[] {
    return this.ownCodes === undefined ? [] : this.membersUp().duplicates;
  }

  /** Why `key` is not served here given `members`, or undefined when it passes. */
  private keyRefusal(key: KeyLock, members: MembersUp): LicenseRefusal | undefined {
    const self = members.self;
    if (self === undefined || !this.names(key, self)) {
      const why = self === undefined ? `; this server's lock code is also presented by ${this.othersWithOwnCode(members)}, so it counts for no key` : '';
      return {
        code: 'LICENSE_NOT_FOR_THIS_SERVER',
        message: `license ${key.licenseId} is locked to ${key.named.map((n) => n.text).join(', ')}, not to this server (${this.ownText()})${why}; connect to another server`,
      };
    }
    const n = key.named.length;
    if (n === 1) return undefined;
    const up = members.counted.reduce((count, m) => (this.names(key, m) ? count + 1 : count), 0);
    if (up >= lockQuorum(n)) return undefined;
    return {
      code: 'LICENSE_QUORUM_LOST',
      message:
        `license ${key.licenseId} is served only while ${lockQuorum(n)} of the ${n} servers it names are up; ` +
        `this server reaches ${up} (itself included); retry, or connect to another server`,
    };
  }

  /** The refusal of a feature none of whose keys passes: the one of its keys most worth reading. */
  private featureRefusal(feature: string, keys: readonly KeyLock[], worst: LicenseRefusal, members: MembersUp): LicenseRefusal {
    if (worst.code === 'LICENSE_QUORUM_LOST') return { code: worst.code, message: `the keys of "${feature}": ${worst.message}` };
    const codes = [...new Set(keys.flatMap((k) => k.named.map((n) => n.text)))];
    const why = members.self === undefined ? ` (its lock code is also presented by ${this.othersWithOwnCode(members)}: two members with one lock code count for no key)` : '';
    return {
      code: 'LICENSE_NOT_FOR_THIS_SERVER',
      message: `the keys of "${feature}" are locked to ${codes.join(', ')}, not to this server (${this.ownText()})${why}; connect to another server`,
    };
  }

  /** True when `key` names the lock code `member` presents. */
  private names(key: KeyLock, member: Member): boolean {
    return key.named.some((n) => matchLockCode(n, member.codes, key.mode).matches);
  }

  private ownText(): string {
    return this.ownCodes?.tolerant ?? this.ownCodes?.exact ?? '?';
  }

  private othersWithOwnCode(members: MembersUp): string {
    const own = this.options.nodeId ?? 'this node';
    const group = members.duplicates.find((d) => d.members.includes(own));
    return (group?.members ?? []).filter((m) => m !== own).join(', ') || 'another member';
  }

  private parseStated(text: string): NodeLockCodes {
    let codes = this.statedCodes.get(text);
    if (codes === undefined) {
      if (this.statedCodes.size >= STATED_CODES_CACHED_MAX) this.statedCodes.clear();
      codes = parseNodeLockCodes(text);
      this.statedCodes.set(text, codes);
    }
    return codes;
  }

  /** This node and the peers connected now with a stated code; those presenting one code twice are set apart. */
  private membersUp(): MembersUp {
    const selfId = this.options.nodeId ?? 'this node';
    const all: Member[] = [{ id: selfId, stated: this.lockCode as string, codes: this.ownCodes as NodeLockCodes }];
    if (this.peers !== undefined) {
      for (const [id, peer] of this.peers()) {
        if (peer.connected && peer.lockCode !== undefined && peer.lockCode !== '') all.push({ id, stated: peer.lockCode, codes: this.parseStated(peer.lockCode) });
      }
    }
    const duplicated = new Set<Member>();
    const duplicates: DuplicateLockCode[] = [];
    for (let i = 0; i < all.length; i++) {
      const a = all[i] as Member;
      if (duplicated.has(a)) continue;
      const group = [a];
      for (let j = i + 1; j < all.length; j++) {
        const b = all[j] as Member;
        if (!duplicated.has(b) && sameNodeLockCodes(a.codes, b.codes)) group.push(b);
      }
      if (group.length < 2) continue;
      for (const m of group) duplicated.add(m);
      duplicates.push({ code: 'LOCK_CODE_DUPLICATE', lockCode: a.codes.tolerant ?? a.codes.exact ?? a.stated, members: group.map((m) => m.id) });
    }
    this.report(duplicates);
    const counted = all.filter((m) => !duplicated.has(m));
    return { self: counted[0] === all[0] ? counted[0] : undefined, counted, duplicates };
  }

  private report(duplicates: readonly DuplicateLockCode[]): void {
    // Nearly always none, as last time: no need to write them out.
    if (duplicates.length === 0 && this.reportedDuplicates === '') return;
    const text = duplicates.length === 0 ? '' : JSON.stringify(duplicates);
    if (text === this.reportedDuplicates) return;
    this.reportedDuplicates = text;
    if (duplicates.length > 0) this.options.onDuplicates?.(duplicates);
  }
}
