// (~700 lines: the composition root and the node's whole public face, some
// fifty methods that mostly delegate in a line to the parts listed below.)
// One Floe node: storage, the replicated log (RaftDriver), the seat-pool
// state and the admin state machine (tokens, audit log: daemon/admin-state,
// a pure sibling of the pool applied from the same log). This class is the
// composition root: it owns the state the log applies to and wires its
// parts, each in its own file —
//   open-node-storage.ts  what the disk holds at start, whether it rejoins
//   node-proposals.ts     propose on the leader, forward from a follower
//   applied-events.ts     usage rows and client events of applied entries
//   node-leadership.ts    role changes and what a new leader does first
//   node-licenses.ts      key checks, key installs, the checkout gate
//   node-borrows.ts       borrowing and returning offline seats
//   node-policy.ts        the seat policy
//   renew-batcher.ts, lease-reaper.ts, token-use-batcher.ts, node-clock.ts
//   node-status.ts, captured-state.ts, cluster-view.ts   what it reports
// Every change of pool or admin state takes one path:
//   propose(command) → leader stamps `at` → log → durable commit (group
//   commit: one transaction per Ready) → apply to the pool → result.
// Reads that must be current wait on a ReadIndex barrier (readBarrier()).
import { performance } from 'node:perf_hooks';
import {
  applyAdminCommand,
  findTokenBySha256,
  isAdminCommand,
  listAudit,
  listTokens,
  recordAudit,
  type AdminApplyResult,
  type AdminState,
  type AuditEntry,
  type TokenRecord,
  type TokenView,
} from '../admin-state/index.ts';
import type { FloeConfig } from '../config.ts';
import {
  apply as applyCommand,
  findSession,
  isIdle,
  listLeases,
  listSessionLeases,
  listLicenses,
  listPools,
  listRetiredLicenses,
  listSessions,
  nextDeadlineMs,
  type ApplyResult,
  type LeaseView,
  type LicenseView,
  type PoolState,
  type PoolView,
  type RetiredLicenseView,
  type SessionOwner,
  type SessionView,
} from '../pool/index.ts';
import { NoopTransport, RaftDriver, type LogPosition } from '../raft-driver/index.ts';
import { createRaftNode } from '../raft/index.ts';
import type { RaftNode, Snapshot, SoftState } from '../raft/types.ts';
import { addLearnerChange, addVoterChange, type FloeDatabase, type MemberRecord, type SqliteRaftStorage, type UsageLog, type UsageRow } from '../storage/index.ts';
import { clusterView, type ClusterView } from './cluster-view.ts';
import { waitForCatchUp, type CatchUp } from './member-catch-up.ts';
import { encodeReplicatedState, replicatedState } from './node-snapshot.ts';
import {
  decodeEntryData,
  type LogCommand,
  type NodeResult,
  type UnstampedAdminCommand,
  type UnstampedCommand,
} from './command-codec.ts';
import { TokenUseBatcher } from './token-use-batcher.ts';
import { NodeObservers } from './node-observers.ts';
import type { DuplicateLockCode, KeyLockState, LicenseRefusal, MemberLockCode, PeerLockState } from './license-locks.ts';
import { RenewBatcher, type HeartbeatOutcome } from './renew-batcher.ts';
import type { LicenseCheck } from './license-check.ts';
import { NodeLicenses, type ImportResult } from './node-licenses.ts';
import { LeaseReaper } from './lease-reaper.ts';
import { NodeClock, type ClockStatus } from './node-clock.ts';
import type { TokenCheck } from './borrow-tokens.ts';
import { NodePolicy, type PolicySetInput, type PolicySetOutcome } from './node-policy.ts';
import type { BorrowReply } from '../../protocol/index.ts';
import type { CheckoutExplanation, ExplainQuery, LicenseProvenance, PolicyView } from '../pool/index.ts';
import type { FloeNodeOptions, NodeSigner } from './floe-node-options.ts';
import { openNodeStorage, rejoiningLine } from './open-node-storage.ts';
import { NodeProposals } from './node-proposals.ts';
import { AppliedEvents, type ClientEvent } from './applied-events.ts';
import { NodeLeadership } from './node-leadership.ts';
import { NodeBorrows, type BorrowRefusal, type BorrowRequest } from './node-borrows.ts';
import { nodeStatus, type NodeStatus } from './node-status.ts';
import { captureState, type CapturedState } from './captured-state.ts';

