// (~800 lines: one client population whose operations, leader duties and
// checks all read and write the same per-client records; see the list below.)
// Pool traffic for `--app pool`: an admin that installs one license, client
// applications that open a session and then heartbeat (renew), check seats out
// (some waiting in the queue), check them in and read (ReadIndex); and the
// leader's duties: a grace period at every new leader and a reaper that
// proposes `expire` once the pool's nextDeadlineMs has come. Every command is
// stamped with `at` by the node that proposes it, from that node's virtual
// clock (skewed per node), never behind the previous command it stamped or the
// pool time it has applied. Requests go to the believed leader, follow
// redirects and retry with the same (clientId, requestId) after a timeout.
//
// Checked from the clients' own records (a seat counts from its acknowledged
// grant until its checkin is sent or an event ending it is seen; events are
// seen when the first node applies their entry, as a pushed notice would be):
//  - at no instant do the clients hold more seats than the license grants;
//  - a (clientId, requestId) checkout is granted at most one lease, however
//    often it is retried;
//  - a read served at a node covers every write acknowledged before it
//    began, and that node's state holds every lease the reader holds whose
//    grant it has applied;
//  - when a session is found gone, none of its leases is still held by the
//    records (its end was announced);
//  - at the end, every lease the clients hold is held in the pool, and every
//    lease held in the pool is held by the client that owns it.
import { ClusterClock, type ClockReading } from '../../daemon/node/cluster-clock.ts';
import type { ApplyResult, LeaseGrant, PoolCommand, PoolReply } from '../../daemon/pool/index.ts';
import { nextDeadlineMs } from '../../daemon/pool/index.ts';
import { NONE, type Entry, type NodeId } from '../../daemon/raft/index.ts';
import type { LicensePayload } from '../../protocol/license-payload.ts';
import type { Policy, PolicyRule } from '../../protocol/policy.ts';
import type { ClientsHost, SimClients } from './clients.ts';
import { SimViolation } from './invariants.ts';
import { PoolApp, type PoolSnapshotRegistry } from './pool-app.ts';
import type { Prng } from './prng.ts';
import type { SimNode } from './sim-node.ts';
import { decodeText } from './state-machine.ts';

/** The simulated wall clock starts here, ms since the epoch. */
const EPOCH_MS = 1_790_000_000_000;
/** A write gets no answer for this long: retry elsewhere, µs. */
const WRITE_TIMEOUT_US = 1_000_000;
/** A read gets no answer for this long: retry, µs. */
const READ_TIMEOUT_US = 500_000;
/** The leader's duties (grace, reaper) run this often, µs. */
const REAPER_PERIOD_US = 10_000;
/** A reaper proposal not settled this long is proposed again, µs. */
const REAPER_RETRY_US = 300_000;
/** Leases plus queued checkouts a client keeps at most before it checks one in. */
const LEASES_PER_CLIENT_MAX = 3;
/** The one feature licensed. */
const FEATURE = 'cad';

/** What the pool traffic did in one run. */
export interface PoolStats {
  seats: number;
  grants: number;
  grantsFromQueue: number;
  queued: number;
  denials: number;
  checkins: number;
  revoked: number;
  /** Leases ended by their session's expiry (checked in by the pool). */
  endedWithSession: number;
  sessionsOpened: number;
  sessionsLost: number;
  expires: number;
  graces: number;
  retries: number;
  snapshotsCompared: number;
  /** Seats borrowed (acknowledged), returned early, ended at their time; borrows refused. */
  borrows: number;
  returns: number;
  borrowEnds: number;
  borrowDenials: number;
  /** Policies set, and checkouts and borrows the policy refused (POLICY_EXCLUDED, POLICY_MAX). */
  policies: number;
  policyRefusals: number;
}

type Body = Record<string, unknown> & { readonly type: PoolCommand['type'] };

