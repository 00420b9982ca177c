// What `floe status` shows, computed from the admin API's answers: each
// member's state as the answering node sees it (caught-up / behind by N /
// down / rejoining: GET /cluster's own `state` where the node sends one,
// else computed here from the leader's match indexes),
// each license's days to expiry, the pools and leases, and whether the
// figures are current (a leader confirmed them) or this node's own, possibly
// stale, state (no leader reachable: the node says so instead of failing).

/** `ms` in a day. */
const DAY_MS = 86_400_000;
/** Leases listed by name in the human report, at most (--json lists all). */
export const STATUS_LEASES_SHOWN_MAX = 50;

/** GET /health. */
export interface HealthAnswer {
  readonly nodeId: string;
  readonly role: string;
  readonly leaderId: string;
  readonly term: number;
  readonly appliedIndex: number;
  /** The node's TLS certificate, when it serves TLS. */
  readonly tls?: { readonly notAfter: string; readonly daysLeft: number; readonly subject: string; readonly caNotAfter?: string | undefined } | undefined;
}

/** One member of GET /cluster (raft-rejoin may add fields; they are kept in --json). */
export interface MemberAnswer {
  readonly id: string;
  readonly role: string;
  readonly commitIndex: number | null;
  readonly appliedIndex: number | null;
  readonly matchIndex?: number | undefined;
  readonly recentActive?: boolean | undefined;
  /** The member's state as the node computed it (caught-up, behind, down, rejoining; null: it cannot know); preferred over ours. */
  readonly state?: string | null | undefined;
  /** Entries the member lacks of the commit index, as the node computed it; null when unknown. */
  readonly lagEntries?: number | null | undefined;
  /** ISO 8601: when the member's TLS certificate ends, as the node last saw it; absent without TLS. */
  readonly tlsNotAfter?: string | undefined;
}

/** GET /cluster. */
export interface ClusterAnswer {
  readonly leaderId: string;
  readonly term: number;
  readonly reportedBy?: { readonly id: string; readonly role: string };
  readonly nodes: readonly MemberAnswer[];
}

/** One row of GET /licenses. */
export interface LicenseAnswer {
  readonly licenseId: string;
  readonly status: string;
  readonly features: readonly string[];
  readonly product: string;
  readonly version: string;
  readonly model: string;
  readonly seats: number;
  readonly expiresAt: number | null;
  readonly lockCodes: readonly string[];
  readonly hostDescription?: string | null;
  /** Provenance (absent from older servers): the code it was activated from, its order, the key center it came from. */
  readonly authCode?: string;
  readonly orderNumber?: string | null;
  readonly keyCenterUrl?: string | null;
  readonly activatedVia?: 'online' | 'offline' | null;
}

/** One row of GET /pools. */
export interface PoolAnswer {
  readonly feature: string;
  readonly version: string;
  readonly model: string;
  readonly seatsTotal: number;
  readonly seatsInUse: number;
  /** Seats reserved by the seat policy that nobody uses (not in seatsInUse; absent from older servers). */
  readonly seatsReservedIdle?: number;
  /** Seats taken offline (counted in seatsInUse; absent from older servers). */
  readonly seatsBorrowed?: number;
  readonly queued: number;
  readonly users?: readonly string[];
}

/** One row of GET /leases. */
export interface LeaseAnswer {
  readonly leaseId: string;
  readonly feature: string;
  readonly version?: string;
  readonly user: string;
  readonly host: string;
  readonly expiresAt: number;
  readonly lingering?: boolean;
  /** Taken offline until expiresAt (no heartbeat needed). */
  readonly borrowed?: boolean;
  /** Borrowed and revoked while its client was offline: the seat comes back at expiresAt or when that client connects. */
  readonly borrowRevoked?: boolean;
}

/** How a lease is held, as the lease lines say it before its end date. */
export function leaseHoldText(l: LeaseAnswer): string {
  if (l.borrowRevoked === true) return 'borrowed, revoked: held until';
  if (l.borrowed === true) return 'borrowed until';
  return l.lingering === true ? 'lingering until' : 'until';
}

/** The figures of a pool line: seats in use (borrowed ones among them), reserved idle seats, the queue. */
export function poolFiguresText(p: PoolAnswer): string {
  const borrowed = p.seatsBorrowed ?? 0;
  const idle = p.seatsReservedIdle ?? 0;
  return `${p.seatsInUse}/${p.seatsTotal} in use${borrowed > 0 ? ` (${borrowed} borrowed)` : ''}${idle > 0 ? `, ${idle} reserved idle` : ''}, ${p.queued} queued`;
}