export type { HeartbeatOutcome } from './renew-batcher.ts';
export type { FloeNodeOptions, NodeSigner } from './floe-node-options.ts';
export type { ClientEvent } from './applied-events.ts';
export type { NodeStatus } from './node-status.ts';
export type { CapturedState } from './captured-state.ts';
export type { NodeResult } from './command-codec.ts';

/** Who asked for a change, for the audit log. */
export interface AuditStamp {
  /** The admin token's name. */
  readonly actor: string;
}

/** Entries' data bytes per Ready handed to the application, at most. */
const COMMITTED_BYTES_PER_READY_MAX = 8 * 1024 * 1024;
/** Log entries kept behind a snapshot at most, for followers that lag a little (cluster). */
const COMPACTION_MARGIN_ENTRIES_MAX = 5000;
/** `ms` a single node waits at open() for its own election (it is the only voter: at once). */
const SINGLE_NODE_ELECTION_MS = 10_000;

/** A running node. Create with FloeNode.open(); stop with close(). */
export class FloeNode {
  readonly config: FloeConfig;
  private readonly database: FloeDatabase;
  private readonly storage: SqliteRaftStorage;
  private readonly usage: UsageLog;
  private readonly driver: RaftDriver<NodeResult>;
  /** `ms` since the epoch: the wall clock, for dates (a backup's takenAt); deadlines run on `times`. */
  private readonly clock: () => number;
  private readonly log: (line: string) => void;
  /** The seat pools (replaced wholesale by a snapshot install). */
  private pool: PoolState;
  /** Cluster time: the `at` and date this node stamps as leader, continued from the leader's as follower. */
  private readonly times: NodeClock;
  /** Tokens and the audit log (replaced wholesale by a snapshot install, like the pool). */
  private admin: AdminState;
  /** Usage rows, checkout latencies and fsync times, for metrics and live events (read-only). */
  readonly observers: NodeObservers;
  /** Usage rows and client events of applied entries, on their way out. */
  private readonly events: AppliedEvents;
  /** Batches the admin API's token uses into token-use commands. */
  private readonly tokenUses: TokenUseBatcher;
  private readonly renewals: RenewBatcher;
  private readonly reaper: LeaseReaper;
  private closed = false;
  /** Proposes on the leader, forwards from a follower. */
  private readonly proposals: NodeProposals;
  /** Role changes and what a new leader does first. */
  private readonly leadership: NodeLeadership;
  /** True when other voters exist (or may: a cluster config); reads then need a barrier. */
  readonly clustered: boolean;
  /** Key checks, key installs and the checkout gate under the keys' lock codes. */
  private readonly licensing: NodeLicenses;
  /** The seat policy: parse, check, dry run, propose (node-policy.ts). */
  private readonly policies: NodePolicy;
  /** Borrows and returns; the cluster's borrow key (node-borrows.ts). */
  private readonly borrows: NodeBorrows;
  /** This node's lock code (undefined: not checked, tests). */
  readonly lockCode: string | undefined;
  /** This node's identity key; undefined in tests that run without one. */
  readonly identity: NodeSigner | undefined;
  /** The daemon's hooks into the peer transport and the membership (peers' keys, skews, members added at run time). */
  private readonly options: FloeNodeOptions;