interface WriteOp {
  readonly kind: 'write';
  readonly seq: number;
  readonly body: Body;
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

interface HeldLease {
  readonly count: number;
  /** Borrowed: no session holds it (it outlives session losses) and it is given back with return. */
  readonly borrowed: boolean;
  readonly sessionId: string;
  /** Log index of the command that granted it. */
  readonly fencingToken: number;
  readonly requestId: string;
}

interface PoolClient {
  readonly id: string;
  readonly admin: boolean;
  readonly user: string;
  readonly host: string;
  seq: number;
  reads: number;
  sessionNo: number;
  /** The open session, as far as the client knows. */
  session: string | null;
  installed: boolean;
  op: WriteOp | ReadOp | null;
  leaderHint: NodeId;
  token: number;
  lastRenewUs: number;
  /** Leases held by the records, by id. */
  readonly held: Map<string, HeldLease>;
  /** Queued checkouts (requestId → sessionId). */
  readonly waiting: Map<string, string>;
  /** Checkouts granted or dequeued by an event (so a late 'queued' answer is stale). */
  readonly resolved: Set<string>;
}

/** The pool-mode client population and leader duties of one run. */
export class PoolClients implements SimClients {
  writesAcked = 0;
  readsServed = 0;
  stopped = false;
  readonly stats: PoolStats;
  private readonly host: ClientsHost;
  private readonly rng: Prng;
  private readonly readRate: number;
  private readonly registry: PoolSnapshotRegistry;
  private readonly list: PoolClient[] = [];
  private readonly byId = new Map<string, PoolClient>();
  private readonly license: LicensePayload;
  private readonly leaseTtlMs: number;
  private readonly heartbeatUs: number;
  private readonly graceMs: number;
  private readonly skewMsByNode = new Map<NodeId, number>();
  /** A wall-clock excursion of one node, drawn per seed (or none): its wall clock is off by stepMs from startUs to endUs. */
  private readonly excursion: { readonly nodeId: NodeId; readonly startUs: number; readonly endUs: number; readonly stepMs: number } | undefined;
  /** Per node incarnation, its cluster clock (the production ClusterClock: a restart starts a fresh one). */
  private readonly clocks = new Map<NodeId, { inc: number; clock: ClusterClock }>();
  /** Highest index of which the clients have seen the events (the first application of every entry up to it). */
  private frontier = 0;
  private ackedIndexMax = 0;
  /** Leases whose end was seen, with why. */
  private readonly ended = new Map<string, string>();
  /** `${clientId}\n${requestId}` → the one lease that checkout was granted. */
  private readonly grantByRequest = new Map<string, string>();
  private readonly reaperIndex: number;
  /** Log positions per Raft entry in fencing tokens and entryApplied: 1 (one command per entry), or the driver's PROPOSALS_PER_ENTRY_MAX. */
  private readonly positionsPerEntry: number;
  private reaperToken = 0;
  private reaperSeq = 0;
  private readonly reaperPending = new Map<NodeId, { requestId: string; inc: number; sinceUs: number }>();
  /** Per node, `${incarnation}/${term}` of the leadership it proposed grace for. */
  private readonly graceFor = new Map<NodeId, string>();
  /** The policy traffic's own stream, so its draws do not shift the fault draws of the seed. */
  private readonly policyRng: Prng;
  /** The policies the admin sets, in order; the second one `policyChangeUs` after the start. */
  private readonly policies: Policy[];
  private policiesSet = 0;
  private readonly policyChangeUs: number;
  /** A borrow-key-set proposal in flight (one leader duty at a time). */
  private borrowKeyPending: { requestId: string; sinceUs: number } | undefined;

  constructor(host: ClientsHost, rng: Prng, nodeIds: readonly NodeId[], readRate: number, registry: PoolSnapshotRegistry, positionsPerEntry = 1) {
    this.positionsPerEntry = positionsPerEntry;
    this.host = host;
    this.rng = rng;
    this.readRate = readRate;
    this.registry = registry;
    const seats = rng.range(3, 10);
    this.license = {
      v: 1,
      licenseId: 'K-sim-1',
      authCode: 'AUTH-SIM-1',
      vendorKeyId: 'vendor-sim',
      product: FEATURE,
      version: '2',
      model: 'concurrent',
      seats,
      components: [],
      issuedAt: EPOCH_MS - 86_400_000,
      notBefore: EPOCH_MS - 86_400_000,
      lockCodes: ['LC-1', 'LC-2', 'LC-3'],
      lingerSeconds: rng.chance(0.3) ? 1 : 0,
      hostsPerUserMax: 1,
      borrowAllowed: true,
      borrowHoursMax: 1,
    };
    this.leaseTtlMs = rng.range(300, 1_200);
    this.heartbeatUs = Math.round((this.leaseTtlMs * 1000) / rng.range(3, 5));
    this.graceMs = rng.range(200, 800);
    for (const id of nodeIds) this.skewMsByNode.set(id, rng.range(-40, 40));
    const count = rng.range(2, 6);
    this.list.push(newClient('admin', true, '', ''));
    for (let i = 1; i <= count; i++) this.list.push(newClient(`c${i}`, false, `u${i}`, `h${rng.range(1, 3)}`));
    for (const c of this.list) this.byId.set(c.id, c);
    this.reaperIndex = this.list.length;
    const clockRng = rng.fork('clock-excursion');
    this.excursion = clockRng.chance(0.4)
      ? (() => {
          const startUs = clockRng.range(100_000, 2_000_000);
          return { nodeId: clockRng.pick(nodeIds), startUs, endUs: startUs + clockRng.range(200_000, 1_500_000), stepMs: clockRng.pick([60_000, -60_000, 3 * 86_400_000, -3 * 86_400_000]) };
        })()
      : undefined;
    this.stats = {
      seats,
      grants: 0,
      grantsFromQueue: 0,
      queued: 0,
      denials: 0,
      checkins: 0,
      revoked: 0,
      endedWithSession: 0,
      sessionsOpened: 0,
      sessionsLost: 0,
      expires: 0,
      graces: 0,
      retries: 0,
      snapshotsCompared: 0,
      borrows: 0,
      returns: 0,
      borrowEnds: 0,
      borrowDenials: 0,
      policies: 0,
      policyRefusals: 0,
    };
    this.policyRng = rng.fork('policy');
    this.policies = [this.randomPolicy(count), this.randomPolicy(count)];
    this.policyChangeUs = this.policyRng.range(200_000, 1_500_000);
  }

