// (~1,000 lines: the node's one composition point, which several changes
// touch at once; its parts already live beside it. Next to move out: the
// snapshot and restore path and the membership callbacks — issue 19.)
// One Floe node: storage, the replicated log (RaftDriver), the seat-pool
// state and the event stream for client pushes, composed with heartbeat
// batching (renew-batcher.ts), the lease reaper (lease-reaper.ts) and key
// checks and the checkout gate (node-licenses.ts), and the admin state machine
// (tokens, audit log: daemon/admin-state), a pure sibling of the pool applied
// from the same log. Every change of pool or admin state takes one path:
//   propose(command) → leader stamps `at` → log → durable commit (group
//   commit: one transaction per Ready) → apply to the pool → result.
// In a cluster a follower forwards proposals to the leader (forwarder.ts)
// and resolves them when it applies their entries; reads that must be
// current wait on a ReadIndex barrier (readBarrier()).
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  applyAdminCommand,
  createAdminState,
  decodeAdminState,
  encodeAdminState,
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
  createPoolState,
  decodeSnapshot,
  encodeSnapshot,
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
  type PoolEvent,
  type PoolState,
  type PoolView,
  type RetiredLicenseView,
  type SessionOwner,
  type SessionView,
} from '../pool/index.ts';
import {
  NoopTransport,
  ProposalError,
  RaftDriver,
  type LogPosition,
  type PeerTransport,
} from '../raft-driver/index.ts';
import { createRaftNode } from '../raft/index.ts';
import type { ConfChange, ConfState, RaftNode, Snapshot, SoftState } from '../raft/types.ts';
import {
  addVoterChange,
  DATABASE_FILE_NAME,
  openDatabase,
  readStorageLineage,
  SqliteRaftStorage,
  storedStorageId,
  UsageLog,
  writeStorageLineage,
  type FloeDatabase,
  type MemberRecord,
  type UsageRow,
} from '../storage/index.ts';
import { clusterView, type ClusterView } from './cluster-view.ts';
import { decodeNodeSnapshot, encodeNodeSnapshot } from './node-snapshot.ts';
import {
  decodeEntryData,
  encodeCommand,
  encodeTaggedCommand,
  type LogCommand,
  type UnstampedAdminCommand,
  type UnstampedCommand,
  type UnstampedLogCommand,
} from './command-codec.ts';
import { TokenUseBatcher } from './token-use-batcher.ts';
import { NodeObservers } from './node-observers.ts';
import { Forwarder, type AppChannel } from './forwarder.ts';
import type { DuplicateLockCode, KeyLockState, LicenseRefusal, MemberLockCode, PeerLockState } from './license-locks.ts';
import { RenewBatcher, type HeartbeatOutcome } from './renew-batcher.ts';
import type { LicenseCheck } from './license-check.ts';
import { NodeLicenses, type ImportResult } from './node-licenses.ts';
import { LeaseReaper } from './lease-reaper.ts';
import { NodeClock, type ClockStatus } from './node-clock.ts';
import { LicenseRefusalError } from './license-locks.ts';
import { BorrowTokens, type TokenCheck } from './borrow-tokens.ts';
import { NodePolicy, type PolicySetInput, type PolicySetOutcome } from './node-policy.ts';
import type { BorrowReply } from '../../protocol/index.ts';
import type { CheckoutExplanation, ExplainQuery, LicenseProvenance, PolicyView } from '../pool/index.ts';

/** What captureState() answers: the replicated state at one applied index. */
export interface CapturedState {
  /** `ms` since the epoch on this node's clock. */
  readonly takenAt: number;
  readonly nodeId: string;
  readonly leaderId: string;
  readonly appliedIndex: number;
  /** The term of the entry at appliedIndex. */
  readonly term: number;
  readonly confState: ConfState;
  /** The members the config file lists. */
  readonly configPeers: readonly MemberRecord[];
  /** The members added at run time (their addresses came with the change). */
  readonly addedMembers: readonly MemberRecord[];
  /** The pool snapshot (encodeSnapshot) at appliedIndex. */
  readonly pool: Uint8Array;
  readonly licenses: readonly LicenseView[];
  readonly poolCount: number;
  readonly sessionCount: number;
  readonly leaseCount: number;
}

