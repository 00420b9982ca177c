// Snapshot encoding of the pool state: compact JSON of tuples, in the state's
// own (command-determined) orders, so replicas with equal state write equal
// bytes. Only the facts are written; every index (seat counts, heaps, linger
// lists, per-session sets) is rebuilt on decode, and since the heaps order by
// (deadline, seq) alone, a decoded state behaves exactly like the original.
import type { LicenseModel, LicensePayload } from '../../protocol/license-payload.ts';
import { createPool } from './apply.ts';
import { computeCapacity, nextLicenseTransition } from './capacity.ts';
import type { PoolLimits } from './limits.ts';
import { createPoolState, type Lease, type Pool, type PoolState, type Session, type Waiter } from './pool-state.ts';
import type { PoolReply } from './results.ts';
import { emptyClientRequests, holdSeats, lingerKey, orderedRequests, writeRequest } from './seats.ts';
import { parseVersion } from './version.ts';

/** Format version of the snapshot; decode refuses any other. */
export const SNAPSHOT_FORMAT_VERSION = 1;

type PoolRow = [feature: string, version: string, model: LicenseModel, lingerMsMax: number, licenseIds: string[], users: string[]];
type SessionRow = [id: string, clientId: string, user: string, host: string, app: string, openedAt: number, deadlineMs: number, seq: number];
/** Leases of a live session name it by its row index; lingering ones after their session closed carry their identity. */
type LeaseRow =
  | [seq: number, pool: number, count: number, checkedOutAt: number, fencingToken: number, deadlineMs: number, lingerSeq: number, session: number]
  | [seq: number, pool: number, count: number, checkedOutAt: number, fencingToken: number, deadlineMs: number, lingerSeq: number, sessionId: string, clientId: string, user: string, host: string];
type WaiterRow = [pool: number, session: number, requestId: string, count: number, leaseTtlMs: number, enqueuedAt: number, deadlineMs: number, seq: number];

interface SnapshotDoc {
  v: number;
  limits: PoolLimits;
  appliedIndex: number;
  nowMs: number;
  nextSeq: number;
  licenses: [payload: LicensePayload, installedAt: number, poolKeys: readonly string[]][];
  pools: PoolRow[];
  sessions: SessionRow[];
  leases: LeaseRow[];
  /** Per pool, its queue from the head. */
  waiters: WaiterRow[];
  remembered: [clientId: string, entries: [requestId: string, reply: PoolReply][]][];
}

/** Encodes `state` deterministically: replicas that applied the same commands give equal bytes. */
export function encodeSnapshot(state: PoolState): Uint8Array {
  const poolIndex = new Map<Pool, number>();
  const pools: PoolRow[] = [];
  for (const p of state.pools.values()) {
    poolIndex.set(p, pools.length);
    pools.push([p.feature, p.version, p.model, p.lingerMsMax, p.licenseIds, [...p.users]]);
  }
  const sessionIndex = new Map<string, number>();
  const sessions: SessionRow[] = [];
  for (const s of state.sessions.values()) {
    sessionIndex.set(s.id, sessions.length);
    sessions.push([s.id, s.clientId, s.user, s.host, s.app, s.openedAt, s.deadlineMs, s.seq]);
  }
  const leases: LeaseRow[] = [];
  for (const l of state.leases.values()) {
    const pi = poolIndex.get(l.pool) as number;
    const si = sessionIndex.get(l.sessionId);
    const s = si === undefined ? undefined : state.sessions.get(l.sessionId);
    if (si !== undefined && s !== undefined && s.clientId === l.clientId && s.user === l.user && s.host === l.host) {
      leases.push([l.seq, pi, l.count, l.checkedOutAt, l.fencingToken, l.deadlineMs, l.lingerSeq, si]);
    } else {
      leases.push([l.seq, pi, l.count, l.checkedOutAt, l.fencingToken, l.deadlineMs, l.lingerSeq, l.sessionId, l.clientId, l.user, l.host]);
    }
  }
  const waiters: WaiterRow[] = [];
  for (const p of state.pools.values()) {
    for (const w of p.queue) {
      waiters.push([poolIndex.get(p) as number, sessionIndex.get(w.session.id) as number, w.requestId, w.count, w.leaseTtlMs, w.enqueuedAt, w.deadlineMs, w.seq]);
    }
  }
  const remembered: SnapshotDoc['remembered'] = [];
  for (const [clientId, c] of state.remembered) remembered.push([clientId, orderedRequests(c)]);
  const doc: SnapshotDoc = {
    v: SNAPSHOT_FORMAT_VERSION,
    limits: state.limits,
    appliedIndex: state.appliedIndex,
    nowMs: state.nowMs,
    nextSeq: state.nextSeq,
    licenses: [...state.licenses.values()].map((l) => [l.payload, l.installedAt, l.poolKeys]),
    pools,
    sessions,
    leases,
    waiters,
    remembered,
  };
  return new TextEncoder().encode(JSON.stringify(doc));
}

