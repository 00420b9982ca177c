// The last use of each admin token, recorded through the log without a log
// entry per request: the admin API notes each use here, and at most once per
// TOKEN_USE_FLUSH_MS this node proposes one token-use command naming every
// token used since (forwarded to the leader like any proposal). A lost
// batch (no leader) is merged into the next one.
import type { AdminApplyResult } from '../admin-state/index.ts';
import { TOKEN_USES_PER_COMMAND_MAX } from '../admin-state/index.ts';
import type { UnstampedAdminCommand } from './command-codec.ts';

/** `ms` between token-use commands of one node, at least. */
export const TOKEN_USE_FLUSH_MS = 60_000;

/** What the batcher needs from its node. */
export interface TokenUseBatcherHost {
  propose(command: UnstampedAdminCommand): Promise<AdminApplyResult>;
  log(line: string): void;
}

/** Batches token uses into token-use commands. */
export class TokenUseBatcher {
  /** Token name → `ms` of its latest use not yet proposed. Bounded by the tokens that exist (TOKENS_MAX). */
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly host: TokenUseBatcherHost,
    private readonly flushMs = TOKEN_USE_FLUSH_MS,
  ) {}

  /** Token `name` was used at `atMs`. */
  note(name: string, atMs: number): void {
    if (this.closed) return;
    this.pending.set(name, Math.max(atMs, this.pending.get(name) ?? 0));
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Stops the timer; uses not yet proposed are dropped (last use is a hint, not a record). */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private flush(): void {
    this.timer = undefined;
    if (this.closed || this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const uses = [...batch].slice(0, TOKEN_USES_PER_COMMAND_MAX).map(([name, atMs]) => ({ name, atMs }));
    this.host.propose({ type: 'token-use', uses }).catch((error: unknown) => {
      // No leader now: keep the uses for the next batch.
      for (const [name, atMs] of batch) this.note(name, atMs);
      this.host.log(`token uses not recorded yet: ${(error as Error).message}`);
    });
  }
}
