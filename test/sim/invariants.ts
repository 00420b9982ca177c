// Raft's safety properties, checked by the simulator as the cluster runs.
// Each check is fed by the driver at the moment the property could break
// (a Ready written to a disk, an entry applied, a leader seen) and throws a
// SimViolation naming the property, the node and the indexes involved.
//
// Checked:
//  - election safety: at most one leader per term;
//  - log matching: an (index, term) pair names one entry everywhere, and the
//    entry before it has one term everywhere (so equal pairs imply equal
//    prefixes, by induction over every entry ever written to any disk);
//  - committed entries never change or vanish from a disk that held them,
//    once the node is at or past the term they were committed in (a stale
//    leader may still overwrite entries of a node that lags behind);
//  - the commit index never goes back (per incarnation, and on disk);
//  - persisted term never goes back; a persisted vote never changes in a term;
//  - state machine safety: every node applies the same entry at each index,
//    and an application restored from a snapshot equals one that applied the
//    log up to that point;
//  - durable before sent: no message leaves a node before the term it
//    carries, a vote it grants or casts, or the entries it acknowledges are
//    on its disk (Figure 2: "respond to RPCs only after updating stable storage");
//  - a follower accepts entries only from the leader of its own term;
//  - a leader commits only by counting replicas of an entry of its own term
//    (§5.4.2): whenever a leader's commit index moves, it lands on such an entry;
//  - election timer: a follower starts an election only after an election
//    timeout without hearing its leader or granting a vote (Figure 2).
import type { Entry, Message, NodeId, Ready } from '../../daemon/raft/index.ts';
import { decodeText } from './state-machine.ts';
import type { SimNode } from './sim-node.ts';

/** The kinds of violation, one per property. */
export type ViolationKind =
  | 'election-safety'
  | 'log-matching'
  | 'committed-entry-changed'
  | 'committed-entry-vanished'
  | 'commit-went-back'
  | 'term-went-back'
  | 'vote-changed'
  | 'entry-term-ahead'
  | 'state-machine-safety'
  | 'snapshot-mismatch'
  | 'apply-order'
  | 'durability'
  | 'stale-append'
  | 'leader-commit-rule'
  | 'election-timer'
  | 'linearizability'
  | 'seat-invariant'
  | 'client-seats'
  | 'idempotency'
  | 'proposal-result'
  | 'proposal-fate'
  | 'apply-before-durable'
  | 'ack-before-durable'
  | 'ack-lost'
  | 'liveness'
  | 'convergence'
  | 'exception';

/** A broken property: the simulator stops and prints the seed. */
export class SimViolation extends Error {
  override readonly name = 'SimViolation';
  readonly kind: ViolationKind;
  constructor(kind: ViolationKind, message: string) {
    super(`${kind}: ${message}`);
    this.kind = kind;
  }
}

interface CanonicalEntry {
  readonly term: number;
  readonly type: Entry['type'];
  readonly data: string;
  /** Who applied it first, for the message. */
  readonly node: NodeId;
}

interface EntryIdentity {
  readonly prevTerm: number;
  readonly data: string;
  readonly type: Entry['type'];
  readonly node: NodeId;
}

/** The cluster-wide record the checks compare against. */
export class Invariants {
  /** term → the one node seen leading it. */
  private readonly leaderByTerm = new Map<number, NodeId>();
  /** index → the entry applied there (committed). */
  private readonly committed = new Map<number, CanonicalEntry>();
  /** Highest index in `committed`. */
  committedIndexMax = 0;
  /** index → application digest after applying it. */
  private readonly digestAt = new Map<number, string>();
  /** index → term → identity of the entry at (index, term) on any disk. */
  private readonly identities = new Map<number, Map<number, EntryIdentity>>();
  /** index → term of the leader that first committed it. */
  private readonly commitTerm = new Map<number, number>();
  private commitTermKnownMax = 0;
  /** Old terms of committed entries a write may replace, captured before the write. */
  private scratchOldTerms: { index: number; term: number }[] = [];
  /** Number of individual checks run, for the report. */
  checks = 0;