  /** A small seat policy over the run's users: reservations, max limits, an exclusion, priority, borrow and ttl settings. */
  private randomPolicy(users: number): Policy {
    const r = this.policyRng;
    const user = () => `u${r.range(1, users)}`;
    const rules: PolicyRule[] = [];
    let line = 0;
    if (r.chance(0.6)) rules.push({ kind: 'reserve', count: r.range(1, 2), feature: FEATURE, line: ++line, who: { type: 'user', name: user() } });
    if (r.chance(0.4)) rules.push({ kind: 'reserve', count: 1, feature: FEATURE, line: ++line, who: { type: 'group', name: 'team' } });
    if (r.chance(0.5)) rules.push({ kind: 'max', count: r.range(1, 3), feature: FEATURE, line: ++line, each: 'user' });
    if (r.chance(0.3)) rules.push({ kind: 'max', count: r.range(2, 4), feature: FEATURE, line: ++line, who: { type: 'user', name: user() } });
    if (r.chance(0.25)) rules.push({ kind: 'exclude', scope: r.chance(0.5) ? 'use' : 'borrow', feature: FEATURE, line: ++line, who: { type: 'user', name: user() } });
    if (r.chance(0.4)) rules.push({ kind: 'priority', level: r.range(1, 5), feature: '*', line: ++line, who: { type: 'group', name: 'team' } });
    const settings = {
      feature: FEATURE,
      line: ++line,
      ...(r.chance(0.4) ? { borrowLowWater: r.range(0, 2) } : {}),
      ...(r.chance(0.3) ? { borrowSharePercentMax: r.pick([34, 50, 100]) } : {}),
      ...(r.chance(0.3) ? { leaseTtlSecondsMin: 1 } : {}),
    };
    const team = [user(), user()];
    return { caseSensitive: false, groups: [['team', [...new Set(team)]]], hostGroups: [], rules, features: [settings] };
  }

  describe(): string {
    const x = this.excursion;
    const excursion = x === undefined ? 'none' : `${x.nodeId} ${x.stepMs > 0 ? '+' : ''}${x.stepMs} ms from ${x.startUs / 1000} to ${x.endUs / 1000} ms`;
    return `${this.list.length - 1} clients, ${this.license.seats} seats of ${FEATURE} v${this.license.version}, linger ${this.license.lingerSeconds} s, lease ttl ${this.leaseTtlMs} ms, heartbeat ${this.heartbeatUs / 1000} ms, grace ${this.graceMs} ms, clock skews ${JSON.stringify(Object.fromEntries(this.skewMsByNode))} ms, wall-clock excursion ${excursion}`;
  }

  start(): void {
    this.list.forEach((c, i) => this.wakeAfter(i, c, this.rng.range(0, 50_000)));
    this.host.wakeClient(this.reaperIndex, ++this.reaperToken, REAPER_PERIOD_US);
  }

  stop(): void {
    this.stopped = true;
  }

  idle(): boolean {
    return this.list.every((c) => c.op === null);
  }

  describePending(): string {
    return this.list
      .filter((c) => c.op !== null)
      .map((c) => {
        const op = c.op!;
        const what = op.kind === 'write' ? `${op.body.type} ${c.id}:${op.seq}` : `read ${c.id}/r${op.n}`;
        return `${what} attempt ${op.attempt} since ${(op.startUs / 1000).toFixed(1)}ms`;
      })
      .join(', ');
  }

  // ---- time -------------------------------------------------------------------