  private constructor(
    options: FloeNodeOptions,
    parts: {
      database: FloeDatabase;
      storage: SqliteRaftStorage;
      usage: UsageLog;
      pool: PoolState;
      admin: AdminState;
      raft: RaftNode;
      clustered: boolean;
      observers: NodeObservers;
    },
  ) {
    this.clustered = parts.clustered;
    this.options = options;
    this.lockCode = options.lockCode;
    this.identity = options.identity;
    this.policies = new NodePolicy({
      pool: () => this.pool,
      propose: (command) => this.propose(command),
      readBarrier: () => this.readBarrier(),
      heartbeatMs: options.config.heartbeatMs,
    });
    this.licensing = new NodeLicenses({
      nodeId: options.config.nodeId,
      vendorPublicKeys: options.config.vendorPublicKeys,
      lockCode: options.lockCode,
      peerLockCodes: options.peerLockCodes,
      pool: () => this.pool,
      propose: (command, audit) => this.propose(command, audit),
      readBarrier: () => this.readBarrier(),
      leaderId: () => this.driver.leaderId,
      clock: () => this.times.date(),
      log: (line) => this.log(line),
    });
    this.borrows = new NodeBorrows({
      pool: () => this.pool,
      propose: (command) => this.propose(command),
      gate: (feature) => this.licensing.gate(feature),
    });
    this.renewals = new RenewBatcher({
      renewBatchMs: options.config.renewBatchMs,
      leaseTtlMs: options.config.leaseTtlMs,
      renewIdsMax: () => this.pool.limits.renewIdsMax,
      propose: (command) => this.propose(command),
    });
    this.config = options.config;
    this.log = options.log ?? (() => {});
    this.clock = options.clock ?? Date.now;
    const monotonicClock = options.monotonicClock ?? (() => performance.now());
    this.times = new NodeClock({
      options: options.config.clock,
      wallClock: this.clock,
      monotonicClock,
      poolNowMs: () => this.pool.nowMs,
      // A leader has the licenses judged at the new date at once, not at the next command.
      onStep: () => {
        if (this.driver.isLeader) this.propose({ type: 'expire' }).catch((error: unknown) => this.log(`clock step: expire: ${(error as Error).message}`));
      },
      log: (line) => this.log(line),
    });
    this.observers = parts.observers;
    this.reaper = new LeaseReaper({
      isLeader: () => this.driver.isLeader,
      nextDeadlineMs: () => nextDeadlineMs(this.pool),
      clock: () => this.times.now(),
      expire: () => this.propose({ type: 'expire' }),
      log: this.log,
    });
    this.database = parts.database;
    this.storage = parts.storage;
    this.usage = parts.usage;
    this.pool = parts.pool;
    this.admin = parts.admin;
    this.events = new AppliedEvents({ usage: parts.usage, observers: parts.observers, log: this.log });
    this.tokenUses = new TokenUseBatcher({ propose: (command) => this.proposeAdmin(command), log: this.log });
    this.leadership = new NodeLeadership({
      isLeader: () => this.driver.isLeader,
      poolIdle: () => isIdle(this.pool),
      leaderGraceMs: options.config.leaderGraceMs,
      proposeGrace: (graceMs) => this.propose({ type: 'grace', graceMs }),
      installLicenseFiles: () => this.licensing.installFiles(this.config.licenseFiles),
      ensureBorrowKey: () => this.borrows.tokens.ensureKey(),
      leaderChanged: () => this.proposals.leaderChanged(),
      scheduleReaper: () => this.reaper.schedule(),
      log: this.log,
    });
    this.driver = new RaftDriver<NodeResult>({
      node: parts.raft,
      storage: parts.storage,
      transport: options.transport ?? new NoopTransport(),
      tickMs: options.config.raft.tickMs,
      snapshotEntries: options.config.raft.snapshotEntries,
      compactionMarginEntries: Math.min(COMPACTION_MARGIN_ENTRIES_MAX, Math.floor(options.config.raft.snapshotEntries / 2)),
      pendingProposalsMax: options.config.limits.pendingProposalsMax,
      application: {
        apply: (data, at, local) => this.applyCommand(data, at, local as LogCommand | undefined),
        restore: (snapshot) => this.restore(snapshot),
        snapshotData: () => encodeReplicatedState({ pool: this.pool, admin: this.admin, members: options.snapshotMembers?.() ?? [] }),
        // Usage rows go in their own batches (timer or a full buffer), off the path between commit and reply.
        persistWith: () => {
          if (this.usage.full) this.usage.flush();
        },
        beforeSnapshot: () => this.usage.flush(),
        afterApply: () => {
          this.events.afterApply();
          this.reaper.schedule();
        },
      },
      onSoftState: (state) => this.leadership.changed(state),
      onSnapshot: (index, tookMs) => this.log(`snapshot at index ${index} took ${tookMs.toFixed(1)} ms`),
      onRejoining: (rejoining) => this.log(rejoiningLine(rejoining)),
      ...(options.onConfChange !== undefined ? { onConfChange: options.onConfChange } : {}),
      onFatal: (error) => {
        // A disk or programmer error under the log: crash loudly rather than limp on.
        this.log(`FATAL: the replicated log stopped: ${(error as Error).stack ?? String(error)}`);
        setImmediate(() => {
          throw error;
        });
      },
    });
    this.proposals = new NodeProposals({
      nodeId: this.config.nodeId,
      driver: this.driver,
      stamp: () => this.times.stamp(),
      appChannel: options.appChannel,
      forwarding: { forwardTimeoutMs: this.config.cluster.forwardTimeoutMs, pendingForwardsMax: this.config.limits.pendingProposalsMax },
      log: this.log,
    });
    this.licensing.refresh(this.pool);
  }