  /** Highest term any node was seen leading in. */
  get leaderTermMax(): number {
    let max = 0;
    for (const t of this.leaderByTerm.keys()) if (t > max) max = t;
    return max;
  }

  /** Records that `node` leads `term`; throws when another node already led it. */
  leaderSeen(node: NodeId, term: number): void {
    this.checks++;
    const other = this.leaderByTerm.get(term);
    if (other === undefined) this.leaderByTerm.set(term, node);
    else if (other !== node) throw new SimViolation('election-safety', `${node} and ${other} are both leaders of term ${term}`);
  }

  /** Checks a Ready against the disk before it is written. */
  beforePersist(node: SimNode, rd: Ready, wasLeader: boolean, isLeader: boolean): void {
    const disk = node.disk;
    const old = disk.initialState().hardState;
    const hs = rd.hardState;
    const commitBefore = Math.max(old.commit, node.commitSeen);
    if (hs !== undefined && isLeader && hs.commit > commitBefore) {
      // The term each index was first committed in: a leader of that term or later must hold it.
      for (let i = Math.max(commitBefore + 1, this.commitTermKnownMax + 1); i <= hs.commit; i++) this.commitTerm.set(i, hs.term);
      if (hs.commit > this.commitTermKnownMax) this.commitTermKnownMax = hs.commit;
    }
    if (hs !== undefined && wasLeader && isLeader && hs.commit > commitBefore) {
      // Leader all along since the last Ready: the commit moved by counting replicas.
      this.checks++;
      const inReady = rd.entries.find((e) => e.index === hs.commit);
      const t = inReady !== undefined ? inReady.term : disk.term(hs.commit);
      if (t !== hs.term) {
        throw new SimViolation(
          'leader-commit-rule',
          `leader ${node.id} of term ${hs.term} moved its commit index to ${hs.commit}, an entry of term ${t}: a leader commits only entries of its own term by counting replicas`,
        );
      }
    }
    if (hs !== undefined) {
      this.checks++;
      if (hs.term < old.term) {
        throw new SimViolation('term-went-back', `${node.id} persists term ${hs.term} over persisted term ${old.term}`);
      }
      if (hs.term === old.term && old.vote !== '' && hs.vote !== old.vote) {
        throw new SimViolation('vote-changed', `${node.id} persists vote ${hs.vote || '(none)'} over its vote ${old.vote} in term ${hs.term}`);
      }
      if (hs.commit < old.commit) {
        throw new SimViolation('commit-went-back', `${node.id} persists commit ${hs.commit} over persisted commit ${old.commit}`);
      }
      if (hs.commit < node.commitSeen) {
        throw new SimViolation('commit-went-back', `${node.id} reports commit ${hs.commit} after ${node.commitSeen} in the same incarnation`);
      }
      node.commitSeen = hs.commit;
    }
    const termNow = hs?.term ?? old.term;
    for (const e of rd.entries) {
      this.checks++;
      if (e.term > termNow) {
        throw new SimViolation('entry-term-ahead', `${node.id} writes entry ${e.index} of term ${e.term} while at term ${termNow}`);
      }
      // A node at a term ≥ the one an index was committed in follows a leader
      // that holds the committed entry (leader completeness), so it can write
      // nothing else there. (A stale leader or its stale follower may.)
      const c = this.committed.get(e.index);
      const ct = this.commitTerm.get(e.index);
      if (c !== undefined && ct !== undefined && termNow >= ct && (c.term !== e.term || c.type !== e.type || c.data !== decodeText(e.data))) {
        throw new SimViolation(
          'committed-entry-changed',
          `${node.id} at term ${termNow} writes entry ${e.index} term ${e.term} (${describe(e)}) over entry ${e.index} term ${c.term} (${c.type} ${JSON.stringify(c.data)}, applied by ${c.node}), committed in term ${ct}`,
        );
      }
    }
    // Capture the old terms of committed entries this write could remove.
    this.scratchOldTerms = [];
    let lo = Infinity;
    if (rd.entries.length > 0) lo = rd.entries[0]!.index;
    if (rd.snapshot !== undefined) lo = Math.min(lo, rd.snapshot.metadata.index + 1);
    if (lo !== Infinity) {
      const hi = Math.min(disk.lastIndex(), this.committedIndexMax);
      for (let i = Math.max(lo, disk.firstIndex()); i <= hi; i++) {
        const c = this.committed.get(i);
        const t = disk.term(i);
        const ct = this.commitTerm.get(i);
        if (c !== undefined && c.term === t && ct !== undefined && termNow >= ct) this.scratchOldTerms.push({ index: i, term: t });
      }
    }
  }

