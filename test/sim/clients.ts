// Simulated client applications: each issues one request at a time — a write
// (a proposal) or a linearizable read (ReadIndex) — to the node it believes
// leads, follows redirects, and retries on failure or timeout with the same
// request number (the state machine deduplicates). Reads are checked for
// linearizability: a read's index must cover every write acknowledged
// before the read began.
import { NONE, type Entry, type NodeId } from '../../daemon/raft/index.ts';
import { SimViolation } from './invariants.ts';
import type { Prng } from './prng.ts';
import type { SimNode } from './sim-node.ts';
import { encodeCommand } from './state-machine.ts';

/** What the clients need from the simulation. */
export interface ClientsHost {
  readonly nodes: readonly SimNode[];
  readonly byId: ReadonlyMap<NodeId, SimNode>;
  /** Schedules a wake-up of client `client` after `delayUs` carrying `token`. */
  wakeClient(client: number, token: number, delayUs: number): void;
  /** The node was called (propose, readIndex) and may have a Ready. */
  touch(node: SimNode): void;
  trace(text: string): void;
  readonly nowUs: number;
}

/** What the simulation needs from a client population (this hash-chain one, or pool-clients.ts). */
export interface SimClients {
  readonly writesAcked: number;
  readonly readsServed: number;
  readonly stopped: boolean;
  start(): void;
  /** No new requests; requests in flight still finish. */
  stop(): void;
  /** True when no request is in flight. */
  idle(): boolean;
  describePending(): string;
  /** A wake-up scheduled through ClientsHost.wakeClient. */
  wake(index: number, token: number): void;
  /** A proposal settled on the node that accepted it; `result`: the application's result when ok. */
  proposalSettled(requestId: string, ok: boolean, index: number, result?: unknown): void;
  /** A read served by `node` at `readIndex`. */
  readServed(context: string, readIndex: number, node: SimNode): void;
  /** Any node applied entry `e` (every node calls this; `result` is what its application returned). */
  entryApplied?(node: SimNode, e: Entry, result: unknown): void;
  /** The run converged with `leader` at the commit index: last checks of the clients' records against its state. */
  finalCheck?(leader: SimNode): void;
}

/** A write gets no answer for this long: retry elsewhere, µs. */
const WRITE_TIMEOUT_US = 1_000_000;
/** A read gets no answer for this long: retry, µs. */
const READ_TIMEOUT_US = 500_000;

interface WriteOp {
  readonly kind: 'write';
  readonly seq: number;
  attempt: number;
  readonly startUs: number;
}

interface ReadOp {
  readonly kind: 'read';
  readonly n: number;
  attempt: number;
  readonly startUs: number;
  /** Highest index of any write acknowledged before this read began. */
  readonly ackedIndexAtStart: number;
}

interface Client {
  readonly id: string;
  seq: number;
  reads: number;
  op: WriteOp | ReadOp | null;
  leaderHint: NodeId;
  /** Bumped whenever a pending wake-up becomes moot. */
  token: number;
}

/** The client population of one run. */
export class Clients implements SimClients {
  writesAcked = 0;
  readsServed = 0;
  /** No new requests once stopped; requests in flight still finish. */
  stopped = false;
  private ackedIndexMax = 0;
  private readonly list: Client[] = [];
  private readonly host: ClientsHost;
  private readonly rng: Prng;
  private readonly readRate: number;

  constructor(host: ClientsHost, rng: Prng, count: number, readRate: number) {
    this.host = host;
    this.rng = rng;
    this.readRate = readRate;
    for (let i = 1; i <= count; i++) this.list.push({ id: `c${i}`, seq: 0, reads: 0, op: null, leaderHint: NONE, token: 0 });
  }

  start(): void {
    this.list.forEach((c, i) => this.wakeAfter(i, c, this.rng.range(0, 50_000)));
  }

  stop(): void {
    this.stopped = true;
  }

  /** True when no request is in flight. */
  idle(): boolean {
    return this.list.every((c) => c.op === null);
  }

  describePending(): string {
    return this.list
      .filter((c) => c.op !== null)
      .map((c) => {
        const op = c.op!;
        const what = op.kind === 'write' ? `write ${c.id}:${op.seq}` : `read ${c.id}/r${op.n}`;
        return `${what} attempt ${op.attempt} since ${(op.startUs / 1000).toFixed(1)}ms`;
      })
      .join(', ');
  }