/** Everything `floe status` read. */
export interface StatusAnswers {
  readonly health: HealthAnswer;
  readonly cluster: ClusterAnswer;
  readonly licenses: readonly LicenseAnswer[];
  readonly pools: readonly PoolAnswer[];
  readonly leases: readonly LeaseAnswer[];
  /** The reads came from this node's own state (no leader confirmed them); how far behind it may be. */
  readonly stale: { readonly appliedIndex: number; readonly lagEntries: number } | undefined;
}

/** A member's state as the report shows it. */
export interface MemberState {
  readonly id: string;
  readonly role: string;
  /** 'caught-up', 'behind', 'down', 'rejoining', or 'unknown' (a follower cannot see the others). */
  readonly state: string;
  /** Entries the member lacks of the leader's commit index; null when unknown. */
  readonly lagEntries: number | null;
}

/** A license and its days to expiry. */
export interface LicenseExpiry {
  readonly licenseId: string;
  readonly expiresAt: number | null;
  /** Whole days left (negative: expired that many days ago); null for a perpetual key. */
  readonly daysLeft: number | null;
}

/** Each member's state as the answering node knows it. */
export function memberStates(cluster: ClusterAnswer): MemberState[] {
  const self = cluster.nodes.find((n) => n.id === cluster.reportedBy?.id);
  const leaderCommit = cluster.reportedBy?.role === 'leader' ? (self?.commitIndex ?? null) : null;
  return cluster.nodes.map((m): MemberState => {
    // A node that computes the states itself (GET /cluster's `state`) knows more (rejoining): take its word.
    if (m.state !== undefined) return { id: m.id, role: m.role, state: m.state ?? 'unknown', lagEntries: m.lagEntries ?? null };
    if (m.id === cluster.reportedBy?.id) {
      const lag = m.commitIndex !== null && m.appliedIndex !== null ? Math.max(0, m.commitIndex - m.appliedIndex) : null;
      return { id: m.id, role: m.role, state: lag === null || lag === 0 ? 'caught-up' : 'behind', lagEntries: lag };
    }
    if (m.matchIndex === undefined || leaderCommit === null) return { id: m.id, role: m.role, state: 'unknown', lagEntries: null };
    const lag = Math.max(0, leaderCommit - m.matchIndex);
    return { id: m.id, role: m.role, state: m.recentActive === false ? 'down' : lag > 0 ? 'behind' : 'caught-up', lagEntries: lag };
  });
}

/** Days to each license's expiry at `nowMs`. */
export function licenseExpiries(licenses: readonly LicenseAnswer[], nowMs: number): LicenseExpiry[] {
  return licenses.map((l) => ({
    licenseId: l.licenseId,
    expiresAt: l.expiresAt,
    daysLeft: l.expiresAt === null ? null : Math.floor((l.expiresAt - nowMs) / DAY_MS),
  }));
}

function expiryText(e: LicenseExpiry, nowMs: number): string {
  if (e.expiresAt === null || e.daysLeft === null) return 'perpetual';
  const date = new Date(e.expiresAt).toISOString().slice(0, 10);
  if (e.expiresAt <= nowMs) return `expired ${date} (${Math.max(0, -e.daysLeft - 1)} days ago)`;
  return `expires ${date} (in ${e.daysLeft} day${e.daysLeft === 1 ? '' : 's'})`;
}

function memberText(m: MemberState): string {
  const lag = m.lagEntries !== null && m.lagEntries > 0 ? `behind by ${m.lagEntries} entries` : '';
  switch (m.state) {
    case 'unknown':
      return 'state unknown here (ask the leader)';
    case 'caught-up':
      return 'caught up';
    case 'behind':
      return `behind by ${m.lagEntries ?? '?'} entries`;
    case 'down':
      return `DOWN: not heard from lately${lag === '' ? '' : `; ${lag}`}`;
    case 'rejoining':
      return `REJOINING: its storage lost entries; it catches up and does not vote yet${lag === '' ? '' : `; ${lag}`}`;
    default:
      return `${m.state}${lag === '' ? '' : `, ${lag}`}`;
  }
}

/** Days before a TLS certificate ends from which `floe status` says to renew it (alerts.yml FloeCertificateExpiringSoon). */
const CERTIFICATE_RENEW_DAYS = 21;

/** "certificate ends 2027-01-05 (in 30 days)", with a call to renew it within CERTIFICATE_RENEW_DAYS. */
function certificateText(notAfter: string, nowMs: number): string {
  const days = Math.floor((Date.parse(notAfter) - nowMs) / DAY_MS);
  const ends = `${notAfter.slice(0, 10)} (${days < 0 ? `EXPIRED ${-days} days ago` : `in ${days} day${days === 1 ? '' : 's'}`})`;
  return `certificate ends ${ends}${days < CERTIFICATE_RENEW_DAYS ? ' — RENEW IT (floe tls issue; systemctl reload floe)' : ''}`;
}