  /**
   * Opens the node's database under config.dataDir, restores the pool from
   * the latest snapshot, starts the log (replaying committed entries after
   * the snapshot) and, as the only voter, elects itself.
   */
  static async open(options: FloeNodeOptions): Promise<FloeNode> {
    const config = options.config;
    const log = options.log ?? (() => {});
    const observers = new NodeObservers(log);
    const opened = await openNodeStorage(config, options.voters, observers, log);
    const { database, storage, clustered, voters } = opened;
    try {
      // Floe's Raft core, also for a single node (its only voter): one code path for every deployment.
      const raft = createRaftNode({
        id: config.nodeId,
        storage,
        electionTicks: config.raft.electionTicks,
        heartbeatTicks: config.raft.heartbeatTicks,
        applied: opened.applied,
        messageBytesMax: 1024 * 1024,
        inflightMessagesMax: 256,
        uncommittedBytesMax: 0,
        committedBytesPerReadyMax: COMMITTED_BYTES_PER_READY_MAX,
        preVote: true,
        checkQuorum: clustered,
        random: Math.random,
      });
      const node = new FloeNode(options, { database, storage, usage: opened.usage, pool: opened.pool, admin: opened.admin, raft, clustered, observers });
      node.driver.start();
      if (!clustered && voters.length === 1 && voters[0] === config.nodeId) {
        // The only voter elects itself at once; flush so the node leads when open() returns.
        node.driver.campaign();
        node.driver.flush();
        await node.whenLeader(SINGLE_NODE_ELECTION_MS);
      }
      return node;
    } catch (error) {
      database.close();
      throw error;
    }
  }

  // ---- commands ---------------------------------------------------------

  /**
   * Stamps `at` and proposes `command`; resolves with the pool's result once
   * it is durable and applied. Rejects with ProposalError (NOT_LEADER,
   * OVERLOADED, DROPPED, STOPPED) when it was not or may not have been applied.
   * `audit`: the admin token that asked for it; the audit log records it.
   */
  propose(command: UnstampedCommand, audit?: AuditStamp): Promise<ApplyResult> {
    return this.proposals.propose(audit === undefined ? command : { ...command, actor: audit.actor }) as Promise<ApplyResult>;
  }

  /** Proposes an admin-state command (tokens, audit notes) as propose() does a pool command. */
  proposeAdmin(command: UnstampedAdminCommand, audit?: AuditStamp): Promise<AdminApplyResult> {
    return this.proposals.propose(audit === undefined ? command : { ...command, actor: audit.actor }) as Promise<AdminApplyResult>;
  }

  /**
   * A client's checkout on this node: proposed like propose() when this node
   * may serve the feature (featureRefusal). When it may not, a retry of a
   * request the pool has already answered still gets that first answer (from
   * the applied state, nothing proposed); any other checkout is rejected with
   * LicenseRefusalError. Also rejects as propose() does (ProposalError).
   */
  proposeCheckout(command: Extract<UnstampedCommand, { type: 'checkout' }>): Promise<ApplyResult> {
    const answer = this.licensing.proposeCheckout(command);
    if (!this.observers.checkoutLatency.active) return answer;
    const startMs = performance.now();
    const settle = (ok: boolean) => this.observers.checkoutLatency.emit({ ms: performance.now() - startMs, ok });
    answer.then(
      (r) => settle(r.reply.ok),
      () => settle(false),
    );
    return answer;
  }

  /**
   * Records a heartbeat of `sessionId`: every lease of the session is
   * renewed by the next batched renew command (one per renewBatchMs for all
   * sessions). Resolves once that renew is durable.
   */
  heartbeat(sessionId: string): Promise<HeartbeatOutcome> {
    return this.renewals.heartbeat(sessionId);
  }

  /** Verifies a license key for this node (signature, dates, lock code). */
  checkLicense(keyText: unknown): LicenseCheck {
    return this.licensing.check(keyText);
  }