/** Rebuilds a state from `encodeSnapshot` bytes; throws on a malformed or foreign snapshot. */
export function decodeSnapshot(bytes: Uint8Array): PoolState {
  const doc = JSON.parse(new TextDecoder().decode(bytes)) as SnapshotDoc;
  if (doc.v !== SNAPSHOT_FORMAT_VERSION) throw new Error(`pool snapshot: format ${String(doc.v)}, expected ${SNAPSHOT_FORMAT_VERSION}`);
  const state = createPoolState(doc.limits);
  state.appliedIndex = doc.appliedIndex;
  state.nowMs = doc.nowMs;
  state.nextSeq = doc.nextSeq;
  for (const [payload, installedAt, poolKeys] of doc.licenses) {
    state.licenses.set(payload.licenseId, { payload, installedAt, poolKeys });
  }
  const pools: Pool[] = [];
  for (const [feature, version, model, lingerMsMax, licenseIds, users] of doc.pools) {
    const parts = parseVersion(version);
    if (parts === null) throw new Error(`pool snapshot: pool version ${version}`);
    const pool = createPool(state, feature, version, parts, model);
    pool.lingerMsMax = lingerMsMax;
    pool.licenseIds.push(...licenseIds);
    for (const u of users) pool.users.add(u);
    computeCapacity(state, pool);
    pools.push(pool);
  }
  const sessions: Session[] = [];
  for (const [id, clientId, user, host, app, openedAt, deadlineMs, seq] of doc.sessions) {
    const s: Session = { id, clientId, user, host, app, openedAt, deadlineMs, seq, heapIndex: -1, leases: new Set(), waiters: new Map() };
    state.sessions.set(id, s);
    state.sessionDeadlines.push(s);
    sessions.push(s);
  }
  const lingering: Lease[] = [];
  for (const row of doc.leases) {
    const [seq, pi, count, checkedOutAt, fencingToken, deadlineMs, lingerSeq] = row;
    const pool = pools[pi] as Pool;
    let sessionId: string, clientId: string, user: string, host: string;
    if (row.length === 8) {
      const s = sessions[row[7]] as Session;
      ({ id: sessionId, clientId, user, host } = s);
    } else {
      [, , , , , , , sessionId, clientId, user, host] = row;
    }
    const session = lingerSeq > 0 ? undefined : state.sessions.get(sessionId);
    const lease: Lease = { id: `L${seq}`, seq, pool, sessionId, session, clientId, user, host, count, checkedOutAt, fencingToken, deadlineMs, heapIndex: -1, lingerSeq };
    state.leases.set(lease.id, lease);
    pool.leaseCount++;
    state.leaseDeadlines.push(lease);
    holdSeats(pool, lease);
    if (lingerSeq > 0) lingering.push(lease);
    else session?.leases.add(lease);
  }
  lingering.sort((a, b) => a.lingerSeq - b.lingerSeq);
  for (const l of lingering) {
    const key = lingerKey(l.user, l.host);
    const list = l.pool.lingering.get(key);
    if (list === undefined) l.pool.lingering.set(key, [l]);
    else list.push(l);
  }
  const waiters: Waiter[] = [];
  for (const [pi, si, requestId, count, leaseTtlMs, enqueuedAt, deadlineMs, seq] of doc.waiters) {
    const pool = pools[pi] as Pool;
    const session = sessions[si] as Session;
    const w: Waiter = { requestId, session, pool, count, leaseTtlMs, enqueuedAt, deadlineMs, seq, heapIndex: -1 };
    pool.queue.push(w);
    state.waiterDeadlines.push(w);
    waiters.push(w);
  }
  waiters.sort((a, b) => a.seq - b.seq);
  for (const w of waiters) w.session.waiters.set(w.requestId, w);
  for (const [clientId, entries] of doc.remembered) {
    const c = emptyClientRequests(clientId);
    for (const [id, reply] of entries) writeRequest(c, id, reply, state.limits.requestsPerClientRememberedMax);
    state.remembered.set(clientId, c);
  }
  state.licenseTransitionAtMs = nextLicenseTransition(state);
  return state;
}