  /** `node`'s clocks: monotonic (virtual time) and wall (virtual time plus the node's skew and any excursion), ms. */
  private reading(node: SimNode): ClockReading {
    const x = this.excursion;
    const stepMs = x !== undefined && x.nodeId === node.id && this.host.nowUs >= x.startUs && this.host.nowUs < x.endUs ? x.stepMs : 0;
    return { monoMs: this.host.nowUs / 1000, wallMs: EPOCH_MS + Math.floor(this.host.nowUs / 1000) + (this.skewMsByNode.get(node.id) ?? 0) + stepMs };
  }

  /** `node`'s cluster clock in its current incarnation (a restarted node starts a fresh one, as a process does). */
  private clockOf(node: SimNode): ClusterClock {
    const c = this.clocks.get(node.id);
    if (c !== undefined && c.inc === node.incarnation) return c.clock;
    const clock = new ClusterClock({ slewRatio: 0.05, dateToleranceMs: 86_400_000 });
    this.clocks.set(node.id, { inc: node.incarnation, clock });
    return clock;
  }

  private poolNowMs(node: SimNode): number {
    return node.app instanceof PoolApp ? node.app.state.nowMs : 0;
  }

  /** Cluster time at `node` now: what it would stamp (never behind what it stamped or applied before). */
  private stampPreview(node: SimNode): number {
    return this.clockOf(node).peek(this.reading(node), this.poolNowMs(node));
  }

  private propose(node: SimNode, requestId: string, body: Body): { ok: boolean; leaderId: NodeId } {
    const stamp = this.clockOf(node).stamp(this.reading(node), this.poolNowMs(node));
    const result = node.propose(requestId, new TextEncoder().encode(JSON.stringify({ ...body, ...stamp })));
    this.host.touch(node);
    return result;
  }

  // ---- the clients ------------------------------------------------------------

  wake(index: number, token: number): void {
    if (index === this.reaperIndex) {
      if (token === this.reaperToken) this.reaperTick();
      return;
    }
    const c = this.list[index];
    if (c === undefined || c.token !== token) return;
    if (c.op === null) {
      const op = this.nextOp(c);
      if (op === null) return;
      c.op = op;
    }
    this.attempt(index, c);
  }

  /** The client's next request, or null when it has nothing to do. */
  private nextOp(c: PoolClient): WriteOp | ReadOp | null {
    const now = this.host.nowUs;
    const write = (body: Body): WriteOp => ({ kind: 'write', seq: ++c.seq, body, attempt: 0, startUs: now });
    if (this.stopped) return null;
    if (c.admin) {
      if (!c.installed) return write({ type: 'license-install', license: this.license });
      if (this.policiesSet >= this.policies.length) return null;
      if (this.policiesSet > 0 && now < this.policyChangeUs) {
        this.wakeAfter(0, c, this.policyChangeUs - now);
        return null;
      }
      return write({ type: 'policy-set', policy: this.policies[this.policiesSet]!, format: 'floe', text: '', revokeViolating: false });
    }
    if (c.session === null) {
      return write({
        type: 'session-open',
        sessionId: `${c.id}-s${++c.sessionNo}`,
        clientId: c.id,
        user: c.user,
        host: c.host,
        app: 'sim',
        sessionTtlMs: this.leaseTtlMs,
      });
    }
    if (now - c.lastRenewUs >= this.heartbeatUs) {
      c.lastRenewUs = now;
      return write({ type: 'renew', leaseIds: [], sessionIds: [c.session], leaseTtlMs: this.leaseTtlMs });
    }
    if (this.rng.chance(this.readRate)) {
      return { kind: 'read', n: ++c.reads, attempt: 0, startUs: now, ackedIndexAtStart: this.ackedIndexMax };
    }
    const borrowed = [...c.held.entries()].filter(([, h]) => h.borrowed).map(([id]) => id);
    if (borrowed.length > 0 && (c.held.size + c.waiting.size >= LEASES_PER_CLIENT_MAX || this.policyRng.chance(0.25))) {
      const leaseId = this.policyRng.pick(borrowed);
      // The seat stops counting when its return is sent, as for a checkin.
      c.held.delete(leaseId);
      return write({ type: 'return', clientId: c.id, requestId: `r${c.seq + 1}`, leaseId });
    }
    const checkedOut = [...c.held.entries()].filter(([, h]) => !h.borrowed).map(([id]) => id);
    if (checkedOut.length > 0 && (c.held.size + c.waiting.size >= LEASES_PER_CLIENT_MAX || this.rng.chance(0.45))) {
      const leaseId = this.rng.pick(checkedOut);
      // The seat stops counting when its checkin is sent.
      c.held.delete(leaseId);
      return write({ type: 'checkin', sessionId: c.session, requestId: `r${c.seq + 1}`, leaseId });
    }
    if (c.held.size + c.waiting.size < LEASES_PER_CLIENT_MAX && this.policyRng.chance(0.1)) {
      return write({ type: 'borrow', sessionId: c.session, requestId: `r${c.seq + 1}`, feature: FEATURE, durationMs: this.policyRng.range(200, 2_500), fingerprint: `fp-${c.id}` });
    }
    if (c.waiting.size >= LEASES_PER_CLIENT_MAX) return write({ type: 'renew', leaseIds: [], sessionIds: [c.session], leaseTtlMs: this.leaseTtlMs });
    const seq = c.seq + 1;
    const version = this.rng.pick(['2', '1', '']);
    const body: Body = {
      type: 'checkout',
      sessionId: c.session,
      requestId: `r${seq}`,
      feature: FEATURE,
      ...(version === '' ? {} : { version }),
      count: this.rng.chance(0.15) ? 2 : 1,
      wait: this.rng.chance(0.35),
      leaseTtlMs: this.leaseTtlMs,
      waitMs: this.rng.range(100, 1_000),
    };
    return write(body);
  }