  /** Verifies `keyText`, then proposes its install (with the key center it came from, when known); a refused key answers its code and changes nothing. */
  importLicense(keyText: unknown, audit?: AuditStamp, provenance?: LicenseProvenance): Promise<ImportResult> {
    return this.licensing.import(keyText, audit, provenance);
  }

  /**
   * Resolves once this node has applied everything the cluster had
   * committed when it was called (a ReadIndex round through the leader), so
   * reads after it are linearizable. Rejects with ProposalError NOT_LEADER
   * when no leader confirms within forwardTimeoutMs (minority side, election).
   * A single node resolves at once.
   */
  async readBarrier(): Promise<void> {
    if (!this.clustered) return;
    await this.driver.readBarrier(this.config.cluster.forwardTimeoutMs);
  }

  /**
   * Why this node may not serve checkouts of `feature`, or undefined when it
   * may: the keys of the feature's pools name other lock codes than this
   * node's (a redundant key for another set of servers), or fewer than a
   * majority of the servers a key names are up (license-locks.ts).
   * Client checkouts go through proposeCheckout(), which applies it.
   */
  featureRefusal(feature: string): LicenseRefusal | undefined {
    return this.licensing.refusal(feature);
  }

  /** How each installed key fares on this node now: served here, or why not (license-locks.ts). */
  licenseKeyStates(): KeyLockState[] {
    return this.licensing.keyStates();
  }

  /** This node and every peer it knows, with the lock codes they state. */
  memberLockCodes(): MemberLockCode[] {
    return this.licensing.memberLockCodes();
  }

  /** Every license the cluster retired (superseded or removed), in the order retired. */
  retiredLicenses(): RetiredLicenseView[] {
    return listRetiredLicenses(this.pool);
  }

  /** Lock codes two or more members present now (this node and its connected peers): they count for no key. */
  duplicateLockCodes(): readonly DuplicateLockCode[] {
    return this.licensing.duplicateLockCodes();
  }

  /**
   * What this node knows of the cluster: leader, term, each member's indexes
   * (a leader knows its followers' match), clock skew and TLS certificate end, and this node's clocks.
   */
  clusterStatus(): ClusterView & { readonly clock: ClockStatus } {
    const skews = new Map<string, number>();
    for (const [id, s] of this.options.peerClockSkews?.() ?? []) skews.set(id, s.skewMs);
    return { ...clusterView(this.config.nodeId, this.driver.status(), this.driver.applied, skews, this.options.certificateEnds?.()), clock: this.clockStatus() };
  }

  /** This node's clocks: cluster time, the wall clock, how far apart, and the steps seen. */
  clockStatus(): ClockStatus {
    return this.times.status();
  }

  /**
   * Leader only: adds `member` (it must start with `join = true`) as a
   * learner, waits up to `catchUpMs` until it holds the log, then makes it a
   * voter (member-catch-up.ts says why). Resolves `{voter: true}` once that
   * is applied; `{voter: false, …}` when it is still catching up, a learner
   * that counts toward no quorum: adding it again later finishes the job.
   */
  async addMember(member: MemberRecord, catchUpMs: number): Promise<{ readonly voter: true } | ({ readonly voter: false } & CatchUp)> {
    const conf = this.driver.status().confState;
    if (!conf.voters.includes(member.id)) {
      if (!conf.learners.includes(member.id)) await this.driver.proposeConfChange(addLearnerChange(member));
      const catchUp = await waitForCatchUp(() => this.driver.status(), member.id, catchUpMs);
      if (!catchUp.caughtUp) return { voter: false, match: catchUp.match, target: catchUp.target };
    }
    await this.driver.proposeConfChange(addVoterChange(member));
    return { voter: true };
  }

  /** Leader only: removes `nodeId` from the membership; resolves once applied. */
  removeMember(nodeId: string): Promise<void> {
    return this.driver.proposeConfChange({ type: 'remove-node', nodeId });
  }

  /**
   * Takes a seat of `request.feature` offline for `request.hours` for the
   * client of `sessionId`: through the same license gate as a checkout, the
   * pool's borrow rules, then a token signed with the cluster's borrow key
   * (created first when the cluster has none). Refusals come back as
   * `{ok: false}`; rejects as propose() does, or with LicenseRefusalError.
   */
  borrow(sessionId: string, request: BorrowRequest): Promise<{ ok: true; reply: BorrowReply } | BorrowRefusal> {
    return this.borrows.borrow(sessionId, request);
  }

