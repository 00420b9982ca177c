// Why a session's leases ended, kept for a while after, so a client that
// was away when it happened (a dropped socket, a move to the leader) still
// learns the real reason when it resumes: hello's `revoked` list
// (docs/protocol.md "Resuming a session"). Without it the client can only
// tell that a lease is gone, not that a license admin freed it and why.
//
// Every node records every revocation it applies (the client may resume on
// any of them). Bounded in time and size: entries older than KEEP_MS are
// dropped, and past ENTRIES_MAX the oldest sessions' records go first.
import type { ServerPush } from '../../protocol/index.ts';

/** A `revoked` push as the session would have received it. */
export type RevokedPush = Extract<ServerPush, { type: 'revoked' }>;

/** `ms`: how long a revocation is kept for a resume (a client away longer has usually lost its session too). */
export const RECENT_REVOCATIONS_KEEP_MS = 10 * 60_000;
/** Revocations kept on a node, all sessions together. */
export const RECENT_REVOCATIONS_MAX = 10_000;
/** Revocations kept per session (the newest), the most a hello answer lists. */
export const RECENT_REVOCATIONS_PER_SESSION_MAX = 64;

interface Kept {
  readonly push: RevokedPush;
  readonly atMs: number;
}

/** The recent revocations of a node, by session. */
export class RecentRevocations {
  /** By session, oldest session first (re-inserted on each record). */
  readonly #bySession = new Map<string, Kept[]>();
  #count = 0;

  constructor(private readonly now: () => number) {}

  /** `push` ended a lease of `sessionId`. */
  record(sessionId: string, push: RevokedPush): void {
    const nowMs = this.now();
    const kept = this.#fresh(sessionId, nowMs) ?? [];
    this.#bySession.delete(sessionId);
    this.#bySession.set(sessionId, kept);
    kept.push({ push, atMs: nowMs });
    this.#count++;
    if (kept.length > RECENT_REVOCATIONS_PER_SESSION_MAX) {
      kept.shift();
      this.#count--;
    }
    this.#evict(nowMs);
  }

  /** The revocations of `sessionId` in the last RECENT_REVOCATIONS_KEEP_MS, oldest first. */
  of(sessionId: string): RevokedPush[] {
    return (this.#fresh(sessionId, this.now()) ?? []).map((k) => k.push);
  }

  /** Revocations held now, all sessions. */
  get size(): number {
    return this.#count;
  }

  /** `sessionId`'s entries with the expired ones dropped; undefined when none is left. */
  #fresh(sessionId: string, nowMs: number): Kept[] | undefined {
    const kept = this.#bySession.get(sessionId);
    if (kept === undefined) return undefined;
    const firstFresh = kept.findIndex((k) => nowMs - k.atMs < RECENT_REVOCATIONS_KEEP_MS);
    if (firstFresh === 0) return kept;
    const dropped = firstFresh === -1 ? kept.length : firstFresh;
    kept.splice(0, dropped);
    this.#count -= dropped;
    if (kept.length > 0) return kept;
    this.#bySession.delete(sessionId);
    return undefined;
  }

  /** Drops the oldest sessions' records while over RECENT_REVOCATIONS_MAX or expired. */
  #evict(nowMs: number): void {
    for (const [sessionId, kept] of this.#bySession) {
      const newest = kept[kept.length - 1];
      const expired = newest === undefined || nowMs - newest.atMs >= RECENT_REVOCATIONS_KEEP_MS;
      if (!expired && this.#count <= RECENT_REVOCATIONS_MAX) return;
      this.#bySession.delete(sessionId);
      this.#count -= kept.length;
    }
  }
}
