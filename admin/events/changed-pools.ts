// Which pools' figures changed since the last `pools` message the event hub
// sent, so a flush carries only those (a site with two hundred features and
// one busy one streams one pool, not two hundred). It remembers each pool's
// figures as the JSON it last sent: comparing the serialised figures is
// exact, and the JSON is needed for the message anyway. A pool that
// disappeared (its license removed) makes the next message a full one, so a
// viewer can drop its row.
import type { PoolView } from '../../daemon/pool/index.ts';

/** What to send of the pools now, each pool as its serialised PoolView, in the node's pool order. */
export interface PoolsToSend {
  /** The pools to send: the changed ones, or every pool when `full`. */
  readonly pools: readonly string[];
  /** True when `pools` lists every pool (rows not listed are gone). */
  readonly full: boolean;
  /** Every pool, for a subscriber that needs the whole list whatever changed. */
  readonly all: readonly string[];
}

/** The key of a pool in the console's table and here. */
export function poolKey(p: Pick<PoolView, 'feature' | 'version'>): string {
  return `${p.feature}@${p.version}`;
}

/** The last figures sent per pool; take() answers what changed since and remembers the new figures. */
export class ChangedPools {
  private sent = new Map<string, string>();
  private fullNext = true;

  /** The next take() answers every pool (after a leadership change, or when nothing was sent yet). */
  forceFull(): void {
    this.fullNext = true;
  }

  /** What of `pools` (the node's pools now) differs from what was sent last; remembers `pools` as sent. */
  take(pools: readonly PoolView[]): PoolsToSend {
    const next = new Map<string, string>();
    const changed: string[] = [];
    const all: string[] = [];
    for (const p of pools) {
      const key = poolKey(p);
      const json = JSON.stringify(p);
      next.set(key, json);
      all.push(json);
      if (this.sent.get(key) !== json) changed.push(json);
    }
    // A pool gone since the last message: only a full list can say so.
    let full = this.fullNext || next.size !== this.sent.size;
    if (!full) for (const key of this.sent.keys()) if (!next.has(key)) full = true;
    this.sent = next;
    this.fullNext = false;
    return { pools: full ? all : changed, full, all };
  }
}