  /** Checks the disk right after a Ready was written to it. */
  afterPersist(node: SimNode, rd: Ready): void {
    const disk = node.disk;
    const base = disk.firstIndex() - 1;
    const last = disk.lastIndex();
    for (const { index, term } of this.scratchOldTerms) {
      this.checks++;
      if (index <= base) continue; // covered by the snapshot now held
      if (index > last || disk.term(index) !== term) {
        throw new SimViolation(
          'committed-entry-vanished',
          `${node.id} at term ${node.disk.initialState().hardState.term} held entry ${index} term ${term}, committed in term ${this.commitTerm.get(index)}; after writing ${describeReady(rd)} its log ${index > last ? `ends at ${last}` : `has term ${disk.term(index)} there`}`,
        );
      }
    }
    // Log matching, over every entry just written.
    for (const e of rd.entries) {
      if (e.index <= base) continue;
      this.checks++;
      const prevTerm = disk.term(e.index - 1);
      let byTerm = this.identities.get(e.index);
      if (byTerm === undefined) {
        byTerm = new Map();
        this.identities.set(e.index, byTerm);
      }
      const data = decodeText(e.data);
      const id = byTerm.get(e.term);
      if (id === undefined) {
        byTerm.set(e.term, { prevTerm, data, type: e.type, node: node.id });
      } else if (id.prevTerm !== prevTerm || id.data !== data || id.type !== e.type) {
        throw new SimViolation(
          'log-matching',
          `entry (${e.index}, term ${e.term}) on ${node.id} is ${describe(e)} after term ${prevTerm}; on ${id.node} it is ${id.type} ${JSON.stringify(id.data)} after term ${id.prevTerm}`,
        );
      }
    }
  }

  /**
   * Checks that a message about to be sent depends only on what the sender's
   * disk already holds (the driver persisted this Ready before sending).
   */
  beforeSend(node: SimNode, m: Message): void {
    this.checks++;
    // What a crash would leave: a real driver's disk syncs after the write.
    const disk = node.durableDisk;
    const hs = disk.initialState().hardState;
    // A pre-vote asks for term+1 without adopting it; a granted pre-vote answer carries the asked term.
    const carriesOwnTerm = m.type !== 'pre-vote' && !(m.type === 'pre-vote-resp' && !m.reject);
    if (carriesOwnTerm && m.term > hs.term) {
      throw new SimViolation('durability', `${node.id} sends ${m.type} in term ${m.term} to ${m.to} while its disk holds term ${hs.term}`);
    }
    if ((m.type === 'vote-resp' && !m.reject) || m.type === 'vote') {
      // A vote of an earlier term may go out unrecorded: the durable later term
      // already forbids voting in that term again.
      const votedFor = m.type === 'vote' ? node.id : m.to;
      if (hs.term === m.term && hs.vote !== votedFor) {
        throw new SimViolation(
          'durability',
          `${node.id} sends ${m.type === 'vote' ? 'a vote request' : `a granted vote to ${m.to}`} in term ${m.term} while its disk holds term ${hs.term} vote ${hs.vote || '(none)'}`,
        );
      }
    }
    if (m.type === 'rejoin' && m.index > 0 && m.index > disk.lastIndex()) {
      // A claim of what a rejoining node holds must be true of what a crash would leave.
      throw new SimViolation('durability', `${node.id} claims to hold up to ${m.index} (rejoin) while its disk ends at ${disk.lastIndex()}`);
    }
    if (m.type === 'app-resp' && !m.reject && m.index > 0) {
      if (m.index > disk.lastIndex()) {
        throw new SimViolation('durability', `${node.id} acknowledges entries up to ${m.index} to ${m.to} while its disk ends at ${disk.lastIndex()}${node.disk !== disk ? ` (${node.disk.lastIndex()} before its sync)` : ''}`);
      }
      // Entries are accepted only from the leader of the follower's own term.
      const leader = this.leaderByTerm.get(m.term);
      if (leader !== m.to) {
        throw new SimViolation(
          'stale-append',
          `${node.id} acknowledges entries up to ${m.index} to ${m.to} in term ${m.term}, whose leader is ${leader ?? 'unknown'}: it accepted an append from a stale leader`,
        );
      }
    }
  }

