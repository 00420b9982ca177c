// The seat-pool state machine of daemon/pool as the simulated nodes' application
// (`--app pool`). Each normal entry carries one pool command as JSON, applied
// with the entry's log index; snapshots are the pool's own codec
// (encodeSnapshot/decodeSnapshot), so InstallSnapshot and restart-from-disk
// exercise it. Checked here, on every node:
//  - after every applied command, checkInvariants(state) is empty (seats held
//    ≤ seats licensed per pool, and every index agrees with its facts);
//  - a restored snapshot re-encodes to the very bytes it was decoded from, and
//    passes checkInvariants;
//  - two nodes that encode a snapshot after the same pool command (compaction
//    points, restores) produce byte-identical snapshots.
// The cheap per-entry fingerprint (`digest`) folds each command's reply and
// events into a running hash; the full state (`stateDigest`, a hash of the
// snapshot bytes) is compared when the members have converged.
import {
  apply,
  checkInvariants,
  createPoolState,
  decodeSnapshot,
  encodeSnapshot,
  type ApplyResult,
  type PoolCommand,
  type PoolState,
} from '../../daemon/pool/index.ts';
import { SimViolation } from './invariants.ts';
import { hashBytes, hashString } from './prng.ts';
import type { SimStateMachine } from './state-machine.ts';

/** Envelope before the pool's snapshot bytes: magic "SIMP", u32 running hash, u32 commands applied. */
const ENVELOPE_BYTES = 12;
const MAGIC = 0x53494d50;

/** Shared by every node of one run: snapshot bytes seen per pool applied index. */
export class PoolSnapshotRegistry {
  /** Pool applied index → hash, length and node of the first snapshot encoded there. */
  private readonly byIndex = new Map<number, { hash: number; bytes: number; node: string }>();
  /** Snapshots compared (for the report). */
  compared = 0;

  /** Records or compares the snapshot `bytes` of `node`'s state after pool command `index`. */
  check(node: string, index: number, bytes: Uint8Array, what: string): void {
    const hash = hashBytes(bytes);
    const seen = this.byIndex.get(index);
    if (seen === undefined) {
      this.byIndex.set(index, { hash, bytes: bytes.length, node });
      return;
    }
    this.compared++;
    if (seen.hash !== hash || seen.bytes !== bytes.length) {
      throw new SimViolation(
        'snapshot-mismatch',
        `${node}'s pool snapshot (${what}) after the command at index ${index} is ${bytes.length} bytes hash ${hash.toString(16)}; ${seen.node}'s was ${seen.bytes} bytes hash ${seen.hash.toString(16)}`,
      );
    }
  }
}

/** The pool as a simulated application. `state` is read by the simulated clients and reaper. */
export class PoolApp implements SimStateMachine {
  state: PoolState = createPoolState();
  private hash = 0x811c9dc5;
  private applied = 0;
  private readonly nodeId: string;
  private readonly registry: PoolSnapshotRegistry;

  constructor(nodeId: string, registry: PoolSnapshotRegistry) {
    this.nodeId = nodeId;
    this.registry = registry;
  }

  get commandsApplied(): number {
    return this.applied;
  }

  apply(command: string, index: number): ApplyResult {
    const c = JSON.parse(command) as PoolCommand;
    const result = apply(this.state, c, index);
    this.applied++;
    this.hash = hashString(JSON.stringify(result), this.hash);
    const bad = checkInvariants(this.state);
    if (bad.length > 0) {
      throw new SimViolation('seat-invariant', `${this.nodeId} after ${c.type} at index ${index}: ${bad.join('; ')}`);
    }
    return result;
  }

  snapshot(): Uint8Array {
    const pool = encodeSnapshot(this.state);
    this.registry.check(this.nodeId, this.state.appliedIndex, pool, 'compaction');
    const out = new Uint8Array(ENVELOPE_BYTES + pool.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, MAGIC);
    view.setUint32(4, this.hash >>> 0);
    view.setUint32(8, this.applied);
    out.set(pool, ENVELOPE_BYTES);
    return out;
  }

  restore(data: Uint8Array): void {
    if (data.length === 0) {
      this.state = createPoolState();
      this.hash = 0x811c9dc5;
      this.applied = 0;
      return;
    }
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (data.length < ENVELOPE_BYTES || view.getUint32(0) !== MAGIC) throw new Error(`${this.nodeId}: not a pool snapshot`);
    this.hash = view.getUint32(4);
    this.applied = view.getUint32(8);
    // A copy: the codec reads its lease table as aligned float64s.
    const pool = data.slice(ENVELOPE_BYTES);
    this.state = decodeSnapshot(pool);
    const again = encodeSnapshot(this.state);
    if (again.length !== pool.length || hashBytes(again) !== hashBytes(pool) || !again.every((b, i) => b === pool[i])) {
      throw new SimViolation(
        'snapshot-mismatch',
        `${this.nodeId}: a pool snapshot after index ${this.state.appliedIndex} (${pool.length} bytes) decodes to a state that encodes to different bytes (${again.length})`,
      );
    }
    const bad = checkInvariants(this.state);
    if (bad.length > 0) throw new SimViolation('seat-invariant', `${this.nodeId} restored a pool snapshot at index ${this.state.appliedIndex}: ${bad.join('; ')}`);
    this.registry.check(this.nodeId, this.state.appliedIndex, pool, 'restore');
  }

  digest(): string {
    return `${this.applied}:${this.hash.toString(16)}`;
  }

  stateDigest(): string {
    const bytes = encodeSnapshot(this.state);
    this.registry.check(this.nodeId, this.state.appliedIndex, bytes, 'convergence');
    return `${bytes.length}/${hashBytes(bytes).toString(16)}`;
  }
}