  /**
   * Gives back the borrowed seat `token` names, for the client `clientId`
   * (as its session's hello stated it; any node: the token is checked
   * against the cluster's key). The seat is the client's, so the return
   * applies even when that session ends before it does.
   */
  returnBorrowed(clientId: string, requestId: string, token: string): Promise<{ ok: true; leaseId: string } | BorrowRefusal> {
    return this.borrows.returnBorrowed(clientId, requestId, token);
  }

  /** Checks a borrow token's format and signature by the cluster's key (admin and tests). */
  verifyBorrowToken(token: string): TokenCheck {
    return this.borrows.tokens.verify(token);
  }

  /** The cluster's borrow public key (base64url), or undefined before a leader set one. */
  get borrowPublicKey(): string | undefined {
    return this.borrows.tokens.publicKey;
  }

  /** Parses and checks a policy text; answers a dry run or proposes it (docs/policy.md). */
  setPolicy(input: PolicySetInput): Promise<PolicySetOutcome> {
    return this.policies.set(input);
  }

  /** The policy in force, as this node has applied it (callers wanting it current pass a read barrier first). */
  policy(): PolicyView {
    return this.policies.view();
  }

  /** What a checkout would get now and the rules that decide (after a read barrier). */
  explain(q: ExplainQuery): Promise<CheckoutExplanation> {
    return this.policies.explain(q);
  }

  // ---- read model -------------------------------------------------------

  /** Every pool. */
  pools(): PoolView[] {
    return listPools(this.pool);
  }

  /** Every lease, or `feature`'s. */
  leases(feature?: string): LeaseView[] {
    return listLeases(this.pool, feature);
  }

  /** Every installed license. */
  licenses(): LicenseView[] {
    return listLicenses(this.pool);
  }

  /** Every open session. */
  sessions(): SessionView[] {
    return listSessions(this.pool);
  }

  /** The open session `sessionId`, or undefined. */
  session(sessionId: string): SessionOwner | undefined {
    return findSession(this.pool, sessionId);
  }

  /** The held leases of a session, oldest first. */
  sessionLeases(sessionId: string): LeaseView[] {
    return listSessionLeases(this.pool, sessionId);
  }

  /** Each peer's identity public key (raw 32 bytes); empty on a single node. */
  peerPublicKeys(): ReadonlyMap<string, Uint8Array> {
    return this.options.peerPublicKeys?.() ?? new Map();
  }

  /** Each peer's stated lock code and whether it is connected now; empty on a single node. */
  peers(): ReadonlyMap<string, PeerLockState> {
    return this.options.peerLockCodes?.() ?? new Map();
  }

  /** Every token created through the admin API, by name (never their digests). */
  adminTokens(): TokenView[] {
    return listTokens(this.admin);
  }

  /** The token whose SHA-256 digest is `tokenSha256` (hex), or undefined. */
  adminTokenBySha256(tokenSha256: string): Readonly<TokenRecord> | undefined {
    return findTokenBySha256(this.admin, tokenSha256);
  }

  /** Audit entries, newest first (at most `limit`; below `beforeSeq` for the next page). */
  auditEntries(options: { readonly limit: number; readonly beforeSeq?: number }): AuditEntry[] {
    return listAudit(this.admin, options);
  }

  /** The admin API saw token `name` used now: recorded through the log, batched (token-use-batcher.ts). */
  noteTokenUse(name: string): void {
    if (this.admin.tokens.has(name)) this.tokenUses.note(name, this.clock());
  }

  /** The pool state itself, read-only (tests and invariant checks). */
  get poolState(): Readonly<PoolState> {
    return this.pool;
  }

  /** Role, term and indexes of this node. */
  status(): NodeStatus {
    return nodeStatus(this.config.nodeId, this.driver.status(), this.driver.applied);
  }

  /** Readys (so transactions, so fsyncs at most) processed since start. */
  get readyCount(): number {
    return this.driver.readyCount;
  }

  /** Storage transactions written since start (Readys with something to persist, snapshots). */
  get transactionCount(): number {
    return this.driver.transactionCount;
  }

  /** fdatasyncs of the WAL since start (async sync mode). */
  get syncCount(): number {
    return this.driver.syncCount;
  }