/**
 * One line per member, as `floe status` and `floe cluster` show them: id,
 * role, state, and with TLS when its certificate ends (at `nowMs`).
 */
export function memberLines(cluster: ClusterAnswer, nowMs = Date.now()): string[] {
  return memberStates(cluster).map((m) => {
    const notAfter = cluster.nodes.find((n) => n.id === m.id)?.tlsNotAfter;
    return `  ${m.id.padEnd(8)} ${m.role.padEnd(10)} ${memberText(m)}${notAfter === undefined ? '' : `; ${certificateText(notAfter, nowMs)}`}`;
  });
}

/** The human report and the --json document. */
export function statusReport(a: StatusAnswers, nowMs: number): { lines: string[]; json: unknown } {
  const members = memberStates(a.cluster);
  const expiries = licenseExpiries(a.licenses, nowMs);
  const leader = a.health.leaderId === '' ? null : a.health.leaderId;
  const h = a.health;
  const lines = [`node ${h.nodeId}: ${h.role}, term ${h.term}, applied index ${h.appliedIndex}, leader ${leader ?? 'NONE'}`];
  if (a.stale !== undefined) {
    lines.push(
      leader === null
        ? `  NO LEADER: this node hears no leader now (an election, or it is cut off from the majority); checkouts wait.`
        : `  NO LEADER CONFIRMED: leader ${leader} did not confirm a read in time.`,
      `  The figures below are this node's own state at applied index ${a.stale.appliedIndex} and may be stale (${a.stale.lagEntries} entries known to be missing).`,
    );
  }
  if (h.tls !== undefined) {
    const days = Math.floor(h.tls.daysLeft);
    const ends = `${h.tls.notAfter.slice(0, 10)} (${days < 0 ? `EXPIRED ${-days} days ago` : `in ${days} day${days === 1 ? '' : 's'}`})`;
    lines.push(`  tls: certificate ${h.tls.subject} ends ${ends}${h.tls.caNotAfter !== undefined ? `, its CA ${h.tls.caNotAfter.slice(0, 10)}` : ''}${days < 21 ? ' — RENEW IT (floe tls issue; systemctl reload floe)' : ''}`);
  } else lines.push('  tls: none (plain http and ws on this node)');
  if (members.length > 1) {
    const by = a.cluster.reportedBy;
    lines.push('', by?.role === 'leader' ? `members (as the leader ${by.id} sees them):` : `members (as ${by?.id ?? h.nodeId}, not the leader, sees them):`);
    lines.push(...memberLines(a.cluster, nowMs));
  }
  lines.push('', 'licenses:');
  if (a.licenses.length === 0) lines.push('  (none: import one with floe license import --key-file FILE)');
  a.licenses.forEach((l, i) => {
    lines.push(`  ${l.licenseId.padEnd(24)} ${l.status.padEnd(8)} ${`${l.product} ${l.version}`.padEnd(16)} ${l.model} ${l.seats} seat${l.seats === 1 ? '' : 's'}, ${expiryText(expiries[i]!, nowMs)}`);
  });
  lines.push('', 'pools:');
  if (a.pools.length === 0) lines.push('  (none)');
  for (const p of a.pools) {
    const users = p.model === 'authorized-user' ? `, ${p.users?.length ?? 0} named user${p.users?.length === 1 ? '' : 's'}` : '';
    lines.push(`  ${`${p.feature}@${p.version}`.padEnd(24)} ${p.model.padEnd(16)} ${poolFiguresText(p)}${users}`);
  }
  lines.push('', `leases: ${a.leases.length}`);
  for (const l of a.leases.slice(0, STATUS_LEASES_SHOWN_MAX)) {
    lines.push(`  ${l.leaseId.padEnd(12)} ${l.feature.padEnd(16)} ${l.user}@${l.host}  ${leaseHoldText(l)} ${new Date(l.expiresAt).toISOString()}`);
  }
  if (a.leases.length > STATUS_LEASES_SHOWN_MAX) lines.push(`  … ${a.leases.length - STATUS_LEASES_SHOWN_MAX} more (floe lease list, or --json)`);
  const json = {
    node: { id: h.nodeId, role: h.role, term: h.term, appliedIndex: h.appliedIndex },
    leader,
    stale: a.stale !== undefined,
    ...(a.stale !== undefined ? { staleAppliedIndex: a.stale.appliedIndex, lagEntries: a.stale.lagEntries } : {}),
    members,
    licenses: a.licenses.map((l, i) => ({ ...l, daysLeft: expiries[i]!.daysLeft })),
    pools: a.pools,
    leases: a.leases,
    health: a.health,
    cluster: a.cluster,
  };
  return { lines, json };
}
