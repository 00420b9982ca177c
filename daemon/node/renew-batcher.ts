// Heartbeat batching: a node collects the heartbeats it receives and
// proposes ONE renew command for all of their sessions every renewBatchMs
// (chunked at the pool's renewIdsMax), then answers each heartbeat from the
// renew's result. Thousands of heartbeating clients cost a few log entries
// per second, not one each.
import type { ApplyResult } from '../pool/index.ts';
import type { UnstampedCommand } from './command-codec.ts';

/** The answer to one heartbeat, once its batched renew is durable. */
export type HeartbeatOutcome =
  | { readonly ok: true; readonly expiresAt: number }
  | { readonly ok: false; readonly code: 'SESSION_NOT_FOUND' | 'UNAVAILABLE'; readonly message: string };

/** Batches heartbeats into renew commands. */
export class RenewBatcher {
  private waiting = new Map<string, ((o: HeartbeatOutcome) => void)[]>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly options: {
      /** `ms` between renew commands. */
      readonly renewBatchMs: number;
      /** `ms` of lease life a renew gives. */
      readonly leaseTtlMs: number;
      /** Session ids per renew command, at most. */
      readonly renewIdsMax: () => number;
      readonly propose: (command: UnstampedCommand) => Promise<ApplyResult>;
    },
  ) {}

  /** Resolves once a renew covering `sessionId` is durable (or failed). */
  heartbeat(sessionId: string): Promise<HeartbeatOutcome> {
    if (this.closed) return Promise.resolve({ ok: false, code: 'UNAVAILABLE', message: 'the node is stopping' });
    return new Promise((resolve) => {
      const waiting = this.waiting.get(sessionId);
      if (waiting === undefined) this.waiting.set(sessionId, [resolve]);
      else waiting.push(resolve);
      this.timer ??= setTimeout(() => this.proposeRenew(), this.options.renewBatchMs);
    });
  }

  /** Answers every waiting heartbeat UNAVAILABLE and stops. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const waiting of this.waiting.values()) {
      for (const r of waiting) r({ ok: false, code: 'UNAVAILABLE', message: 'the node is stopping' });
    }
    this.waiting.clear();
  }

  private proposeRenew(): void {
    this.timer = undefined;
    if (this.closed) return;
    const batch = this.waiting;
    this.waiting = new Map();
    const ids = [...batch.keys()];
    const max = this.options.renewIdsMax();
    const answer = (id: string, o: HeartbeatOutcome) => {
      for (const r of batch.get(id) ?? []) r(o);
    };
    for (let i = 0; i < ids.length; i += max) {
      const chunk = ids.slice(i, i + max);
      this.options.propose({ type: 'renew', leaseIds: [], sessionIds: chunk, leaseTtlMs: this.options.leaseTtlMs }).then(
        (result) => {
          const reply = result.reply;
          if (!reply.ok || reply.type !== 'renewed') {
            const message = reply.ok ? `renew answered ${reply.type}` : reply.message;
            for (const id of chunk) answer(id, { ok: false, code: 'UNAVAILABLE', message });
            return;
          }
          const unknown = new Set(reply.unknownSessionIds);
          for (const id of chunk) {
            if (unknown.has(id)) answer(id, { ok: false, code: 'SESSION_NOT_FOUND', message: 'the session has expired or was closed; say hello again' });
            else answer(id, { ok: true, expiresAt: reply.expiresAt });
          }
        },
        (error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          for (const id of chunk) answer(id, { ok: false, code: 'UNAVAILABLE', message });
        },
      );
    }
  }
}