  /** A node started an election (became pre-candidate or candidate on its own timer). */
  campaignStarted(node: SimNode, electionTicks: number): void {
    this.checks++;
    const quiet = node.ticks - node.lastTimerResetTick;
    // One tick of slack: a granted vote is seen when its answer is sent, up to a tick after the grant.
    if (quiet < electionTicks - 1) {
      throw new SimViolation(
        'election-timer',
        `${node.id} started an election ${quiet} ticks after it last granted a vote or heard its leader (election timeout ${electionTicks} ticks)`,
      );
    }
  }

  /** Checks an applied entry against what every other node applied at that index. */
  applied(node: SimNode, e: Entry, digest: string): void {
    this.checks++;
    const data = decodeText(e.data);
    const c = this.committed.get(e.index);
    if (c === undefined) {
      this.committed.set(e.index, { term: e.term, type: e.type, data, node: node.id });
      if (e.index > this.committedIndexMax) this.committedIndexMax = e.index;
    } else if (c.term !== e.term || c.type !== e.type || c.data !== data) {
      throw new SimViolation(
        'state-machine-safety',
        `${node.id} applies entry ${e.index} term ${e.term} (${describe(e)}) but ${c.node} applied term ${c.term} (${c.type} ${JSON.stringify(c.data)})`,
      );
    }
    const d = this.digestAt.get(e.index);
    if (d === undefined) this.digestAt.set(e.index, digest);
    else if (d !== digest) {
      throw new SimViolation('state-machine-safety', `${node.id}'s state after entry ${e.index} is ${digest}, another node's was ${d}`);
    }
  }

  /** Checks an application restored from a snapshot against the state others reached at that index. */
  restored(node: SimNode, index: number, digest: string): void {
    this.checks++;
    const d = this.digestAt.get(index);
    if (d !== undefined && d !== digest) {
      throw new SimViolation('snapshot-mismatch', `${node.id} restored a snapshot at ${index} with state ${digest}; applying the log gave ${d}`);
    }
  }

  /** The entry applied at `index`, if any node applied one. */
  committedAt(index: number): { term: number; data: string } | undefined {
    return this.committed.get(index);
  }
}

function describe(e: Entry): string {
  return `${e.type} ${JSON.stringify(decodeText(e.data))}`;
}

function describeReady(rd: Ready): string {
  const parts: string[] = [];
  if (rd.snapshot !== undefined) parts.push(`snapshot@${rd.snapshot.metadata.index}`);
  if (rd.entries.length > 0) parts.push(`entries ${rd.entries[0]!.index}..${rd.entries[rd.entries.length - 1]!.index}`);
  return parts.join(' + ') || 'nothing';
}