  private attempt(index: number, c: PoolClient): void {
    const op = c.op!;
    const node = this.pickTarget(c, op.kind === 'read' && this.rng.chance(0.5));
    if (node === undefined) {
      this.wakeAfter(index, c, 50_000);
      return;
    }
    op.attempt++;
    if (op.attempt > 1) this.stats.retries++;
    if (op.kind === 'read') {
      const context = `${c.id}/r${op.n}#${op.attempt}`;
      this.host.trace(`${c.id} reads via ${node.id} (${context}, must cover index ${op.ackedIndexAtStart})`);
      node.readIndex(context);
      this.host.touch(node);
      this.wakeAfter(index, c, READ_TIMEOUT_US);
      return;
    }
    const requestId = `${c.id}:${op.seq}#${op.attempt}`;
    const result = this.propose(node, requestId, op.body);
    if (result.ok) {
      this.host.trace(`${c.id} proposes ${op.body.type} ${c.id}:${op.seq} to ${node.id} (attempt ${op.attempt})`);
      this.wakeAfter(index, c, WRITE_TIMEOUT_US);
    } else {
      c.leaderHint = result.leaderId;
      this.wakeAfter(index, c, result.leaderId === NONE ? this.rng.range(20_000, 60_000) : this.rng.range(1_000, 5_000));
    }
  }

  private pickTarget(c: PoolClient, anyNode: boolean): SimNode | undefined {
    const hinted = this.host.byId.get(c.leaderHint);
    if (!anyNode && hinted !== undefined && hinted.up && !hinted.removed) return hinted;
    const up = this.host.nodes.filter((n) => n.up && !n.removed);
    return up.length === 0 ? undefined : this.rng.pick(up);
  }

  proposalSettled(requestId: string, ok: boolean, index: number, result?: unknown): void {
    if (requestId.startsWith('leader:')) {
      this.leaderProposalSettled(requestId);
      return;
    }
    const m = /^(admin|c\d+):(\d+)#(\d+)$/.exec(requestId);
    if (m === null) throw new Error(`PoolClients: bad request id ${requestId}`);
    const i = this.list.findIndex((c) => c.id === m[1]);
    const c = this.list[i];
    const op = c?.op;
    if (c === undefined || op?.kind !== 'write' || op.seq !== Number(m[2])) return;
    if (!ok) {
      if (Number(m[3]) === op.attempt) this.wakeAfter(i, c, this.rng.range(1_000, 20_000));
      return;
    }
    this.writesAcked++;
    if (index > this.ackedIndexMax) this.ackedIndexMax = index;
    const reply = (result as ApplyResult).reply;
    this.host.trace(`${c.id} answered ${op.body.type} ${c.id}:${op.seq} at index ${index}: ${describeReply(reply)}`);
    this.answered(c, op, index, reply);
    c.op = null;
    this.wakeAfter(i, c, this.rng.range(0, 30_000));
  }

