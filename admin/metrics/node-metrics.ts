// The Prometheus metrics of one node (GET /metrics at the admin server's
// root, prom-client's text format). Gauges are read from the node's state at
// scrape time; counters and histograms are fed by the node's observers
// (usage rows of applied entries, checkout latencies, fsync times). Metrics
// only read: nothing here proposes or changes anything.
//
// Counters count what this node applied since it started, so every node of a
// cluster counts the same events; use rate()/increase(), as for any counter.
// Names and types are stable (docs/metrics.md); a new metric is added, never
// renamed.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TlsCertificateStatus } from '../../daemon/index.ts';
import type { FloeNode } from '../../daemon/node/index.ts';

/** Options of the metrics. */
export interface NodeMetricsOptions {
  /** Also give floe_user_seats_in_use{feature,user} (config metricsPerUser). */
  readonly perUser: boolean;
  /** Also give prom-client's process and Node.js metrics (process_cpu_seconds_total, nodejs_eventloop_lag_seconds, …). */
  readonly processMetrics: boolean;
  /** This node's TLS certificate as last loaded (floe_tls_certificate_expiry_timestamp_seconds); absent or undefined: plain http. */
  readonly tlsStatus?: () => TlsCertificateStatus | undefined;
}

/** How a lease ended, by usage kind: the `reason` label of floe_checkins_total. */
const CHECKIN_REASON_OF_KIND: Readonly<Record<string, string>> = {
  checkin: 'normal',
  expiry: 'expiry',
  'force-checkin': 'forced',
};

/** Buckets of floe_checkout_duration_seconds: a commit on a majority is ~1–20 ms, a failover up to seconds. */
const CHECKOUT_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Buckets of floe_storage_fsync_duration_seconds. */
const FSYNC_SECONDS_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5];
/** `ms` between samples of the event-loop delay histogram (nodejs_eventloop_lag_*); prom-client's default is 10. */
const EVENT_LOOP_SAMPLE_MS = 100;
/** Raft roles a node can be in, each a floe_raft_role series (1 for the current one). */
const RAFT_ROLES = ['leader', 'follower', 'candidate', 'pre-candidate', 'learner'];

/** The seat policy's figures of a pool view, where the pool gives them (issue 16's policy adds them). */
function policyFigures(pool: object): { readonly seatsReservedIdle?: number; readonly seatsBorrowed?: number } {
  return pool as { readonly seatsReservedIdle?: number; readonly seatsBorrowed?: number };
}

/** A node's metrics registry; close() stops listening to the node. */
export interface NodeMetrics {
  readonly registry: Registry;
  close(): void;
}

