// Redundant license keys: a key names the lock codes of the servers it may
// run on (one, or three for a redundant site). The pool state is the same on
// every node; whether a node may *serve* a feature is decided here, per
// node, from its own lock code: only when one of the feature's keys names it.
import { listLicenses, type PoolState } from '../pool/index.ts';

/** Which features this node's lock code lets it serve; refreshed when licenses change. */
export class LicenseLocks {
  /** Features whose every key names other lock codes than ours. */
  private refused = new Map<string, string[]>();

  /** `lockCode`: this node's; undefined serves everything (tests). */
  constructor(private readonly lockCode: string | undefined) {}

  /** Recomputes from the installed licenses (after a license-install/remove entry or a snapshot). */
  refresh(pool: PoolState): void {
    if (this.lockCode === undefined) return;
    const served = new Set<string>();
    const seen = new Map<string, string[]>();
    for (const license of listLicenses(pool)) {
      const ours = license.payload.lockCodes.includes(this.lockCode);
      for (const feature of license.features) {
        if (ours) served.add(feature);
        else seen.set(feature, [...(seen.get(feature) ?? []), ...license.payload.lockCodes]);
      }
    }
    const refused = new Map<string, string[]>();
    for (const [feature, codes] of seen) if (!served.has(feature)) refused.set(feature, [...new Set(codes)]);
    this.refused = refused;
  }

  /** The refusal for a checkout of `feature` on this node, or undefined when it may serve it. */
  refusal(feature: string): { code: 'LICENSE_NOT_FOR_THIS_SERVER'; message: string } | undefined {
    const codes = this.refused.get(feature);
    if (codes === undefined) return undefined;
    return {
      code: 'LICENSE_NOT_FOR_THIS_SERVER',
      message: `the keys of "${feature}" are locked to ${codes.join(', ')}, not to this server (${this.lockCode ?? '?'}); connect to another server`,
    };
  }
}
