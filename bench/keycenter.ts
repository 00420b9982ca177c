// `npm run bench -- keycenter`: activations per second through the key
// center's API (POST /api/v1/activations, each a new concurrent code, so
// every request signs and stores a key), and their p99 latency, for one
// `floe keycenter serve` over SQLite, one over PostgreSQL and three over one
// PostgreSQL database (requests spread round-robin, as a reverse proxy
// would). Every instance is a separate process; the load comes from this
// one with a fixed number of requests in flight. Each run is bounded in
// count and time. PostgreSQL is a throw-away local server (as in the tests);
// without it the PostgreSQL figures are skipped with the reason.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { deriveLockCode } from '../protocol/index.ts';
import { KeyCenter, initKeyCenter } from '../keycenter/index.ts';
import { postgresUnavailableReason, startPostgres } from '../keycenter/store/postgres-server.test-support.ts';
import { startKeyCenterProcess, type KeyCenterProcess } from '../test/keycenter/key-center-process.test-support.ts';
import { percentile, round } from './figures.ts';

/** Activations per configuration (each a fresh code). */
const ACTIVATIONS = 600;
/** Requests in flight at once. */
const IN_FLIGHT = 24;
/** Longest a measured run lasts, ms (fewer activations are counted then). */
const RUN_MS_MAX = 90_000;

interface Figures {
  readonly activationsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly count: number;
}

const newLock = () => deriveLockCode({ machineId: 'bench', macs: [], hostname: 'bench' }, randomBytes(32));

async function measure(label: string, instanceCount: number, databaseUrl: string | undefined): Promise<Figures> {
  const root = mkdtempSync(join(os.tmpdir(), 'floe-bench-kc-'));
  const dir = join(root, 'kc');
  const instances: KeyCenterProcess[] = [];
  try {
    initKeyCenter(dir, { withSqliteStore: databaseUrl === undefined });
    const kc = await KeyCenter.open(dir, { databaseUrl });
    let codes: string[];
    try {
      codes = [];
      for (let i = 0; i < ACTIVATIONS; i += 50) {
        const batch = await Promise.all(Array.from({ length: Math.min(50, ACTIVATIONS - i) }, () => kc.entitle({ product: 'stats', version: '29', model: 'concurrent', seats: 10 })));
        codes.push(...batch.map((e) => e[0]!.authCode));
      }
    } finally {
      await kc.close();
    }
    const extra = ['--trust-proxy', ...(databaseUrl === undefined ? [] : ['--database', databaseUrl])];
    instances.push(...(await Promise.all(Array.from({ length: instanceCount }, () => startKeyCenterProcess(dir, extra)))));
    const latenciesMs: number[] = [];
    let next = 0;
    const startMs = performance.now();
    const worker = async () => {
      while (next < codes.length && performance.now() - startMs < RUN_MS_MAX) {
        const i = next++;
        const instance = instances[i % instances.length]!;
        const t0 = performance.now();
        const response = await fetch(`${instance.url}/api/v1/activations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
          body: JSON.stringify({ authCode: codes[i], lockCodes: [newLock()] }),
        }).catch((error: unknown) => {
          throw new Error(`${label}: request ${i} failed (${String((error as Error).cause ?? error)}); the instance logged: ${instance.stderr().slice(-2000)}`);
        });
        await response.arrayBuffer();
        if (response.status !== 201) throw new Error(`${label}: activation answered ${response.status}`);
        latenciesMs.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const elapsedMs = performance.now() - startMs;
    const sorted = Float64Array.from(latenciesMs).sort();
    const figures = { activationsPerSec: round((latenciesMs.length / elapsedMs) * 1000, 1), p50Ms: round(percentile(sorted, 50), 1), p99Ms: round(percentile(sorted, 99), 1), count: latenciesMs.length };
    process.stdout.write(`${label.padEnd(28)} ${String(figures.activationsPerSec).padStart(7)} activations/s  p50 ${figures.p50Ms} ms  p99 ${figures.p99Ms} ms  (${figures.count} activations, ${IN_FLIGHT} in flight)\n`);
    return figures;
  } finally {
    await Promise.all(instances.map((p) => p.stop()));
    rmSync(root, { recursive: true, force: true });
  }
}

export async function run(_args: string[]): Promise<Record<string, unknown>> {
  process.stdout.write(`key center activations through POST /api/v1/activations (load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores)\n`);
  const sqlite = await measure('1 instance, SQLite', 1, undefined);
  const result: Record<string, unknown> = { sqlite1ActivationsPerSec: sqlite.activationsPerSec, sqlite1P99Ms: sqlite.p99Ms };
  const reason = postgresUnavailableReason();
  if (reason !== undefined) {
    process.stdout.write(`PostgreSQL figures skipped: ${reason}\n`);
    return { ...result, postgresSkipped: reason };
  }
  const server = await startPostgres();
  try {
    await server.createDatabase('bench1');
    await server.createDatabase('bench3');
    const pg1 = await measure('1 instance, PostgreSQL', 1, server.urlOf('bench1'));
    const pg3 = await measure('3 instances, one PostgreSQL', 3, server.urlOf('bench3'));
    return {
      ...result,
      postgres1ActivationsPerSec: pg1.activationsPerSec,
      postgres1P99Ms: pg1.p99Ms,
      postgres3ActivationsPerSec: pg3.activationsPerSec,
      postgres3P99Ms: pg3.p99Ms,
      postgres3ToSqlite1Ratio: round(pg3.activationsPerSec / sqlite.activationsPerSec, 2),
      loadAverage1m: round(os.loadavg()[0]!, 1),
      cores: os.cpus().length,
    };
  } finally {
    await server.stop();
  }
}