/** A pool event other than a usage row: what clients are pushed. */
export type ClientEvent = Exclude<PoolEvent, { kind: 'usage' }>;

export type { HeartbeatOutcome } from './renew-batcher.ts';

/** What applying a log entry yields: the pool's result or the admin state's. */
export type NodeResult = ApplyResult | AdminApplyResult;

/** Who asked for a change, for the audit log. */
export interface AuditStamp {
  /** The admin token's name. */
  readonly actor: string;
}

/** What GET /health and /cluster show of this node. */
export interface NodeStatus {
  readonly nodeId: string;
  readonly role: string;
  readonly leaderId: string;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  /** Index of the last entry in this node's log (on its disk or about to be). */
  readonly lastIndex: number;
  /** This node's storage lost entries it had acknowledged and the leader has not yet confirmed it holds the log: it does not vote. */
  readonly rejoining: boolean;
}

/** A node's identity key as the node uses it: its public half and a signature by its private half. */
export interface NodeSigner {
  /** Ed25519 public key, 32 bytes. */
  readonly publicKey: Uint8Array;
  /** A detached Ed25519 signature (64 bytes) of `message`. */
  sign(message: Uint8Array): Uint8Array;
}

/** Options of FloeNode.open. */
export interface FloeNodeOptions {
  readonly config: FloeConfig;
  /** This node's lock codes as it states them (an identity's statedLockCodes, or one code), checked against license keys; undefined skips the check (tests). */
  readonly lockCode: string | undefined;
  /** The peers' stated lock codes and whether each is connected now (the peer transport's peerLockCodes). */
  readonly peerLockCodes?: () => ReadonlyMap<string, PeerLockState>;
  /** Each peer's identity public key, raw 32 bytes (the peer transport's peerPublicKeys). */
  readonly peerPublicKeys?: () => ReadonlyMap<string, Uint8Array>;
  /** This node's identity key (its data directory's): signs offline activation requests. Absent: they are refused (tests). */
  readonly identity?: NodeSigner;
  /** Voters of a brand-new cluster; default: this node alone. */
  readonly voters?: readonly string[];
  readonly transport?: PeerTransport;
  /** The transport's app channel: present in a cluster, where followers forward proposals to the leader. */
  readonly appChannel?: AppChannel;
  /** Each connected peer's wall clock minus ours (`skewMs`), from the peer transport's pings (GET /cluster shows them). */
  readonly peerClockSkews?: () => ReadonlyMap<string, { readonly skewMs: number }>;
  /** `ms` since the epoch: when each member's TLS certificate ends (this node's as loaded, the others' as shown on the peer links); GET /cluster shows them. */
  readonly certificateEnds?: () => ReadonlyMap<string, number>;
  /** The members added at run time, with their addresses, for the snapshots this node takes. */
  readonly snapshotMembers?: () => readonly MemberRecord[];
  /** Hears the members (and the conf state) of a snapshot installed from the leader. */
  readonly onSnapshotMembers?: (members: readonly MemberRecord[], confState: ConfState) => void;
  /** Hears each applied membership change (the daemon updates the transport's peers). */
  readonly onConfChange?: (change: ConfChange, confState: ConfState) => void;
  /** `ms` since the epoch: the wall clock (Date.now); injectable for tests. */
  readonly clock?: () => number;
  /** `ms` of a monotonic clock (performance.now): deadlines measure elapsed time by it; injectable for tests. */
  readonly monotonicClock?: () => number;
  /** Operational log lines (stderr in `floe serve`). */
  readonly log?: (line: string) => void;
}