  /** A scheduled wake-up: start the next request or retry the current one. */
  wake(index: number, token: number): void {
    const c = this.list[index];
    if (c === undefined || c.token !== token) return;
    if (c.op === null) {
      if (this.stopped) return;
      if (this.rng.chance(this.readRate)) {
        c.op = { kind: 'read', n: ++c.reads, attempt: 0, startUs: this.host.nowUs, ackedIndexAtStart: this.ackedIndexMax };
      } else {
        c.op = { kind: 'write', seq: ++c.seq, attempt: 0, startUs: this.host.nowUs };
      }
    }
    this.attempt(index, c);
  }

  private attempt(index: number, c: Client): void {
    const op = c.op!;
    const node = this.pickTarget(c, op.kind === 'read' && this.rng.chance(0.5));
    if (node === undefined) {
      this.wakeAfter(index, c, 50_000);
      return;
    }
    op.attempt++;
    if (op.kind === 'write') {
      const requestId = `${c.id}:${op.seq}#${op.attempt}`;
      const result = node.propose(requestId, encodeCommand(c.id, op.seq));
      this.host.touch(node);
      if (result.ok) {
        this.host.trace(`${c.id} proposes ${c.id}:${op.seq} to ${node.id} (attempt ${op.attempt})`);
        this.wakeAfter(index, c, WRITE_TIMEOUT_US);
      } else {
        c.leaderHint = result.leaderId;
        this.wakeAfter(index, c, result.leaderId === NONE ? this.rng.range(20_000, 60_000) : this.rng.range(1_000, 5_000));
      }
    } else {
      const context = `${c.id}/r${op.n}#${op.attempt}`;
      this.host.trace(`${c.id} reads via ${node.id} (${context}, must cover index ${op.ackedIndexAtStart})`);
      node.readIndex(context);
      this.host.touch(node);
      this.wakeAfter(index, c, READ_TIMEOUT_US);
    }
  }

  private pickTarget(c: Client, anyNode: boolean): SimNode | undefined {
    const hinted = this.host.byId.get(c.leaderHint);
    if (!anyNode && hinted !== undefined && hinted.up && !hinted.removed) return hinted;
    const up = this.host.nodes.filter((n) => n.up && !n.removed);
    return up.length === 0 ? undefined : this.rng.pick(up);
  }

  /** A proposal settled on the node that accepted it. */
  proposalSettled(requestId: string, ok: boolean, index: number): void {
    const m = /^(c\d+):(\d+)#(\d+)$/.exec(requestId);
    if (m === null) throw new Error(`Clients: bad request id ${requestId}`);
    const i = this.list.findIndex((c) => c.id === m[1]);
    const c = this.list[i];
    const op = c?.op;
    if (c === undefined || op?.kind !== 'write' || op.seq !== Number(m[2])) return;
    if (ok) {
      this.writesAcked++;
      if (index > this.ackedIndexMax) this.ackedIndexMax = index;
      this.host.trace(`${c.id} acknowledged ${c.id}:${op.seq} at index ${index}`);
      c.op = null;
      this.wakeAfter(i, c, this.rng.range(0, 30_000));
    } else if (Number(m[3]) === op.attempt) {
      this.wakeAfter(i, c, this.rng.range(1_000, 20_000));
    }
  }

  /** A read answered by a node at `readIndex`: it must cover every write acknowledged before it began. */
  readServed(context: string, readIndex: number): void {
    const m = /^(c\d+)\/r(\d+)#\d+$/.exec(context);
    if (m === null) throw new Error(`Clients: bad read context ${context}`);
    const i = this.list.findIndex((c) => c.id === m[1]);
    const c = this.list[i];
    const op = c?.op;
    if (c === undefined || op?.kind !== 'read' || op.n !== Number(m[2])) return;
    if (readIndex < op.ackedIndexAtStart) {
      throw new SimViolation(
        'linearizability',
        `read ${context} got read index ${readIndex}, but a write was acknowledged at index ${op.ackedIndexAtStart} before the read began`,
      );
    }
    this.readsServed++;
    c.op = null;
    this.wakeAfter(i, c, this.rng.range(0, 30_000));
  }

  private wakeAfter(index: number, c: Client, delayUs: number): void {
    c.token++;
    this.host.wakeClient(index, c.token, delayUs);
  }
}