  /** The client hears the answer to `op`, applied at `index`. */
  private answered(c: PoolClient, op: WriteOp, index: number, reply: PoolReply): void {
    const body = op.body;
    const sessionGone = !reply.ok && reply.code === 'SESSION_NOT_FOUND';
    switch (body.type) {
      case 'license-install':
        if (!reply.ok && reply.code !== 'LICENSE_EXISTS') throw new Error(`PoolClients: license install refused: ${reply.code}`);
        c.installed = true;
        return;
      case 'policy-set':
        if (!reply.ok) throw new Error(`PoolClients: policy-set refused: ${reply.code}`);
        this.policiesSet++;
        this.stats.policies++;
        return;
      case 'borrow': {
        const requestId = body['requestId'] as string;
        if (sessionGone) this.sessionLost(c, body['sessionId'] as string, index);
        else if (!reply.ok) {
          this.stats.borrowDenials++;
          if (reply.code === 'POLICY_EXCLUDED' || reply.code === 'POLICY_MAX') this.stats.policyRefusals++;
        } else if (reply.type === 'borrowed') {
          this.stats.borrows++;
          this.hold(c, reply.lease, requestId, body['sessionId'] as string, 'answer', true);
        }
        return;
      }
      case 'return':
        // A return needs no session (the seat is the client's): it is never SESSION_NOT_FOUND.
        if (reply.ok) this.stats.returns++;
        return;
      case 'session-open':
        if (reply.ok || reply.code === 'SESSION_EXISTS') {
          c.session = body['sessionId'] as string;
          c.lastRenewUs = op.startUs;
          this.stats.sessionsOpened++;
        }
        return;
      case 'checkout': {
        const requestId = body['requestId'] as string;
        if (sessionGone) this.sessionLost(c, body['sessionId'] as string, index);
        else if (!reply.ok) {
          this.stats.denials++;
          if (reply.code === 'POLICY_EXCLUDED' || reply.code === 'POLICY_MAX') this.stats.policyRefusals++;
        }
        else if (reply.type === 'granted') this.hold(c, reply.lease, requestId, body['sessionId'] as string, 'answer');
        else if (reply.type === 'queued') {
          this.stats.queued++;
          if (!c.resolved.has(requestId)) c.waiting.set(requestId, body['sessionId'] as string);
        }
        return;
      }
      case 'checkin':
        if (sessionGone) this.sessionLost(c, body['sessionId'] as string, index);
        else if (reply.ok) this.stats.checkins++;
        return;
      case 'renew': {
        const sid = (body['sessionIds'] as string[])[0]!;
        if (reply.ok && reply.type === 'renewed' && reply.unknownSessionIds.includes(sid)) this.sessionLost(c, sid, index);
        return;
      }
      default:
        throw new Error(`PoolClients: unexpected command ${body.type}`);
    }
  }

  /** The client counts the seats of `lease` as its own from now (unless its end was already seen). */
  private hold(c: PoolClient, lease: LeaseGrant, requestId: string, sessionId: string, how: 'answer' | 'event', borrowed = false): void {
    if (this.ended.has(lease.leaseId) || c.held.has(lease.leaseId)) return;
    c.held.set(lease.leaseId, { count: lease.count, borrowed, sessionId, fencingToken: lease.fencingToken, requestId });
    this.stats.grants++;
    if (how === 'event') this.stats.grantsFromQueue++;
    let total = 0;
    for (const x of this.list) for (const h of x.held.values()) total += h.count;
    if (total > this.license.seats) {
      throw new SimViolation(
        'client-seats',
        `${c.id} was granted ${lease.leaseId} (${lease.count} seat(s), index ${lease.fencingToken}, by ${how}): the clients now hold ${total} seats of ${this.license.seats} licensed (${this.describeHeld()})`,
      );
    }
  }

  /** The pool no longer knows `sessionId`: its end must have been announced, lease by lease. */
  private sessionLost(c: PoolClient, sessionId: string, index: number): void {
    if (c.session !== sessionId) return;
    c.session = null;
    this.stats.sessionsLost++;
    for (const [requestId, sid] of c.waiting) if (sid === sessionId) c.waiting.delete(requestId);
    // A borrowed seat belongs to no session: it outlives this one.
    const left = [...c.held.entries()].filter(([, h]) => h.sessionId === sessionId && !h.borrowed);
    if (left.length > 0) {
      throw new SimViolation(
        'client-seats',
        `${c.id} learned at index ${index} that session ${sessionId} is gone, but still holds ${left.map(([id]) => id).join(', ')}: no event ended them`,
      );
    }
  }

  readServed(context: string, readIndex: number, node: SimNode): void {
    const m = /^(c\d+)\/r(\d+)#\d+$/.exec(context);
    if (m === null) throw new Error(`PoolClients: bad read context ${context}`);
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
    const app = node.app as PoolApp;
    for (const [leaseId, h] of c.held) {
      if (Math.floor(h.fencingToken / this.positionsPerEntry) > node.appliedIndex) continue;
      const l = app.state.leases.get(leaseId);
      if (l === undefined || l.lingerSeq > 0 || l.clientId !== c.id) {
        throw new SimViolation(
          'linearizability',
          `read ${context} served by ${node.id} at applied index ${node.appliedIndex} does not show lease ${leaseId} that ${c.id} holds (granted at index ${h.fencingToken}, no end seen)`,
        );
      }
    }
    this.readsServed++;
    c.op = null;
    this.wakeAfter(i, c, this.rng.range(0, 30_000));
  }