/** Registers every metric of `node` in a registry of its own (several nodes may share a process: tests). */
export function createNodeMetrics(node: FloeNode, options: NodeMetricsOptions): NodeMetrics {
  const registry = new Registry();
  const registers = [registry];
  // The event-loop delay histogram samples with a libuv timer: every 10 ms by default, 100 wake-ups a
  // second of an otherwise idle node (0.7 % of a core on a loaded 2-core VM, docs/performance.md); every
  // 100 ms it still catches any stall that matters (one longer than a sample period is recorded whole).
  if (options.processMetrics) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });

  const poolLabels = ['feature', 'version'] as const;
  const pools = () => node.pools();
  new Gauge({
    name: 'floe_seats_total',
    help: 'Seats licensed in the pool (valid keys whose lock codes match).',
    labelNames: poolLabels,
    registers,
    collect() {
      this.reset();
      for (const p of pools()) this.set({ feature: p.feature, version: p.version }, p.seatsTotal);
    },
  });
  new Gauge({
    name: 'floe_seats_in_use',
    help: 'Seats held now (lingering seats included).',
    labelNames: poolLabels,
    registers,
    collect() {
      this.reset();
      for (const p of pools()) this.set({ feature: p.feature, version: p.version }, p.seatsInUse);
    },
  });
  new Gauge({
    name: 'floe_seats_queued',
    help: 'Checkouts waiting in the pool queue.',
    labelNames: poolLabels,
    registers,
    collect() {
      this.reset();
      for (const p of pools()) this.set({ feature: p.feature, version: p.version }, p.queued);
    },
  });
  new Gauge({
    name: 'floe_seats_lingering',
    help: 'Seats checked in but held for their last user until the linger ends.',
    labelNames: poolLabels,
    registers,
    collect() {
      this.reset();
      for (const p of pools()) this.set({ feature: p.feature, version: p.version }, p.seatsLingering);
    },
  });
  // The seat policy's figures (issue 16): pools without a policy report 0.
  new Gauge({
    name: 'floe_seats_reserved',
    help: "Seats not in use but held back for the seat policy's reservations (apart from floe_seats_in_use).",
    labelNames: poolLabels,
    registers,
    collect() {
      this.reset();
      for (const p of pools()) this.set({ feature: p.feature, version: p.version }, policyFigures(p).seatsReservedIdle ?? 0);
    },
  });
  new Gauge({
    name: 'floe_seats_borrowed',
    help: 'Seats taken offline by borrowing clients (counted in floe_seats_in_use too).',
    labelNames: poolLabels,
    registers,
    collect() {
      this.reset();
      for (const p of pools()) this.set({ feature: p.feature, version: p.version }, policyFigures(p).seatsBorrowed ?? 0);
    },
  });
  if (options.perUser) {
    new Gauge({
      name: 'floe_user_seats_in_use',
      help: 'Seats held now by each user (config metricsPerUser).',
      labelNames: ['feature', 'user'],
      registers,
      collect() {
        this.reset();
        for (const l of node.leases()) this.inc({ feature: l.feature, user: l.user }, l.count);
      },
    });
  }
  new Gauge({
    name: 'floe_sessions',
    help: 'Open client sessions.',
    registers,
    collect() {
      this.set(node.poolState.sessions.size);
    },
  });
  new Gauge({
    name: 'floe_license_expiry_timestamp_seconds',
    help: 'When each temporary license ends (seconds since the epoch); permanent licenses have no series.',
    labelNames: ['license_id', 'product', 'version'],
    registers,
    collect() {
      this.reset();
      for (const l of node.licenses()) {
        if (l.payload.expiresAt !== undefined) this.set({ license_id: l.licenseId, product: l.payload.product, version: l.payload.version }, l.payload.expiresAt / 1000);
      }
    },
  });

  const checkouts = new Counter({ name: 'floe_checkouts_total', help: 'Seats granted (at once or from the queue).', labelNames: ['feature'], registers });
  const checkins = new Counter({
    name: 'floe_checkins_total',
    help: 'Leases ended, by reason: normal (checkin or session close), expiry, forced (an admin), or why they were revoked (license-removed, license-expired, user-unassigned).',
    labelNames: ['feature', 'reason'],
    registers,
  });
  const denials = new Counter({ name: 'floe_denials_total', help: 'Checkouts refused, by code (NO_SEATS, NOT_AUTHORIZED_USER, …).', labelNames: ['feature', 'code'], registers });
  const queueWaits = new Counter({ name: 'floe_queue_waits_total', help: 'Queued checkouts that left their queue, granted or not.', labelNames: ['feature'], registers });
  const unsubscribeUsage = node.observers.usage.add((rows) => {
    for (const r of rows) {
      if (r.kind === 'checkout') checkouts.inc({ feature: r.feature }, r.count);
      else if (r.kind === 'denial') denials.inc({ feature: r.feature, code: r.code });
      else if (r.kind === 'queue-wait') queueWaits.inc({ feature: r.feature });
      else if (r.kind === 'revoke') checkins.inc({ feature: r.feature, reason: r.reason === '' ? 'revoked' : r.reason }, r.count);
      else {
        const reason = CHECKIN_REASON_OF_KIND[r.kind];
        if (reason !== undefined) checkins.inc({ feature: r.feature, reason }, r.count);
      }
    }
  });

  const checkoutSeconds = new Histogram({
    name: 'floe_checkout_duration_seconds',
    help: "Time from a client checkout's arrival at this node to its answer (granted, queued or refused).",
    labelNames: ['result'],
    buckets: CHECKOUT_SECONDS_BUCKETS,
    registers,
  });
  const unsubscribeCheckout = node.observers.checkoutLatency.add(({ ms, ok }) => checkoutSeconds.observe({ result: ok ? 'ok' : 'refused' }, ms / 1000));
  const fsyncSeconds = new Histogram({ name: 'floe_storage_fsync_duration_seconds', help: 'Time of one fdatasync of the log.', buckets: FSYNC_SECONDS_BUCKETS, registers });
  const unsubscribeSync = node.observers.storageSync.add((ms) => fsyncSeconds.observe(ms / 1000));

  new Gauge({
    name: 'floe_raft_role',
    help: "1 for this node's Raft role, 0 for the others.",
    labelNames: ['role'],
    registers,
    collect() {
      const role = node.status().role;
      for (const r of RAFT_ROLES) this.set({ role: r }, r === role ? 1 : 0);
    },
  });
  new Gauge({
    name: 'floe_raft_has_leader',
    help: '1 when this node knows a leader (a quorum is up and reachable from it), else 0.',
    registers,
    collect() {
      this.set(node.status().leaderId === '' ? 0 : 1);
    },
  });
  new Gauge({
    name: 'floe_raft_term',
    help: 'Current Raft term.',
    registers,
    collect() {
      this.set(node.status().term);
    },
  });
  new Gauge({
    name: 'floe_raft_commit_index',
    help: 'Highest log index known committed.',
    registers,
    collect() {
      this.set(node.status().commitIndex);
    },
  });
  new Gauge({
    name: 'floe_raft_applied_index',
    help: 'Highest log index applied to the pool on this node.',
    registers,
    collect() {
      this.set(node.status().appliedIndex);
    },
  });
  new Gauge({
    name: 'floe_cluster_members',
    help: 'Members of the cluster (voters and learners).',
    registers,
    collect() {
      this.set(node.clusterStatus().nodes.length);
    },
  });
  new Gauge({
    name: 'floe_peer_up',
    help: 'Per peer: 1 while an authenticated peer connection to or from it is open, else 0.',
    labelNames: ['peer'],
    registers,
    collect() {
      this.reset();
      for (const [id, p] of node.peers()) this.set({ peer: id }, p.connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'floe_member_lag_entries',
    help: "Leader only: per member, entries committed but not yet known on the member's disk (commit − match).",
    labelNames: ['member'],
    registers,
    collect() {
      this.reset();
      const view = node.clusterStatus();
      if (view.reportedBy.role !== 'leader') return;
      const commit = node.status().commitIndex;
      for (const m of view.nodes) {
        if (m.id === view.reportedBy.id) this.set({ member: m.id }, 0);
        else if (m.matchIndex !== undefined) this.set({ member: m.id }, Math.max(0, commit - m.matchIndex));
      }
    },
  });

  new Gauge({
    name: 'floe_member_clock_skew_seconds',
    help: "Per member this node has a peer connection to: its wall clock minus this node's, measured on the peer pings (0 for itself).",
    labelNames: ['member'],
    registers,
    collect() {
      this.reset();
      for (const m of node.clusterStatus().nodes) if (m.clockSkewMs !== undefined) this.set({ member: m.id }, m.clockSkewMs / 1000);
    },
  });

  new Gauge({
    name: 'floe_tls_certificate_expiry_timestamp_seconds',
    help: 'When the TLS certificate this node serves ends (certificate="node") and the earliest CA certificate of tls.caFile (certificate="ca"), seconds since the epoch; as last loaded (start or SIGHUP). No series without [tls].',
    labelNames: ['certificate'],
    registers,
    collect() {
      this.reset();
      const t = options.tlsStatus?.();
      if (t === undefined) return;
      this.set({ certificate: 'node' }, t.notAfterMs / 1000);
      if (t.caNotAfterMs !== undefined) this.set({ certificate: 'ca' }, t.caNotAfterMs / 1000);
    },
  });

  return {
    registry,
    close() {
      unsubscribeUsage();
      unsubscribeCheckout();
      unsubscribeSync();
    },
  };
}