  /**
   * The replicated state as this node has applied it, for a backup: the pool
   * snapshot at the applied index, that entry's term and the membership,
   * captured in one synchronous step (nothing applies in between), with the
   * usage rows up to it flushed to the table. After readBarrier() it holds
   * everything committed before the barrier began.
   */
  captureState(): CapturedState {
    this.usage.flush();
    return captureState({
      config: this.config,
      takenAt: this.clock(),
      raft: this.driver.status(),
      appliedIndex: this.driver.applied,
      storage: this.storage,
      pool: this.pool,
      addedMembers: this.options.snapshotMembers?.() ?? [],
    });
  }

  /** Usage rows up to `logIndexMax` after row id `afterId`, in written order (backups). */
  usagePage(afterId: number, logIndexMax: number, limit: number): { rows: UsageRow[]; lastId: number } {
    return this.usage.page(afterId, logIndexMax, limit);
  }

  /** Usage rows, newest first (reports). */
  usageRows(options: { fromMs?: number; toMs?: number; feature?: string; limit?: number } = {}) {
    this.usage.flush();
    return this.usage.query(options);
  }

  /** Usage rows with `fromMs ≤ at < toMs` (optionally of one feature), oldest first, read lazily (reports); consume at once. */
  usageScan(options: { readonly fromMs: number; readonly toMs: number; readonly feature?: string }): IterableIterator<UsageRow> {
    this.usage.flush();
    return this.usage.scan(options);
  }

  /** Subscribes to client events (grants, queue moves, dequeues, revocations); returns the unsubscribe. */
  onEvent(listener: (event: ClientEvent) => void): () => void {
    return this.events.onEvent(listener);
  }

  /** Subscribes to leadership changes. */
  onLeadership(listener: (state: SoftState) => void): () => void {
    return this.leadership.onLeadership(listener);
  }

  /** Resolves once this node leads; rejects after `timeoutMs`. */
  whenLeader(timeoutMs: number): Promise<void> {
    return this.leadership.whenLeader(timeoutMs);
  }

  /** True when this node leads (and so may propose). */
  get isLeader(): boolean {
    return this.driver.isLeader;
  }

  /** Stops timers and the log, writes buffered usage rows, closes the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.times.close();
    this.reaper.close();
    this.tokenUses.close();
    this.events.close();
    this.proposals.close();
    this.driver.stop();
    await this.driver.whenIdle();
    this.renewals.close();
    try {
      this.usage.flush();
    } finally {
      this.database.close();
    }
  }

  // ---- internals --------------------------------------------------------

  /**
   * Applies one command of a committed entry. The pool numbers it by its log
   * position (grants take it as their fencing token); usage rows carry the
   * entry's index, which a replay after a restart compares.
   */
  private applyCommand(data: Uint8Array, at: LogPosition, local: LogCommand | undefined): NodeResult {
    let command = local;
    let tag: string | undefined;
    if (command === undefined) ({ command, tag } = decodeEntryData(data));
    if (isAdminCommand(command)) {
      const adminResult = applyAdminCommand(this.admin, command);
      recordAudit(this.admin, command, at.index, adminResult.reply);
      if (tag !== undefined) this.proposals.applied(tag, adminResult);
      return adminResult;
    }
    const result = applyCommand(this.pool, command, at.position);
    recordAudit(this.admin, command, at.index, result.reply);
    // A follower continues cluster time from the leader's: a new leader starts from the last applied `at`.
    if (!this.driver.isLeader && this.driver.leaderId !== '') this.times.follow();
    if (command.type === 'license-install' || command.type === 'license-remove') this.licensing.refresh(this.pool);
    if (tag !== undefined) this.proposals.applied(tag, result);
    this.events.record(result.events, at.index);
    return result;
  }

  /** Installs the leader's snapshot: the pool and admin state, the members added at run time. */
  private restore(snapshot: Snapshot): void {
    this.log(`installing the leader's snapshot at index ${snapshot.metadata.index} (term ${snapshot.metadata.term})`);
    const state = replicatedState(snapshot);
    this.pool = state.pool;
    this.admin = state.admin;
    if (state.members.length > 0) this.options.onSnapshotMembers?.(state.members, snapshot.metadata.confState);
    this.licensing.refresh(this.pool);
    this.reaper.schedule();
  }
}