  // ---- what the cluster applies -------------------------------------------------

  entryApplied(node: SimNode, e: Entry, result: unknown): void {
    // A follower of a known leader continues cluster time from what it applied (as floe-node does).
    if (node.up) {
      const st = node.status();
      if (st.role !== 'leader' && st.leaderId !== NONE) this.clockOf(node).follow(this.poolNowMs(node), this.host.nowUs / 1000);
    }
    if (e.index <= this.frontier) return;
    // Log positions of batched entries are not contiguous; the first node to
    // apply a position applied every earlier one (checked by apply-order).
    if (this.positionsPerEntry === 1 && e.index !== this.frontier + 1) {
      throw new Error(`PoolClients: entry ${e.index} applied first while the clients saw entries up to ${this.frontier} only`);
    }
    this.frontier = e.index;
    if (result === undefined) return;
    const r = result as ApplyResult;
    const cmd = JSON.parse(decodeText(e.data)) as PoolCommand;
    if (cmd.type === 'expire') this.stats.expires++;
    else if (cmd.type === 'grace') this.stats.graces++;
    else if (cmd.type === 'checkout' || cmd.type === 'borrow') {
      const clientId = cmd.sessionId.slice(0, cmd.sessionId.indexOf('-'));
      if (r.reply.ok && (r.reply.type === 'granted' || r.reply.type === 'borrowed')) this.oneLeasePerRequest(clientId, cmd.requestId, r.reply.lease.leaseId, e.index);
    }
    for (const ev of r.events) {
      switch (ev.kind) {
        case 'granted': {
          this.oneLeasePerRequest(ev.clientId, ev.requestId, ev.lease.leaseId, e.index);
          const c = this.byId.get(ev.clientId);
          if (c === undefined) break;
          c.resolved.add(ev.requestId);
          c.waiting.delete(ev.requestId);
          this.host.trace(`${c.id} hears: queued ${ev.requestId} granted ${ev.lease.leaseId}`);
          this.hold(c, ev.lease, ev.requestId, ev.sessionId, 'event');
          break;
        }
        case 'dequeued': {
          const c = this.byId.get(ev.clientId);
          if (c === undefined) break;
          c.resolved.add(ev.requestId);
          c.waiting.delete(ev.requestId);
          break;
        }
        case 'revoked': {
          this.ended.set(ev.leaseId, ev.reason);
          const c = this.byId.get(ev.clientId);
          if (c?.held.delete(ev.leaseId) === true) {
            this.stats.revoked++;
            this.host.trace(`${c.id} hears: ${ev.leaseId} revoked (${ev.reason})`);
          }
          break;
        }
        case 'usage': {
          if ((ev.usage === 'borrow-end' || ev.usage === 'return') && ev.leaseId !== '') {
            if (!this.ended.has(ev.leaseId)) this.ended.set(ev.leaseId, ev.usage);
            // A borrowed seat's time is up: its client stops counting it (a returned one was dropped when sent).
            const c = this.byId.get(ev.clientId);
            if (c?.held.delete(ev.leaseId) === true) {
              this.stats.borrowEnds++;
              this.host.trace(`${c.id} hears: borrowed ${ev.leaseId} ended`);
            }
            break;
          }
          if (ev.usage !== 'checkin' || ev.leaseId === '') break;
          if (!this.ended.has(ev.leaseId)) this.ended.set(ev.leaseId, 'checked-in');
          // Checked in by the pool, not by the client: its session ended.
          const c = this.byId.get(ev.clientId);
          if (c?.held.delete(ev.leaseId) === true) {
            this.stats.endedWithSession++;
            this.host.trace(`${c.id} hears: ${ev.leaseId} ended with its session`);
          }
          break;
        }
        case 'queue':
          break;
        default: {
          const never: never = ev;
          throw new Error(`PoolClients: unknown event ${JSON.stringify(never)}`);
        }
      }
    }
  }

  /** Idempotency: however often retried, one checkout request is granted one lease. */
  private oneLeasePerRequest(clientId: string, requestId: string, leaseId: string, index: number): void {
    const key = `${clientId}\n${requestId}`;
    const first = this.grantByRequest.get(key);
    if (first === undefined) this.grantByRequest.set(key, leaseId);
    else if (first !== leaseId) {
      throw new SimViolation('idempotency', `checkout ${clientId}/${requestId} was granted ${first}, and again ${leaseId} at index ${index}: a retried checkout took a second seat`);
    }
  }

