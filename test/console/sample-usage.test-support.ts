// A sample site's usage history, for the console's screenshots: ten working
// days of engineers checking seats in and out, made by the real seat pool
// (daemon/pool's apply, no node, no clock) so the rows — checkouts,
// check-ins, denials, queue waits — are exactly what a node would have
// written. writeSampleUsage() puts them in a node's data directory before
// it first starts (each usage row carries log index 0: older than any entry
// the node then applies, so none of them is skipped or written twice).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { apply, createPoolState, type PoolCommand, type PoolState } from '../../daemon/pool/index.ts';
import { DATABASE_FILE_NAME, openDatabase, type UsageRow } from '../../daemon/storage/index.ts';
import type { LicensePayload } from '../../protocol/license-payload.ts';
import { seededRandom } from '../seeded-random.test-support.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** A feature of the sample site and who uses it. */
export interface SampleFeature {
  readonly feature: string;
  readonly version: string;
  readonly seats: number;
  /** Users who may start it on a working day. */
  readonly users: readonly string[];
  /** Share of those users who start it on a working day (0..1). */
  readonly dailyShare: number;
}

/** Options of sampleUsageRows. */
export interface SampleUsageOptions {
  readonly features: readonly SampleFeature[];
  /** `ms` since the epoch: the history ends here (its last working hours are before it). */
  readonly endMs: number;
  /** Calendar days of history before endMs. */
  readonly days: number;
  /** PRNG seed: the same seed gives the same history. */
  readonly seed: number;
}

/** A key payload for the pool (signatures are the node's business, not the pool's). */
function payload(f: SampleFeature, i: number): LicensePayload {
  return {
    v: 1,
    licenseId: `SAMPLE-${i}`,
    authCode: `SAMPLE-${i}`,
    vendorKeyId: 'sample',
    product: f.feature,
    version: f.version,
    model: 'concurrent',
    seats: f.seats,
    components: [],
    issuedAt: 0,
    notBefore: 0,
    lockCodes: [],
    lingerSeconds: 0,
    hostsPerUserMax: 1,
  };
}

/** One planned use: a user wants a seat from startMs for durationMs. */
interface Use {
  readonly startMs: number;
  readonly durationMs: number;
  readonly feature: string;
  readonly user: string;
  /** Waits in the queue (up to 20 minutes) when no seat is free, instead of giving up. */
  readonly waits: boolean;
}

/** Plans each working day's uses: mornings and afternoons, a lunch dip, nothing at weekends. */
function planUses(options: SampleUsageOptions, random: () => number): Use[] {
  const uses: Use[] = [];
  const firstDay = Math.floor(options.endMs / DAY_MS) * DAY_MS - options.days * DAY_MS;
  for (let day = firstDay; day + DAY_MS <= options.endMs + DAY_MS; day += DAY_MS) {
    const weekday = new Date(day).getUTCDay();
    if (weekday === 0 || weekday === 6) continue;
    // Busier midweek.
    const busy = weekday === 2 || weekday === 3 ? 1.25 : 1;
    for (const f of options.features) {
      for (const user of f.users) {
        if (random() > f.dailyShare * busy) continue;
        for (const [fromH, toH] of [
          [8, 11.5],
          [13, 17],
        ] as const) {
          if (random() < 0.25) continue;
          const startMs = Math.round(day + (fromH + random() * (toH - fromH - 0.5)) * HOUR_MS);
          const durationMs = Math.round((0.5 + random() * (toH - fromH)) * HOUR_MS);
          if (startMs + durationMs < options.endMs) uses.push({ startMs, durationMs, feature: f.feature, user, waits: random() < 0.5 });
        }
      }
    }
  }
  return uses.sort((a, b) => a.startMs - b.startMs);
}

/**
 * The usage rows a node would have written for the sample history (log
 * index 0), oldest first.
 */
export function sampleUsageRows(options: SampleUsageOptions): UsageRow[] {
  const random = seededRandom(options.seed);
  const state: PoolState = createPoolState();
  const rows: UsageRow[] = [];
  let index = 0;
  let rid = 0;
  const run = (command: PoolCommand) => {
    const r = apply(state, command, ++index);
    for (const e of r.events) {
      if (e.kind !== 'usage') continue;
      rows.push({ logIndex: 0, at: e.at, kind: e.usage, feature: e.feature, version: e.version, user: e.user, host: e.host, clientId: e.clientId, count: e.count, leaseId: e.leaseId, waitedMs: e.waitedMs, code: e.code, reason: e.reason });
    }
    return r;
  };
  const firstMs = options.endMs - (options.days + 1) * DAY_MS;
  options.features.forEach((f, i) => run({ type: 'license-install', at: firstMs, license: payload(f, i) }));

  /** Timed steps: each use's start and end, and the queue's give-ups, in time order. */
  const steps: { atMs: number; run: () => void }[] = [];
  let n = 0;
  for (const u of planUses(options, random)) {
    const sessionId = `s${++n}`;
    const start = () => {
      run({ type: 'session-open', at: u.startMs, sessionId, clientId: `c-${u.user}`, user: u.user, host: `${u.user}-ws`, app: u.feature, sessionTtlMs: DAY_MS });
      run({ type: 'checkout', at: u.startMs, sessionId, requestId: `r${++rid}`, feature: u.feature, count: 1, wait: u.waits, leaseTtlMs: DAY_MS, waitMs: 20 * MINUTE_MS });
    };
    steps.push({ atMs: u.startMs, run: start });
    // The session ends when the user is done (or gives up waiting): its lease and queued checkout end with it.
    steps.push({ atMs: u.startMs + u.durationMs, run: () => run({ type: 'session-close', at: u.startMs + u.durationMs, sessionId }) });
    // Queued checkouts give up after 20 minutes: the pool ends them on its next expire.
    if (u.waits) steps.push({ atMs: u.startMs + 20 * MINUTE_MS + 1, run: () => run({ type: 'expire', at: u.startMs + 20 * MINUTE_MS + 1 }) });
  }
  steps.sort((a, b) => a.atMs - b.atMs);
  for (const s of steps) s.run();
  return rows;
}

/**
 * Writes `rows` into the usage table of the node whose data directory is
 * `dataDir` (before it first starts). Straight SQL: UsageLog.record skips
 * rows at or below the indexes it has written, which index 0 always is.
 */
export function writeSampleUsage(dataDir: string, rows: readonly UsageRow[]): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const database = openDatabase(join(dataDir, DATABASE_FILE_NAME));
  try {
    const insert = database.sqlite.prepare(
      'INSERT INTO usage_events (log_index, at, kind, feature, version, user, host, client_id, count, lease_id, waited_ms, code, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    database.sqlite.transaction(() => {
      for (const r of rows) insert.run(r.logIndex, r.at, r.kind, r.feature, r.version, r.user, r.host, r.clientId, r.count, r.leaseId, r.waitedMs, r.code, r.reason);
    })();
  } finally {
    database.close();
  }
}
