// Redundant license keys: a key names the lock codes of the servers it may
// run on (one, or three for a redundant site). The pool state is the same on
// every node; whether a node may *serve* a feature is decided here, per
// node, from two rules of the key:
//   - the key names this node's own lock code (else LICENSE_NOT_FOR_THIS_SERVER);
//   - a majority of the distinct lock codes the key names are up: this node
//     and the peers connected to it now whose signed handshake stated a lock
//     code the key names (else LICENSE_QUORUM_LOST).
// A feature with several keys is served when any one key passes both. Raft
// alone only guarantees a majority of the *members*; after a member is
// replaced (its lock code gone), the members' majority may hold just one of
// the servers the old key names, and the key must not be served on it alone.
import { listLicenses, type PoolState } from '../pool/index.ts';

/** What the peer transport knows of one peer's lock code (daemon/transport's PeerLockCode). */
export interface PeerLockState {
  /** As the peer stated it in its signed handshake; undefined when unknown. */
  readonly lockCode: string | undefined;
  /** True while an authenticated connection to or from it is open. */
  readonly connected: boolean;
}

/** Why this node refuses a checkout of a feature. */
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

/** How many of `n` named servers must be up: a strict majority. */
export function lockQuorum(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** Which features this node may serve under the installed keys' lock codes; refreshed when licenses change. */
export class LicenseLocks {
  /** Features whose every key names other lock codes than ours, with those codes. */
  private refused = new Map<string, string[]>();
  /**
   * Features served only while enough of their named servers are up: the
   * distinct lock codes of each key of the feature that names ours. A feature
   * with a key naming ours alone (quorum 1 of 1) is never listed.
   */
  private quorumKeys = new Map<string, string[][]>();

  /**
   * `lockCode`: this node's; undefined serves everything (tests).
   * `peers`: the peer transport's view (id → stated lock code, connected now);
   * absent on a node without peers, which then counts only itself.
   */
  constructor(
    private readonly lockCode: string | undefined,
    private readonly peers?: () => ReadonlyMap<string, PeerLockState>,
  ) {}

  /** Recomputes from the installed licenses (after a license-install/remove entry or a snapshot). */
  refresh(pool: PoolState): void {
    if (this.lockCode === undefined) return;
    const own = this.lockCode;
    const alone = new Set<string>();
    const named = new Map<string, string[][]>();
    const others = new Map<string, string[]>();
    for (const license of listLicenses(pool)) {
      const codes = [...new Set(license.payload.lockCodes)];
      const ours = codes.includes(own);
      for (const feature of license.features) {
        if (!ours) others.set(feature, [...(others.get(feature) ?? []), ...codes]);
        else if (codes.length === 1) alone.add(feature);
        else named.set(feature, [...(named.get(feature) ?? []), codes]);
      }
    }
    const refused = new Map<string, string[]>();
    for (const [feature, codes] of others) if (!alone.has(feature) && !named.has(feature)) refused.set(feature, [...new Set(codes)]);
    for (const feature of alone) named.delete(feature);
    this.refused = refused;
    this.quorumKeys = named;
  }

  /** The refusal for a checkout of `feature` on this node now, or undefined when it may serve it. */
  refusal(feature: string): LicenseRefusal | undefined {
    const codes = this.refused.get(feature);
    if (codes !== undefined) {
      return {
        code: 'LICENSE_NOT_FOR_THIS_SERVER',
        message: `the keys of "${feature}" are locked to ${codes.join(', ')}, not to this server (${this.lockCode ?? '?'}); connect to another server`,
      };
    }
    const keys = this.quorumKeys.get(feature);
    if (keys === undefined) return undefined;
    const up = this.upLockCodes();
    let best: { up: number; of: number } | undefined;
    for (const key of keys) {
      const count = key.reduce((n, code) => (up.has(code) ? n + 1 : n), 0);
      if (count >= lockQuorum(key.length)) return undefined;
      if (best === undefined || lockQuorum(key.length) - count < lockQuorum(best.of) - best.up) best = { up: count, of: key.length };
    }
    const b = best as { up: number; of: number };
    return {
      code: 'LICENSE_QUORUM_LOST',
      message:
        `the key of "${feature}" is served only while ${lockQuorum(b.of)} of the ${b.of} servers it names are up; ` +
        `this server reaches ${b.up} (itself included); retry, or connect to another server`,
    };
  }

  /** This node's lock code and those of the peers connected now. */
  private upLockCodes(): Set<string> {
    const up = new Set<string>();
    if (this.lockCode !== undefined) up.add(this.lockCode);
    if (this.peers === undefined) return up;
    for (const peer of this.peers().values()) if (peer.connected && peer.lockCode !== undefined) up.add(peer.lockCode);
    return up;
  }
}