  finalCheck(leader: SimNode): void {
    this.stats.snapshotsCompared = this.registry.compared;
    const state = (leader.app as PoolApp).state;
    for (const c of this.list) {
      for (const [leaseId, h] of c.held) {
        const l = state.leases.get(leaseId);
        if (l === undefined || l.lingerSeq > 0 || l.clientId !== c.id) {
          throw new SimViolation(
            'client-seats',
            `${c.id} holds ${leaseId} (granted at index ${h.fencingToken}), which the converged pool does not hold for it, and no event ended it`,
          );
        }
      }
    }
    for (const l of state.leases.values()) {
      if (l.lingerSeq > 0) continue;
      const c = this.byId.get(l.clientId);
      if (c === undefined || !c.held.has(l.id)) {
        throw new SimViolation(
          'idempotency',
          `the converged pool holds ${l.id} (${l.count} seat(s), granted at index ${l.fencingToken}) for ${l.clientId}, whose records never acknowledged it`,
        );
      }
    }
  }

  // ---- the leader's duties ----------------------------------------------------------

  /** Every leader: a grace period once per leadership, then `expire` whenever the pool's next deadline has come. */
  private reaperTick(): void {
    this.host.wakeClient(this.reaperIndex, ++this.reaperToken, REAPER_PERIOD_US);
    for (const n of this.host.nodes) {
      if (!n.up || n.removed) continue;
      const st = n.status();
      if (st.role !== 'leader') continue;
      const leadership = `${n.incarnation}/${st.term}`;
      if (this.graceFor.get(n.id) !== leadership) {
        const requestId = `leader:${n.id}:${++this.reaperSeq}`;
        if (this.propose(n, requestId, { type: 'grace', graceMs: this.graceMs }).ok) {
          this.graceFor.set(n.id, leadership);
          this.host.trace(`${n.id} proposes grace ${this.graceMs} ms (new leader of term ${st.term})`);
        }
        continue;
      }
      const app = n.app as PoolApp;
      // A leader gives the cluster its borrow-token key when it has none (floe-node's takeOffice does).
      const keyPending = this.borrowKeyPending;
      if (app.state.borrowKey === undefined && (keyPending === undefined || this.host.nowUs - keyPending.sinceUs >= REAPER_RETRY_US)) {
        const requestId = `leader:${n.id}:${++this.reaperSeq}`;
        if (this.propose(n, requestId, { type: 'borrow-key-set', publicKey: `${'P'.repeat(40)}${n.id.padStart(3, '0')}`, secretKey: `${'S'.repeat(40)}${n.id.padStart(3, '0')}` }).ok) {
          this.borrowKeyPending = { requestId, sinceUs: this.host.nowUs };
        }
      }
      const pending = this.reaperPending.get(n.id);
      if (pending !== undefined && pending.inc === n.incarnation && this.host.nowUs - pending.sinceUs < REAPER_RETRY_US) continue;
      if (nextDeadlineMs(app.state) > this.stampPreview(n)) continue;
      const requestId = `leader:${n.id}:${++this.reaperSeq}`;
      if (this.propose(n, requestId, { type: 'expire' }).ok) {
        this.reaperPending.set(n.id, { requestId, inc: n.incarnation, sinceUs: this.host.nowUs });
        this.host.trace(`${n.id} reaper proposes expire (next deadline ${nextDeadlineMs(app.state) - EPOCH_MS} ms)`);
      }
    }
  }

  private leaderProposalSettled(requestId: string): void {
    if (this.borrowKeyPending?.requestId === requestId) this.borrowKeyPending = undefined;
    const nodeId = requestId.split(':')[1]!;
    if (this.reaperPending.get(nodeId)?.requestId === requestId) this.reaperPending.delete(nodeId);
  }

  private describeHeld(): string {
    return this.list
      .filter((c) => c.held.size > 0)
      .map((c) => `${c.id}: ${[...c.held.entries()].map(([id, h]) => `${id}×${h.count}@${h.fencingToken}`).join(' ')}`)
      .join('; ');
  }

  private wakeAfter(index: number, c: PoolClient, delayUs: number): void {
    c.token++;
    this.host.wakeClient(index, c.token, delayUs);
  }
}

function newClient(id: string, admin: boolean, user: string, host: string): PoolClient {
  return {
    id,
    admin,
    user,
    host,
    seq: 0,
    reads: 0,
    sessionNo: 0,
    session: null,
    installed: false,
    op: null,
    leaderHint: NONE,
    token: 0,
    lastRenewUs: 0,
    held: new Map(),
    waiting: new Map(),
    resolved: new Set(),
  };
}

function describeReply(r: PoolReply): string {
  if (!r.ok) return r.code;
  switch (r.type) {
    case 'granted':
      return `granted ${r.lease.leaseId}×${r.lease.count}`;
    case 'queued':
      return `queued at ${r.position}`;
    default:
      return r.type;
  }
}