/** Entries' data bytes per Ready handed to the application, at most. */
const COMMITTED_BYTES_PER_READY_MAX = 8 * 1024 * 1024;
/** Log entries kept behind a snapshot at most, for followers that lag a little (cluster). */
const COMPACTION_MARGIN_ENTRIES_MAX = 5000;
/** `ms` between usage-row flushes (each one transaction; rows of entries a snapshot covers are flushed with it). */
const USAGE_FLUSH_MS = 500;
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
  private pool: PoolState;
  /** Cluster time: the `at` and date this node stamps as leader, continued from the leader's as follower. */
  private readonly times: NodeClock;
  /** Tokens and the audit log (replaced wholesale by a snapshot install, like the pool). */
  private admin: AdminState;
  /** Usage rows, checkout latencies and fsync times, for metrics and live events (read-only). */
  readonly observers: NodeObservers;
  /** Usage rows of applied entries not yet handed to observers (only while someone observes). */
  private usageQueue: UsageRow[] = [];
  /** Batches the admin API's token uses into token-use commands. */
  private readonly tokenUses: TokenUseBatcher;
  private readonly listeners = new Set<(event: ClientEvent) => void>();
  private readonly leaderListeners = new Set<(state: SoftState) => void>();
  /** Events of applied entries, delivered after the proposers' replies (setImmediate). */
  private eventQueue: ClientEvent[] = [];
  private eventsScheduled = false;
  private readonly renewals: RenewBatcher;
  private readonly reaper: LeaseReaper;
  private usageTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Set in a cluster: proposals of a follower go to the leader through it. */
  private readonly forwarder: Forwarder | undefined;
  /** True when other voters exist (or may: a cluster config); reads then need a barrier. */
  readonly clustered: boolean;
  /** Key checks, key installs and the checkout gate under the keys' lock codes. */
  private readonly licensing: NodeLicenses;
  /** The seat policy: parse, check, dry run, propose (node-policy.ts). */
  private readonly policies: NodePolicy;
  /** The cluster's borrow key: create, sign, verify (borrow-tokens.ts). */
  private readonly borrowTokens: BorrowTokens;
  private readonly onSnapshotMembers: FloeNodeOptions['onSnapshotMembers'];
  private readonly snapshotMembers: FloeNodeOptions['snapshotMembers'];
  private readonly peerClockSkews: FloeNodeOptions['peerClockSkews'];
  private readonly certificateEnds: FloeNodeOptions['certificateEnds'];
  private readonly peerLockCodes: FloeNodeOptions['peerLockCodes'];
  /** This node's lock code (undefined: not checked, tests). */
  readonly lockCode: string | undefined;
  /** This node's identity key; undefined in tests that run without one. */
  readonly identity: NodeSigner | undefined;
  private readonly peerPublicKeyMap: FloeNodeOptions['peerPublicKeys'];

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
    this.onSnapshotMembers = options.onSnapshotMembers;
    this.snapshotMembers = options.snapshotMembers;
    this.peerClockSkews = options.peerClockSkews;
    this.certificateEnds = options.certificateEnds;
    this.peerLockCodes = options.peerLockCodes;
    this.lockCode = options.lockCode;
    this.identity = options.identity;
    this.peerPublicKeyMap = options.peerPublicKeys;
    this.policies = new NodePolicy({
      pool: () => this.pool,
      propose: (command) => this.propose(command),
      readBarrier: () => this.readBarrier(),
      heartbeatMs: options.config.heartbeatMs,
    });
    this.borrowTokens = new BorrowTokens({ pool: () => this.pool, propose: (command) => this.propose(command) });
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
    this.tokenUses = new TokenUseBatcher({ propose: (command) => this.proposeAdmin(command), log: this.log });
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
        snapshotData: () => encodeNodeSnapshot(encodeSnapshot(this.pool), options.snapshotMembers?.() ?? [], encodeAdminState(this.admin)),
        // Usage rows go in their own batches (timer or a full buffer), off the path between commit and reply.
        persistWith: () => {
          if (this.usage.full) this.usage.flush();
        },
        beforeSnapshot: () => this.usage.flush(),
        afterApply: () => this.afterApply(),
      },
      onSoftState: (state) => this.onSoftState(state),
      onSnapshot: (index, tookMs) => this.log(`snapshot at index ${index} took ${tookMs.toFixed(1)} ms`),
      onRejoining: (rejoining) =>
        this.log(
          rejoining
            ? `storage: this node's log lost entries it had acknowledged (the leader's commit index is beyond it: a wiped database or an older copy put back); rejoining: it catches up and does not vote until the leader confirms it holds the log`
            : `storage: the leader confirmed this node holds the log; rejoined, it votes again`,
        ),
      ...(options.onConfChange !== undefined ? { onConfChange: options.onConfChange } : {}),
      onFatal: (error) => {
        // A disk or programmer error under the log: crash loudly rather than limp on.
        this.log(`FATAL: the replicated log stopped: ${(error as Error).stack ?? String(error)}`);
        setImmediate(() => {
          throw error;
        });
      },
    });
    this.forwarder =
      options.appChannel === undefined
        ? undefined
        : new Forwarder(
            {
              nodeId: this.config.nodeId,
              leaderId: () => this.driver.leaderId,
              isLeader: () => this.driver.isLeader,
              proposeLocal: (command) => this.proposeHere(command),
              proposeTagged: (command, tag) => {
                if (!this.driver.isLeader) return Promise.reject(new ProposalError('NOT_LEADER', 'not the leader', this.driver.leaderId));
                const stamped = { ...command, ...this.times.stamp() } as LogCommand;
                return this.driver.propose(encodeTaggedCommand(tag, stamped), stamped);
              },
              log: this.log,
            },
            options.appChannel,
            { forwardTimeoutMs: this.config.cluster.forwardTimeoutMs, pendingForwardsMax: this.config.limits.pendingProposalsMax },
          );
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
    const lineage = readStorageLineage(config.dataDir);
    const opened = openDatabase(join(config.dataDir, DATABASE_FILE_NAME), config.raft.syncMode);
    const observers = new NodeObservers(log);
    // Each fdatasync of the log is timed for the observers (metrics).
    const database: FloeDatabase = {
      ...opened,
      syncWal: (done) => {
        const startMs = performance.now();
        opened.syncWal((error) => {
          if (observers.storageSync.active) observers.storageSync.emit(performance.now() - startMs);
          done(error);
        });
      },
    };
    try {
      const peers = config.cluster.peers;
      const storedId = storedStorageId(database);
      // The database this data directory last ran with is gone (deleted, the disk replaced) or
      // another one stands in its place: this member lost entries it acknowledged to the cluster.
      const lost = lineage !== undefined && storedId !== lineage;
      const clustered = peers.length > 0 || (options.voters?.length ?? 0) > 1;
      // A member that lost its log, or joins with an empty one, takes its membership from the
      // leader (never from the config file: it may be stale) and votes only once confirmed.
      const rejoin = clustered && (lost || (config.cluster.join && storedId === undefined));
      // The initial voters count only for an empty log: a stored one has its membership.
      const voters = rejoin
        ? []
        : [...(options.voters ?? (peers.length > 0 ? (config.cluster.join ? [] : peers.map((p) => p.id)) : [config.nodeId]))];
      const storage = new SqliteRaftStorage(database, { initialConfState: { voters, learners: [] } });
      if (lost) {
        log(
          clustered
            ? `storage: the database this node last ran with (storage id ${lineage}) is gone; rejoining the cluster as a member that lost its log: no vote until the leader confirms it holds the log again`
            : `storage: the database this node last ran with (storage id ${lineage}) is gone; a single server has no cluster to rejoin: starting from this database`,
        );
      }
      if (rejoin && storage.initialState().hardState.rejoining !== true) {
        storage.setHardState({ ...storage.initialState().hardState, rejoining: true });
        // On disk before the lineage file moves on and before any message leaves.
        await new Promise<void>((resolve, reject) => database.syncWal((error) => (error === null ? resolve() : reject(error))));
      }
      if (lineage !== storage.storageId) writeStorageLineage(config.dataDir, storage.storageId);
      const usage = new UsageLog(database);
      const snap = storage.snapshot();
      const parts = snap.metadata.index > 0 ? decodeNodeSnapshot(snap.data) : undefined;
      const pool = parts !== undefined ? decodeSnapshot(parts.pool) : createPoolState();
      const admin = decodeAdminState(parts?.admin);
      const applied = snap.metadata.index;
      // Floe's Raft core, also for a single node (its only voter): one code path for every deployment.
      const raft = createRaftNode({
        id: config.nodeId,
        storage,
        electionTicks: config.raft.electionTicks,
        heartbeatTicks: config.raft.heartbeatTicks,
        applied,
        messageBytesMax: 1024 * 1024,
        inflightMessagesMax: 256,
        uncommittedBytesMax: 0,
        committedBytesPerReadyMax: COMMITTED_BYTES_PER_READY_MAX,
        preVote: true,
        checkQuorum: clustered,
        random: Math.random,
      });
      const node = new FloeNode(options, { database, storage, usage, pool, admin, raft, clustered, observers });
      node.driver.start();
      if (!clustered && voters.length === 1 && voters[0] === config.nodeId) {
        // The only voter elects itself at once; flush so the node leads when open() returns.
        node.driver.campaign();
        node.driver.flush();
        await node.whenLeader(10_000);
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
    return this.proposeLog(audit === undefined ? command : { ...command, actor: audit.actor }) as Promise<ApplyResult>;
  }

  /** Proposes an admin-state command (tokens, audit notes) as propose() does a pool command. */
  proposeAdmin(command: UnstampedAdminCommand, audit?: AuditStamp): Promise<AdminApplyResult> {
    return this.proposeLog(audit === undefined ? command : { ...command, actor: audit.actor }) as Promise<AdminApplyResult>;
  }

  private proposeLog(command: UnstampedLogCommand): Promise<NodeResult> {
    if (!this.driver.isLeader && this.forwarder !== undefined) return this.forwarder.forward(command);
    return this.proposeHere(command);
  }

  /** Proposes on this node, which must lead. */
  private proposeHere(command: UnstampedLogCommand): Promise<NodeResult> {
    if (!this.driver.isLeader) {
      return Promise.reject(new ProposalError('NOT_LEADER', 'this node does not lead the cluster', this.driver.leaderId));
    }
    const stamped = { ...command, ...this.times.stamp() } as LogCommand;
    // Our own entries apply from the object we encoded: no JSON parse on the hot path.
    return this.driver.propose(encodeCommand(stamped), stamped);
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
    for (const [id, s] of this.peerClockSkews?.() ?? []) skews.set(id, s.skewMs);
    return { ...clusterView(this.config.nodeId, this.driver.status(), this.driver.applied, skews, this.certificateEnds?.()), clock: this.clockStatus() };
  }

  /** This node's clocks: cluster time, the wall clock, how far apart, and the steps seen. */
  clockStatus(): ClockStatus {
    return this.times.status();
  }

  /** Leader only: adds `member` as a voter (it must start with `join = true`); resolves once applied. */
  addMember(member: MemberRecord): Promise<void> {
    return this.driver.proposeConfChange(addVoterChange(member));
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
  async borrow(
    sessionId: string,
    request: { requestId: string; feature: string; version?: string | undefined; hours: number; fingerprint: string },
  ): Promise<{ ok: true; reply: BorrowReply } | { ok: false; code: string; message: string }> {
    // Lent only within the seats of the keys that pass here, as a checkout (node-licenses.ts).
    const gate = this.licensing.gate(request.feature);
    if (!gate.ok) throw new LicenseRefusalError(gate.refusal);
    await this.borrowTokens.ensureKey();
    const r = await this.propose({
      type: 'borrow',
      sessionId,
      requestId: request.requestId,
      feature: request.feature,
      ...(request.version !== undefined ? { version: request.version } : {}),
      durationMs: Math.max(1, Math.round(request.hours * 3_600_000)),
      fingerprint: request.fingerprint,
      ...(gate.licenseIds !== undefined ? { licenseIds: gate.licenseIds } : {}),
    });
    const reply = r.reply;
    if (!reply.ok) return { ok: false, code: reply.code, message: reply.message };
    if (reply.type !== 'borrowed') throw new Error(`assert: a borrow answered ${reply.type}`);
    const { token, publicKey } = this.borrowTokens.sign(reply);
    return { ok: true, reply: { ...reply.lease, borrowedAt: reply.borrowedAt, token, publicKey } };
  }

  /**
   * Gives back the borrowed seat `token` names, for the client of
   * `sessionId` (any node: the token is checked against the cluster's key).
   */
  async returnBorrowed(sessionId: string, requestId: string, token: string): Promise<{ ok: true; leaseId: string } | { ok: false; code: string; message: string }> {
    const check: TokenCheck = this.borrowTokens.verify(token);
    if (!check.ok) return check;
    const r = await this.propose({ type: 'return', sessionId, requestId, leaseId: check.payload.leaseId });
    const reply = r.reply;
    if (!reply.ok) return { ok: false, code: reply.code, message: reply.message };
    return { ok: true, leaseId: check.payload.leaseId };
  }

  /** Checks a borrow token's format and signature by the cluster's key (admin and tests). */
  verifyBorrowToken(token: string): TokenCheck {
    return this.borrowTokens.verify(token);
  }

  /** The cluster's borrow public key (base64url), or undefined before a leader set one. */
  get borrowPublicKey(): string | undefined {
    return this.borrowTokens.publicKey;
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
    return this.peerPublicKeyMap?.() ?? new Map();
  }

  /** Each peer's stated lock code and whether it is connected now; empty on a single node. */
  peers(): ReadonlyMap<string, PeerLockState> {
    return this.peerLockCodes?.() ?? new Map();
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
    const s = this.driver.status();
    return {
      nodeId: this.config.nodeId,
      role: s.role,
      leaderId: s.leaderId,
      term: s.term,
      commitIndex: s.commit,
      appliedIndex: this.driver.applied,
      lastIndex: s.lastIndex,
      rejoining: s.rejoining,
    };
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
    const s = this.driver.status();
    const appliedIndex = this.driver.applied;
    let term = s.term;
    try {
      term = this.storage.term(appliedIndex);
    } catch {
      // Compacted past it cannot happen (applied ≥ the log's base); keep the current term then.
    }
    return {
      takenAt: this.clock(),
      nodeId: this.config.nodeId,
      leaderId: s.leaderId,
      appliedIndex,
      term,
      confState: { voters: [...s.confState.voters], learners: [...s.confState.learners] },
      configPeers: this.config.cluster.peers.map((p) => ({ id: p.id, peerUrl: p.peerUrl, clientUrl: p.clientUrl, publicKey: p.publicKey })),
      addedMembers: [...(this.snapshotMembers?.() ?? [])],
      pool: encodeSnapshot(this.pool),
      licenses: listLicenses(this.pool),
      poolCount: this.pool.pools.size,
      sessionCount: this.pool.sessions.size,
      leaseCount: this.pool.leases.size,
    };
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
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Subscribes to leadership changes. */
  onLeadership(listener: (state: SoftState) => void): () => void {
    this.leaderListeners.add(listener);
    return () => this.leaderListeners.delete(listener);
  }

  /** Resolves once this node leads; rejects after `timeoutMs`. */
  whenLeader(timeoutMs: number): Promise<void> {
    if (this.driver.isLeader) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new ProposalError('NOT_LEADER', `no leadership within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onLeadership((state) => {
        if (state.role !== 'leader') return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
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
    if (this.usageTimer !== undefined) clearTimeout(this.usageTimer);
    this.forwarder?.close();
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
      if (tag !== undefined) this.forwarder?.applied(tag, adminResult);
      return adminResult;
    }
    const result = applyCommand(this.pool, command, at.position);
    recordAudit(this.admin, command, at.index, result.reply);
    // A follower continues cluster time from the leader's: a new leader starts from the last applied `at`.
    if (!this.driver.isLeader && this.driver.leaderId !== '') this.times.follow();
    if (command.type === 'license-install' || command.type === 'license-remove') this.licensing.refresh(this.pool);
    if (tag !== undefined) this.forwarder?.applied(tag, result);
    for (const event of result.events) {
      if (event.kind === 'usage') {
        const u = event;
        const row: UsageRow = {
          logIndex: at.index,
          at: u.at,
          kind: u.usage,
          feature: u.feature,
          version: u.version,
          user: u.user,
          host: u.host,
          clientId: u.clientId,
          count: u.count,
          leaseId: u.leaseId,
          waitedMs: u.waitedMs,
          code: u.code,
          reason: u.reason,
        };
        this.usage.record(row);
        if (this.observers.usage.active) this.usageQueue.push(row);
      } else {
        this.eventQueue.push(event);
      }
    }
    return result;
  }

  private afterApply(): void {
    if ((this.eventQueue.length > 0 || this.usageQueue.length > 0) && !this.eventsScheduled) {
      this.eventsScheduled = true;
      setImmediate(() => this.deliverEvents());
    }
    if (this.usage.pendingCount > 0 && this.usageTimer === undefined) {
      this.usageTimer = setTimeout(() => {
        this.usageTimer = undefined;
        if (!this.closed) this.usage.flush();
      }, USAGE_FLUSH_MS);
      this.usageTimer.unref();
    }
    this.reaper.schedule();
  }

  private deliverEvents(): void {
    this.eventsScheduled = false;
    const events = this.eventQueue;
    this.eventQueue = [];
    const rows = this.usageQueue;
    this.usageQueue = [];
    if (rows.length > 0) this.observers.usage.emit(rows);
    for (const event of events) {
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch (error) {
          this.log(`event listener failed: ${(error as Error).message}`);
        }
      }
    }
  }

  private restore(snapshot: Snapshot): void {
    this.log(`installing the leader's snapshot at index ${snapshot.metadata.index} (term ${snapshot.metadata.term})`);
    const parts = snapshot.metadata.index > 0 ? decodeNodeSnapshot(snapshot.data) : undefined;
    this.pool = parts !== undefined ? decodeSnapshot(parts.pool) : createPoolState();
    this.admin = decodeAdminState(parts?.admin);
    if (parts !== undefined && parts.members.length > 0) this.onSnapshotMembers?.(parts.members, snapshot.metadata.confState);
    this.licensing.refresh(this.pool);
    this.reaper.schedule();
  }

  private onSoftState(state: SoftState): void {
    this.log(`role ${state.role}, leader ${state.leaderId || '(none)'}`);
    for (const l of this.leaderListeners) l(state);
    this.forwarder?.leaderChanged();
    if (state.role === 'leader') void this.takeOffice();
    else this.reaper.schedule();
  }

  /**
   * A new leader: extend every lease by the grace period (clients of a dead
   * leader or a restarted node get time to reconnect), install the license
   * files of the config, then reap.
   */
  private async takeOffice(): Promise<void> {
    try {
      if (!isIdle(this.pool)) {
        await this.propose({ type: 'grace', graceMs: this.config.leaderGraceMs });
      }
      await this.licensing.installFiles(this.config.licenseFiles);
      // Any node may sign a borrow token: the cluster has one key, in the log.
      await this.borrowTokens.ensureKey();
    } catch (error) {
      this.log(`taking office: ${(error as Error).message}`);
    }
    this.reaper.schedule();
  }
}

