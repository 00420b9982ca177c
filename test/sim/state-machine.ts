// The application the simulated nodes replicate. Pluggable: the simulator
// only needs apply, snapshot/restore and a digest to compare nodes with. The
// default, HashChain, folds each client command into a running hash and
// remembers each client's latest request, so a retried command applies once
// (the idempotence rule of DESIGN.md) and two nodes' digests are equal iff
// they applied the same commands in the same order.
import { hashString } from './prng.ts';

/** A deterministic replicated state machine, as the simulator drives it. */
export interface SimStateMachine {
  /**
   * Applies one client command (a committed, non-empty, normal entry's data)
   * at log index `index`; returns the application's result (its reply to the
   * proposer), which the driver hands to the clients.
   */
  apply(command: string, index: number): unknown;
  /** Serialized state, stored in Raft snapshots. */
  snapshot(): Uint8Array;
  /** Replaces the state with a snapshot's. */
  restore(data: Uint8Array): void;
  /** A short string equal on two machines iff their states are equal (with overwhelming probability). */
  digest(): string;
  /**
   * Optional, costly: a fingerprint of the whole state (e.g. a hash of its
   * snapshot bytes). The simulator compares it across members once they have
   * converged on equal `digest()`s.
   */
  stateDigest?(): string;
  /** Client commands applied (duplicates excluded). */
  readonly commandsApplied: number;
}

/** Creates a fresh state machine for one incarnation of node `nodeId`. */
export type StateMachineFactory = (nodeId: string) => SimStateMachine;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a client command as entry data: "clientId:seq". */
export function encodeCommand(clientId: string, seq: number): Uint8Array {
  return encoder.encode(`${clientId}:${seq}`);
}

export function decodeText(data: Uint8Array): string {
  return decoder.decode(data);
}

/** An append-only hash chain of commands with per-client deduplication. */
export class HashChain implements SimStateMachine {
  private hash = 0x811c9dc5;
  private applied = 0;
  /** Latest request sequence number applied per client. */
  private readonly latestSeqByClient = new Map<string, number>();

  get commandsApplied(): number {
    return this.applied;
  }

  /** Returns the command and the digest after it (the proposer's answer: a misrouted answer shows). */
  apply(command: string, index: number): string {
    const colon = command.lastIndexOf(':');
    if (colon <= 0) throw new Error(`HashChain: malformed command ${JSON.stringify(command)}`);
    const clientId = command.slice(0, colon);
    const seq = Number(command.slice(colon + 1));
    const latest = this.latestSeqByClient.get(clientId) ?? 0;
    // A client issues one request at a time with increasing seq: anything not
    // newer is a retry of something already applied.
    if (seq <= latest) return `${command}@${index} dup`;
    this.latestSeqByClient.set(clientId, seq);
    this.hash = hashString(command, this.hash);
    this.applied++;
    return `${command}@${index} ${this.digest()}`;
  }

  snapshot(): Uint8Array {
    const clients = [...this.latestSeqByClient.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return encoder.encode(JSON.stringify({ hash: this.hash, applied: this.applied, clients }));
  }

  restore(data: Uint8Array): void {
    this.latestSeqByClient.clear();
    if (data.length === 0) {
      this.hash = 0x811c9dc5;
      this.applied = 0;
      return;
    }
    const state = JSON.parse(decoder.decode(data)) as { hash: number; applied: number; clients: [string, number][] };
    this.hash = state.hash;
    this.applied = state.applied;
    for (const [c, s] of state.clients) this.latestSeqByClient.set(c, s);
  }

  digest(): string {
    return `${this.applied}:${this.hash.toString(16)}`;
  }

  /** Latest applied seq of `clientId` (0 when none). */
  latestSeq(clientId: string): number {
    return this.latestSeqByClient.get(clientId) ?? 0;
  }
}
