// Borrowing on the node: a client takes a seat offline for some hours and
// hands back a signed token to return it. The borrow passes the same license
// gate as a checkout (lent only within the seats of the keys served here),
// then the pool's borrow rules (a proposed command), then the token is
// signed with the cluster's borrow key (borrow-tokens.ts, created first when
// the cluster has none). A return is checked against that key on any node.
import type { BorrowReply } from '../../protocol/index.ts';
import type { ApplyResult, PoolState } from '../pool/index.ts';
import { BorrowTokens, type TokenCheck } from './borrow-tokens.ts';
import type { UnstampedCommand } from './command-codec.ts';
import { LicenseRefusalError, type LockGate } from './license-locks.ts';

/** What a client asks to borrow. */
export interface BorrowRequest {
  readonly requestId: string;
  readonly feature: string;
  readonly version?: string | undefined;
  /** How long the seat stays offline, in hours. */
  readonly hours: number;
  /** The borrowing machine's fingerprint. */
  readonly fingerprint: string;
}

/** A refusal by the pool's rules or the token check: its code and sentence. */
export interface BorrowRefusal {
  readonly ok: false;
  readonly code: string;
  readonly message: string;
}

/** What NodeBorrows needs of its node. */
export interface NodeBorrowsDeps {
  readonly pool: () => PoolState;
  readonly propose: (command: UnstampedCommand) => Promise<ApplyResult>;
  /** Whether this node may serve `feature` now, and with which keys' seats (node-licenses.ts). */
  readonly gate: (feature: string) => LockGate;
}

/** `ms` per hour. */
const HOUR_MS = 3_600_000;

/** Borrows and returns of offline seats. */
export class NodeBorrows {
  /** The cluster's borrow key: create, sign, verify. */
  readonly tokens: BorrowTokens;

  constructor(private readonly deps: NodeBorrowsDeps) {
    this.tokens = new BorrowTokens({ pool: deps.pool, propose: deps.propose });
  }

  /**
   * Takes a seat of `request.feature` offline for the client of
   * `sessionId`. Refusals come back as `{ok: false}`; rejects as a proposal
   * does (ProposalError), or with LicenseRefusalError.
   */
  async borrow(sessionId: string, request: BorrowRequest): Promise<{ ok: true; reply: BorrowReply } | BorrowRefusal> {
    const gate = this.deps.gate(request.feature);
    if (!gate.ok) throw new LicenseRefusalError(gate.refusal);
    await this.tokens.ensureKey();
    const r = await this.deps.propose({
      type: 'borrow',
      sessionId,
      requestId: request.requestId,
      feature: request.feature,
      ...(request.version !== undefined ? { version: request.version } : {}),
      durationMs: Math.max(1, Math.round(request.hours * HOUR_MS)),
      fingerprint: request.fingerprint,
      ...(gate.licenseIds !== undefined ? { licenseIds: gate.licenseIds } : {}),
    });
    const reply = r.reply;
    if (!reply.ok) return { ok: false, code: reply.code, message: reply.message };
    if (reply.type !== 'borrowed') throw new Error(`assert: a borrow answered ${reply.type}`);
    const { token, publicKey } = this.tokens.sign(reply);
    return { ok: true, reply: { ...reply.lease, borrowedAt: reply.borrowedAt, token, publicKey } };
  }

  /** Gives back the borrowed seat `token` names, for the client `clientId` (the seat is the client's: no session needed). */
  async returnBorrowed(clientId: string, requestId: string, token: string): Promise<{ ok: true; leaseId: string } | BorrowRefusal> {
    const check: TokenCheck = this.tokens.verify(token);
    if (!check.ok) return check;
    const r = await this.deps.propose({ type: 'return', clientId, requestId, leaseId: check.payload.leaseId });
    const reply = r.reply;
    if (!reply.ok) return { ok: false, code: reply.code, message: reply.message };
    return { ok: true, leaseId: check.payload.leaseId };
  }
}
