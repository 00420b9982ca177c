// `npm run bench -- cluster [--only throughput,steady,failover,sessions]`:
// the cluster issue's figures on three `floe serve` processes on loopback
// (test/cluster's ClusterSite: identities, a redundant license, configs).
//
// - throughput: durable checkout+checkin requests/s and p50/p99 latency with
//   10, 100 and 1,000 raw-protocol clients spread over the three nodes, and a
//   bare ws echo server (its own process) driven by the same clients in the
//   same run, with the ratio. Goal: ≥ 20,000 requests/s at 100 clients.
// - steady: 60 s of load at 100 clients; leader changes counted from every
//   node's /health (term and leaderId) polled every 250 ms. Goal: zero.
// - failover: 20 trials of light SDK load, SIGKILL the leader, time to the
//   first successful checkout sent after the kill (through a survivor),
//   restart the node and wait until it caught up. Goal: median ≤ 500 ms,
//   max ≤ 1.5 s.
// - sessions: 10,000 raw-protocol sessions on one node, heartbeating at the
//   interval the server tells in hello; server RSS per session (goal ≤ 10 KiB)
//   and checkout p50/p99 of a 10-client probe idle vs while they heartbeat
//   (goal: p99 within 2×).
//
// The load comes from child processes running this same file as a load
// worker (FLOE_CLUSTER_BENCH_ROLE=load, driven over IPC), so no load
// generator shares an event loop with a server or with another generator.
// Options: --only LIST, --seconds S (per throughput run, default 4),
// --clients 10,100,1000, --steady-seconds S (60), --trials N (20),
// --sessions N (10,000), --via all|leader|followers (throughput: where the
// clients connect; default all). FLOE_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"
// profiles the three nodes (stopped with SIGTERM so the profiles are written).
// Every loop is bounded in count and time; every process is stopped at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import WebSocket from 'ws';
import { connect, type FloeClient } from '../client/index.ts';
import { ClusterSite } from '../test/cluster/cluster-harness.ts';
import { caughtUp, guardSite, healthOf, isLive, liveIds, startNode, until } from '../test/cluster/site-tools.ts';

/** Environment variable that makes this file a load worker. */
const ROLE_ENV = 'FLOE_CLUSTER_BENCH_ROLE';
/** `ms` of warm-up before each measured throughput run. */
const WARMUP_MS = 500;
/** Seats of the bench license: every client may hold one, plus the failover probes'. */
const SEATS = 5000;
/** Hellos in flight at once while opening many sessions. */
const HELLO_CONCURRENCY = 200;
/** `ms` any single worker command may take before the bench gives up on it. */
const WORKER_COMMAND_MS_MAX = 180_000;

// ---------------------------------------------------------------------------
// Shared figures

interface RunFigures {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  /** First error replies (diagnostics). */
  errorSamples: string[];
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// The load worker (a child process)

type Frame = Record<string, unknown>;

/** A lean protocol client: numbered requests, replies by id, pushes ignored. */
class RawClient {
  private nextId = 1;
  private readonly waiting = new Map<number, (f: Frame) => void>();
  closed = false;
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as Frame;
      const id = f['id'];
      if (typeof id !== 'number') return;
      const w = this.waiting.get(id);
      if (w === undefined) return;
      this.waiting.delete(id);
      w(f);
    });
    ws.on('close', () => {
      this.closed = true;
      for (const w of this.waiting.values()) w({ ok: false, error: { code: 'SOCKET_CLOSED' } });
      this.waiting.clear();
    });
    ws.on('error', () => {});
  }
  static async connect(url: string): Promise<RawClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`connect ${url} timed out`)), 10_000);
      ws.once('open', () => {
        clearTimeout(t);
        resolve();
      });
      ws.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
    return new RawClient(ws);
  }
  request(frame: Frame): Promise<Frame> {
    if (this.closed) return Promise.resolve({ ok: false, error: { code: 'SOCKET_CLOSED' } });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.ws.send(JSON.stringify({ ...frame, id }));
    });
  }
  terminate(): void {
    this.ws.terminate();
  }
}

/** Opens `count` clients round-robin over `urls`, saying hello on each when `hello` (ids prefixed `prefix`). */
async function openClients(urls: string[], count: number, prefix: string, hello: boolean): Promise<{ clients: RawClient[]; heartbeatMs: number }> {
  const clients: RawClient[] = new Array(count);
  let heartbeatMs = 0;
  let next = 0;
  const lanes = Array.from({ length: Math.min(HELLO_CONCURRENCY, count) }, async () => {
    while (next < count) {
      const i = next++;
      const c = await RawClient.connect(urls[i % urls.length]!);
      clients[i] = c;
      if (!hello) continue;
      for (let attempt = 0; ; attempt++) {
        const r = await c.request({ type: 'hello', protocol: 1, clientId: `${prefix}-${i}`, user: `u${i}`, host: `h${i}`, app: 'bench' });
        if (r['ok'] === true) {
          heartbeatMs = Number(r['heartbeatMs']);
          break;
        }
        if (attempt >= 20) throw new Error(`hello refused: ${JSON.stringify(r)}`);
        await sleep(50);
      }
    }
  });
  await Promise.all(lanes);
  return { clients, heartbeatMs };
}

/** Closed loops (one request in flight per client) of checkout+checkin (or two echoes), measured after a warm-up. */
async function driveCheckouts(clients: RawClient[], prefix: string, durationMs: number, warmupMs: number, heartbeatMs: number): Promise<RunFigures> {
  let measuring = false;
  let stop = false;
  const latencies: number[] = [];
  let requests = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  const note = (f: Frame) => {
    errors++;
    if (errorSamples.length < 5) errorSamples.push(JSON.stringify(f).slice(0, 300));
  };
  const loops = clients.map(async (c, i) => {
    // Sessions end leaseTtlMs after their last renewal: a run longer than that (steady: 60 s) heartbeats
    // like a real client, every heartbeatMs (outside the measured requests). 0: no session (echo).
    let nextBeatMs = performance.now() + heartbeatMs * (0.5 + Math.random() / 2);
    for (let seq = 0; !stop; seq++) {
      if (heartbeatMs > 0 && performance.now() >= nextBeatMs) {
        nextBeatMs = performance.now() + heartbeatMs;
        const hb = await c.request({ type: 'heartbeat' });
        if (measuring && hb['ok'] !== true) note(hb);
      }
      const t0 = performance.now();
      const co = await c.request({ type: 'checkout', requestId: `${prefix}-co-${i}-${seq}`, feature: 'demo' });
      const t1 = performance.now();
      let t2 = t1;
      let n = 1;
      if (co['ok'] === true) {
        const ci = await c.request({ type: 'checkin', requestId: `${prefix}-ci-${i}-${seq}`, leaseId: co['leaseId'] ?? 'L0' });
        t2 = performance.now();
        n = 2;
        if (measuring && ci['ok'] !== true) note(ci);
      } else if (measuring) note(co);
      if (c.closed) await sleep(100);
      if (!measuring) continue;
      requests += n;
      latencies.push(t1 - t0);
      if (n === 2) latencies.push(t2 - t1);
    }
  });
  await sleep(warmupMs);
  measuring = true;
  const start = performance.now();
  await sleep(durationMs);
  measuring = false;
  const elapsedMs = performance.now() - start;
  stop = true;
  await Promise.all(loops);
  const sorted = Float64Array.from(latencies).sort();
  return {
    requestsPerSec: Math.round((requests * 1000) / elapsedMs),
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    requests,
    errors,
    errorSamples,
  };
}

/** Commands of the load worker. */
type WorkerCommand =
  | { cmd: 'throughput'; urls: string[]; clients: number; durationMs: number; warmupMs: number; hello: boolean; prefix: string }
  | { cmd: 'sessions-open'; url: string; count: number; prefix: string }
  | { cmd: 'sessions-stats' }
  | { cmd: 'sessions-close' };

/** The worker's side: answers each IPC command, then waits for the next. */
function runLoadWorker(): void {
  let sessions: RawClient[] = [];
  const timers: NodeJS.Timeout[] = [];
  let heartbeats = 0;
  let heartbeatErrors = 0;
  const heartbeatErrorSamples: string[] = [];
  const handle = async (c: WorkerCommand): Promise<unknown> => {
    switch (c.cmd) {
      case 'throughput': {
        const { clients, heartbeatMs } = await openClients(c.urls, c.clients, c.prefix, c.hello);
        try {
          return await driveCheckouts(clients, c.prefix, c.durationMs, c.warmupMs, heartbeatMs);
        } finally {
          for (const x of clients) x.terminate();
        }
      }
      case 'sessions-open': {
        const t0 = performance.now();
        const opened = await openClients([c.url], c.count, c.prefix, true);
        sessions = opened.clients;
        const openMs = performance.now() - t0;
        // Each session heartbeats every heartbeatMs (as told in hello), phases spread evenly.
        const every = opened.heartbeatMs;
        sessions.forEach((s, i) => {
          const start = setTimeout(() => {
            const beat = () => {
              void s.request({ type: 'heartbeat' }).then((r) => {
                if (r['ok'] === true) heartbeats++;
                else {
                  heartbeatErrors++;
                  if (heartbeatErrorSamples.length < 5) heartbeatErrorSamples.push(JSON.stringify(r).slice(0, 200));
                }
              });
            };
            beat();
            timers.push(setInterval(beat, every));
          }, (every * i) / sessions.length);
          timers.push(start);
        });
        return { openMs: Math.round(openMs), heartbeatMs: every };
      }
      case 'sessions-stats':
        return { heartbeats, heartbeatErrors, heartbeatErrorSamples, open: sessions.filter((s) => !s.closed).length };
      case 'sessions-close':
        for (const t of timers) clearTimeout(t);
        for (const s of sessions) s.terminate();
        sessions = [];
        return { heartbeats, heartbeatErrors };
      default: {
        const never: never = c;
        throw new Error(`unknown command ${JSON.stringify(never)}`);
      }
    }
  };
  process.on('message', (m: { id: number; command: WorkerCommand }) => {
    handle(m.command).then(
      (result) => process.send!({ id: m.id, result }),
      (error: unknown) => process.send!({ id: m.id, error: (error as Error).stack ?? String(error) }),
    );
  });
  // The bench process went away: so does the worker.
  process.on('disconnect', () => process.exit(0));
}

/** The bench's handle on one load worker process. */
class LoadWorker {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private constructor(readonly child: ChildProcess) {
    child.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const w = this.waiting.get(m.id);
      if (w === undefined) return;
      this.waiting.delete(m.id);
      if (m.error !== undefined) w.reject(new Error(`load worker: ${m.error}`));
      else w.resolve(m.result);
    });
    child.on('exit', (code, signal) => {
      for (const w of this.waiting.values()) w.reject(new Error(`load worker exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }
  static start(): LoadWorker {
    const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename], {
      env: { ...process.env, [ROLE_ENV]: 'load', NODE_OPTIONS: '' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new LoadWorker(child);
  }
  call<T>(command: WorkerCommand): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`load worker: ${command.cmd} took over ${WORKER_COMMAND_MS_MAX} ms`)), WORKER_COMMAND_MS_MAX);
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(t);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
      this.child.send({ id, command });
    });
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await exited;
  }
}

// ---------------------------------------------------------------------------
// Process figures

/** Resident set size of a process, bytes (Linux /proc; 0 elsewhere). */
function rssBytesOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

/** CPU time (user + system) a process has used so far, ms (Linux /proc; 0 elsewhere). */
function cpuMsOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** The bare ws echo server of the baseline (its own process). */
const ECHO_SERVER_JS = `
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 16384 });
wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data, { binary: false })));
wss.on('listening', () => console.log(JSON.stringify({ url: 'ws://127.0.0.1:' + wss.address().port })));
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));
`;

async function startEcho(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['-e', ECHO_SERVER_JS], { cwd: import.meta.dirname, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error('echo server did not start')), 10_000);
    child.stdout!.on('data', (d) => {
      out += String(d);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line === undefined) return;
      clearTimeout(t);
      resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`echo server exited ${code}`)));
  });
  return { child, url };
}

// ---------------------------------------------------------------------------
// The sub-benches

interface Context {
  readonly site: ClusterSite;
  readonly worker: LoadWorker;
  readonly out: Record<string, unknown>;
  readonly args: string[];
  /** Distinct prefix per run (client ids, request ids). */
  prefix(): string;
}

function argNumber(args: string[], name: string, fallback: number, min: number, max: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  return Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : fallback;
}

const write = (line: string) => process.stdout.write(`${line}\n`);

async function benchThroughput(ctx: Context): Promise<void> {
  const { site, worker, out, args } = ctx;
  const durationMs = argNumber(args, '--seconds', 4, 1, 60) * 1000;
  const clientsArg = args.indexOf('--clients');
  const levels = clientsArg >= 0 ? String(args[clientsArg + 1]).split(',').map(Number).filter((x) => x >= 1 && x <= 2000) : [10, 100, 1000];
  // --via all (default) | leader | followers: which nodes the clients connect to (to tell forwarding costs apart).
  const viaArg = args.indexOf('--via');
  const via = viaArg >= 0 ? String(args[viaArg + 1]) : 'all';
  const leaderAtStart = await site.leader();
  const urls = site.nodes.filter((n) => via === 'all' || (via === 'leader') === (n.id === leaderAtStart)).map((n) => n.clientUrl);
  out['via'] = via;
  const echo = await startEcho();
  try {
    write(`throughput: durable checkout+checkin through ${via === 'all' ? 'three nodes' : `the ${via} only`} (clients spread evenly), ${durationMs} ms per run after ${WARMUP_MS} ms warm-up; baseline: a bare ws echo server (${echo.url}) driven by the same worker`);
    for (const n of levels) {
      const pids = site.nodes.map((x) => x.child?.pid);
      const cpu0 = pids.map(cpuMsOf);
      const leader = await site.leader();
      const storage0 = await Promise.all(site.nodes.map((x) => healthOf(site, x.id)));
      const before = await healthOf(site, leader);
      const applied0 = before?.appliedIndex ?? 0;
      const t0 = performance.now();
      const f = await worker.call<RunFigures>({ cmd: 'throughput', urls, clients: n, durationMs, warmupMs: WARMUP_MS, hello: true, prefix: ctx.prefix() });
      const wallMs = performance.now() - t0;
      const after = await healthOf(site, leader);
      const storage1 = await Promise.all(site.nodes.map((x) => healthOf(site, x.id)));
      const perSec = (i: number, key: 'transactionCount' | 'syncCount') => Math.round((((storage1[i]?.[key] ?? 0) - (storage0[i]?.[key] ?? 0)) * 1000) / wallMs);
      const applied1 = after?.appliedIndex ?? 0;
      // A leader change during the run shows as a higher term (the steady bench counts them over 60 s).
      const termChanges = (after?.term ?? 0) - (before?.term ?? 0);
      const cpuMs = pids.map((p, i) => cpuMsOf(p) - cpu0[i]!);
      const cpu = cpuMs.map((ms) => Math.round((ms / wallMs) * 100));
      // Node CPU over the whole call (connect, hello, warm-up included) per request at the measured rate: an estimate.
      const cpuUsPerRequest = Math.round((cpuMs.reduce((a, b) => a + b, 0) * 1000) / Math.max(1, (f.requestsPerSec * wallMs) / 1000));
      const e = await worker.call<RunFigures>({ cmd: 'throughput', urls: [echo.url], clients: n, durationMs, warmupMs: WARMUP_MS, hello: false, prefix: ctx.prefix() });
      const entriesPerSec = Math.round(((applied1 - applied0) * 1000) / wallMs);
      // Batching on the leader: Readys (one transaction and at most one fsync each) per second, entries per Ready, requests per entry.
      const readys = (after?.readyCount ?? 0) - (before?.readyCount ?? 0);
      const readysPerSec = Math.round((readys * 1000) / wallMs);
      const entriesPerReady = round((applied1 - applied0) / Math.max(1, readys), 2);
      const requestsPerEntry = round(f.requestsPerSec / Math.max(1, entriesPerSec), 2);
      const ratio = round(f.requestsPerSec / Math.max(1, e.requestsPerSec));
      write(
        `  ${String(n).padStart(4)} clients: cluster ${f.requestsPerSec.toLocaleString('en-US').padStart(7)} requests/s, p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, errors ${f.errors}; ` +
          `log ${entriesPerSec.toLocaleString('en-US')} entries/s (leader ${leader}, term changes ${termChanges}); node CPU ${site.nodes.map((x, i) => `${x.id} ${cpu[i]}%`).join(', ')}, ${cpuUsPerRequest} µs/request in all`,
      );
      write(`               leader batching: ${readysPerSec.toLocaleString('en-US')} Readys/s, ${entriesPerReady} entries per Ready, ${requestsPerEntry} requests per entry`);
      write(`               storage per node: ${site.nodes.map((x, i) => `${x.id} ${perSec(i, 'transactionCount')} transactions/s, ${perSec(i, 'syncCount')} fsyncs/s`).join('; ')}`);
      write(`               echo    ${e.requestsPerSec.toLocaleString('en-US').padStart(7)} echoes/s,   p50 ${e.p50Ms} ms, p99 ${e.p99Ms} ms; ratio cluster/echo ${ratio}`);
      if (f.errorSamples.length > 0) write(`               first errors: ${f.errorSamples.join(' | ')}`);
      out[`requestsPerSec_${n}`] = f.requestsPerSec;
      out[`p50Ms_${n}`] = f.p50Ms;
      out[`p99Ms_${n}`] = f.p99Ms;
      out[`errors_${n}`] = f.errors;
      out[`logEntriesPerSec_${n}`] = entriesPerSec;
      out[`nodeCpuUsPerRequest_${n}`] = cpuUsPerRequest;
      out[`termChanges_${n}`] = termChanges;
      out[`leaderReadysPerSec_${n}`] = readysPerSec;
      out[`entriesPerReady_${n}`] = entriesPerReady;
      out[`requestsPerEntry_${n}`] = requestsPerEntry;
      out[`transactionsPerSec_${n}`] = site.nodes.map((_, i) => perSec(i, 'transactionCount'));
      out[`fsyncsPerSec_${n}`] = site.nodes.map((_, i) => perSec(i, 'syncCount'));
      out[`echoRequestsPerSec_${n}`] = e.requestsPerSec;
      out[`echoP50Ms_${n}`] = e.p50Ms;
      out[`echoP99Ms_${n}`] = e.p99Ms;
      out[`ratioToEcho_${n}`] = ratio;
      if (n === 100) out['opsPerSec'] = f.requestsPerSec;
    }
    if (out['opsPerSec'] !== undefined) write(`  opsPerSec at 100 clients: ${Number(out['opsPerSec']).toLocaleString('en-US')} (goal ≥ 20,000)`);
  } finally {
    echo.child.kill('SIGKILL');
  }
}

async function benchSteady(ctx: Context): Promise<void> {
  const { site, worker, out, args } = ctx;
  const durationMs = argNumber(args, '--steady-seconds', 60, 5, 600) * 1000;
  const urls = site.nodes.map((n) => n.clientUrl);
  const leader0 = await site.leader();
  const terms0 = await Promise.all(site.nodes.map((n) => healthOf(site, n.id)));
  write(`steady: ${durationMs / 1000} s of load at 100 clients through three nodes; leader and term of every node polled every 250 ms (leader ${leader0}, term ${terms0[0]?.term})`);
  let polling = true;
  const seen: string[] = [];
  let lastView = '';
  let polls = 0;
  const poller = (async () => {
    while (polling) {
      const views = await Promise.all(site.nodes.map((n) => healthOf(site, n.id)));
      polls++;
      for (const v of views) {
        if (v === null || v.leaderId === '') continue;
        const view = `${v.term}:${v.leaderId}`;
        if (!seen.includes(view)) seen.push(view);
      }
      const leaders = views.map((v) => (v === null ? '-' : `${v.role}@${v.term}`)).join(',');
      if (leaders !== lastView) lastView = leaders;
      await sleep(250);
    }
  })();
  const f = await worker.call<RunFigures>({ cmd: 'throughput', urls, clients: 100, durationMs, warmupMs: WARMUP_MS, hello: true, prefix: ctx.prefix() });
  polling = false;
  await poller;
  const terms1 = await Promise.all(site.nodes.map((n) => healthOf(site, n.id)));
  const termChanges = Math.max(...terms1.map((t) => t?.term ?? 0)) - Math.max(...terms0.map((t) => t?.term ?? 0));
  const leaderChanges = seen.length - 1;
  write(
    `  ${f.requestsPerSec.toLocaleString('en-US')} requests/s, p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, errors ${f.errors}; ` +
      `leader changes ${leaderChanges} (term changes ${termChanges}; leaders seen ${seen.join(' → ')}; ${polls} polls) (goal 0)`,
  );
  if (f.errorSamples.length > 0) write(`  first errors: ${f.errorSamples.join(' | ')}`);
  out['steadySeconds'] = durationMs / 1000;
  out['steadyRequestsPerSec'] = f.requestsPerSec;
  out['steadyP99Ms'] = f.p99Ms;
  out['steadyErrors'] = f.errors;
  out['leaderChanges'] = leaderChanges;
  out['termChanges'] = termChanges;
}

async function benchFailover(ctx: Context): Promise<void> {
  const { site, out, args } = ctx;
  const trials = argNumber(args, '--trials', 20, 1, 100);
  const urls = site.nodes.map((n) => n.clientUrl);
  /** `ms` between two probe checkouts of one client (three clients, staggered: one every ~10 ms). */
  const probeEveryMs = 30;
  const clients: FloeClient[] = [];
  write(`failover: ${trials} trials of SIGKILL the leader under light SDK load (3 clients, a checkout every ~10 ms) → first successful checkout sent after the kill; then restart it and wait until it caught up`);
  const failoverMs: number[] = [];
  const electionMs: number[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const servers = [...urls.slice(i), ...urls.slice(0, i)];
      clients.push(await connect({ servers, user: `f${i}`, host: `fh${i}`, app: 'bench-failover', pendingRequestsMax: 200, requestSendsMax: 50, reconnectAttemptsMax: 100 }));
    }
    /** SDK connection events (performance.now(), what), for the slow trials' diagnosis. */
    const sdkEvents: [number, string][] = [];
    clients.forEach((c, i) => {
      c.on('connected', (e) => sdkEvents.push([performance.now(), `c${i} connected to ${e.server.replace(/^ws:\/\/127\.0\.0\.1:/, ':')} (resumed ${e.resumed})`]));
      c.on('disconnected', (e) => sdkEvents.push([performance.now(), `c${i} disconnected from ${e.server.replace(/^ws:\/\/127\.0\.0\.1:/, ':')} (${e.code} ${e.reason})`]));
    });
    let probing = true;
    /** performance.now() of successful checkouts: [sentAt, answeredAt]. */
    const successes: [number, number][] = [];
    let failures = 0;
    const failureSamples: string[] = [];
    const probes = clients.map(async (c, i) => {
      await sleep((probeEveryMs / 3) * i);
      const inFlight = new Set<Promise<void>>();
      while (probing) {
        if (inFlight.size < 150) {
          const sentAt = performance.now();
          const p: Promise<void> = c.checkout('demo').then(
            async (lease) => {
              successes.push([sentAt, performance.now()]);
              await c.checkin(lease).catch(() => {});
            },
            (error: unknown) => {
              failures++;
              if (failureSamples.length < 5) failureSamples.push((error as Error).message);
            },
          );
          inFlight.add(p);
          void p.finally(() => inFlight.delete(p));
        }
        await sleep(probeEveryMs);
      }
      await Promise.all(inFlight);
    });
    try {
      for (let t = 0; t < trials; t++) {
        const leader = await site.leader();
        await until('probe checkouts succeeding', 10_000, () => {
          const last = successes.at(-1);
          return last !== undefined && performance.now() - last[1] < 200 ? true : undefined;
        });
        const oldTerm = (await healthOf(site, leader))?.term ?? 0;
        const survivors = site.nodes.filter((n) => n.id !== leader).map((n) => n.id);
        const logOffsets = new Map(survivors.map((id) => [id, site.node(id).stderr.length]));
        const killedAtWall = new Date();
        const killedAt = performance.now();
        await site.kill(leader);
        // When a survivor first calls itself leader (its /health, polled every 10 ms): the election's share of the failover.
        const elected = (async () => {
          const deadline = killedAt + 10_000;
          while (performance.now() < deadline) {
            const views = await Promise.all(survivors.map((id) => healthOf(site, id)));
            if (views.some((v) => v !== null && v.role === 'leader' && v.term > oldTerm)) return performance.now() - killedAt;
            await sleep(10);
          }
          return NaN;
        })();
        const firstMs = await until('a checkout sent after the kill to succeed', 10_000, () => {
          let best = Infinity;
          for (const [sentAt, answeredAt] of successes) if (sentAt >= killedAt) best = Math.min(best, answeredAt - killedAt);
          return Number.isFinite(best) ? best : undefined;
        });
        failoverMs.push(firstMs);
        const electedMs = await elected;
        electionMs.push(electedMs);
        const newLeader = await site.leader();
        if (firstMs > 1000) {
          // A slow trial: what the survivors logged and what the SDK clients did until the first checkout.
          write(`    slow trial (killed at ${killedAtWall.toISOString()}):`);
          for (const id of survivors) {
            const lines = site.node(id).stderr.slice(logOffsets.get(id)).split('\n').filter((l) => l !== '').slice(0, 6);
            for (const l of lines) write(`      ${id}: ${l.slice(0, 200)}`);
          }
          for (const [at, what] of sdkEvents) if (at >= killedAt && at <= killedAt + firstMs) write(`      +${Math.round(at - killedAt)} ms ${what}`);
        }
        sdkEvents.length = 0;
        const restartAt = performance.now();
        await site.start(leader);
        const { nodeApplied } = await caughtUp(site, leader, newLeader, 20_000);
        write(
          `  trial ${String(t + 1).padStart(2)}: ${leader} SIGKILLed → leader elected after ${Math.round(electedMs)} ms, first checkout ${Math.round(firstMs)} ms (new leader ${newLeader}); ` +
            `restarted and caught up to ${nodeApplied} in ${Math.round(performance.now() - restartAt)} ms`,
        );
      }
    } finally {
      probing = false;
      await Promise.race([Promise.all(probes), sleep(15_000)]);
    }
    const med = median(failoverMs);
    const max = Math.max(...failoverMs);
    write(
      `  failoverMs median ${Math.round(med)}, max ${Math.round(max)}, min ${Math.round(Math.min(...failoverMs))} over ${failoverMs.length} trials (goal: median ≤ 500, max ≤ 1,500); ` +
        `election alone: median ${Math.round(median(electionMs))} ms, max ${Math.round(Math.max(...electionMs))} ms; probe checkouts ${successes.length} ok, ${failures} failed${failureSamples.length > 0 ? ` (${[...new Set(failureSamples)].join('; ')})` : ''}`,
    );
    out['failoverMs'] = Math.round(med);
    out['failoverMsMedian'] = Math.round(med);
    out['failoverMsMax'] = Math.round(max);
    out['failoverMsAll'] = failoverMs.map((x) => Math.round(x));
    out['electionMsMedian'] = Math.round(median(electionMs));
    out['electionMsAll'] = electionMs.map((x) => Math.round(x));
    out['failoverTrials'] = failoverMs.length;
    out['failoverProbeFailures'] = failures;
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
  }
}

async function benchSessions(ctx: Context): Promise<void> {
  const { site, worker, out, args } = ctx;
  const count = argNumber(args, '--sessions', 10_000, 1, 18_000);
  const probeMs = argNumber(args, '--seconds', 4, 1, 60) * 1000;
  const leader = await site.leader();
  // The sessions sit on a follower (the common case: two of three nodes are followers); the probe uses the same node.
  const node = site.nodes.find((n) => n.id !== leader)!;
  const holder = LoadWorker.start();
  try {
    write(`sessions: ${count.toLocaleString('en-US')} heartbeating sessions on ${node.id} (a follower; leader ${leader}) from a second load worker; probe: 10 clients of checkout+checkin on ${node.id}, best of two ${probeMs} ms runs`);
    // Best (lowest p99) of two probe runs, idle and heartbeating alike: a busy shared machine makes single runs noisy.
    const probeOnce = () => worker.call<RunFigures>({ cmd: 'throughput', urls: [node.clientUrl], clients: 10, durationMs: probeMs, warmupMs: WARMUP_MS, hello: true, prefix: ctx.prefix() });
    const probe = async () => {
      const a = await probeOnce();
      const b = await probeOnce();
      return a.p99Ms <= b.p99Ms ? a : b;
    };
    const idle = await probe();
    write(`  idle:        checkout+checkin p50 ${idle.p50Ms} ms, p99 ${idle.p99Ms} ms (${idle.requestsPerSec.toLocaleString('en-US')} requests/s)`);
    await sleep(1000);
    const rss0 = site.nodes.map((n) => rssBytesOf(n.child?.pid));
    const opened = await holder.call<{ openMs: number; heartbeatMs: number }>({ cmd: 'sessions-open', url: node.clientUrl, count, prefix: ctx.prefix() });
    write(`  opened ${count.toLocaleString('en-US')} sessions in ${opened.openMs} ms; each heartbeats every ${opened.heartbeatMs} ms`);
    // One full heartbeat round, so every session has beaten at least once.
    await sleep(opened.heartbeatMs + 500);
    const rss1 = site.nodes.map((n) => rssBytesOf(n.child?.pid));
    const busy = await probe();
    const stats = await holder.call<{ heartbeats: number; heartbeatErrors: number; heartbeatErrorSamples: string[]; open: number }>({ cmd: 'sessions-stats' });
    const perSession = site.nodes.map((_, i) => Math.round((rss1[i]! - rss0[i]!) / count));
    const idx = site.nodes.indexOf(node);
    write(`  heartbeating: checkout+checkin p50 ${busy.p50Ms} ms, p99 ${busy.p99Ms} ms (${busy.requestsPerSec.toLocaleString('en-US')} requests/s); p99 ratio to idle ${round(busy.p99Ms / Math.max(0.001, idle.p99Ms), 2)} (goal ≤ 2)`);
    write(
      `  server RSS per session: ${site.nodes.map((n, i) => `${n.id} ${(perSession[i]! / 1024).toFixed(2)} KiB (${Math.round(rss0[i]! / 2 ** 20)} → ${Math.round(rss1[i]! / 2 ** 20)} MiB)`).join(', ')}; ` +
        `the socket node ${node.id}: ${(perSession[idx]! / 1024).toFixed(2)} KiB (goal ≤ 10 KiB); heartbeats ${stats.heartbeats} ok, ${stats.heartbeatErrors} failed, ${stats.open} sockets open`,
    );
    if (stats.heartbeatErrorSamples.length > 0) write(`  heartbeat errors: ${stats.heartbeatErrorSamples.join(' | ')}`);
    out['sessions'] = count;
    out['sessionsOpenMs'] = opened.openMs;
    out['rssBytesPerSession'] = perSession[idx];
    out['rssKiBPerSession'] = round(perSession[idx]! / 1024, 2);
    out['rssBytesPerSessionOtherNodes'] = perSession.filter((_, i) => i !== idx);
    out['checkoutP50MsIdle'] = idle.p50Ms;
    out['checkoutP99MsIdle'] = idle.p99Ms;
    out['checkoutP50MsHeartbeating'] = busy.p50Ms;
    out['checkoutP99MsHeartbeating'] = busy.p99Ms;
    out['checkoutP99RatioHeartbeatingToIdle'] = round(busy.p99Ms / Math.max(0.001, idle.p99Ms), 2);
    out['heartbeats'] = stats.heartbeats;
    out['heartbeatErrors'] = stats.heartbeatErrors;
    await holder.call({ cmd: 'sessions-close' });
  } finally {
    await holder.stop();
  }
}

const SUB_BENCHES = {
  throughput: benchThroughput,
  steady: benchSteady,
  failover: benchFailover,
  sessions: benchSessions,
} as const satisfies Record<string, (ctx: Context) => Promise<void>>;
type SubBench = keyof typeof SUB_BENCHES;

/** Runs the cluster benchmark; answers its figures. */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const onlyArg = args.indexOf('--only');
  const all = Object.keys(SUB_BENCHES) as SubBench[];
  const only = onlyArg >= 0 ? String(args[onlyArg + 1]).split(',').filter((x): x is SubBench => all.includes(x as SubBench)) : all;
  if (only.length === 0) throw new Error(`--only takes a list of ${all.join(', ')}`);
  const out: Record<string, unknown> = { only };
  const startedAt = performance.now();
  const site = await ClusterSite.create({
    seats: SEATS,
    extraToml: ['[limits]', 'requestsPerSecondPerConnection = 1000000', 'requestBurstPerConnection = 1000000'],
  });
  const unguard = guardSite(site, { signals: true });
  const worker = LoadWorker.start();
  let runs = 0;
  // FLOE_BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"): Node options of the three nodes (first start only).
  const nodeArgs = (process.env['FLOE_BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  try {
    await Promise.all(site.nodes.map((n) => startNode(site, n.id, nodeArgs)));
    const leader = await site.leader();
    await until('the site license in force', 15_000, async () => {
      const r = await site.admin(leader, '/pools');
      return r?.status === 200 && (r.body as { feature: string }[]).some((p) => p.feature === 'demo') ? true : undefined;
    });
    write(`cluster: three floe serve processes (${site.nodes.map((n) => n.clientUrl).join(', ')}), leader ${leader}; ${SEATS} seats of "demo"; load from separate worker processes; load average ${loadavg()[0]!.toFixed(2)}`);
    const ctx: Context = { site, worker, out, args, prefix: () => `b${process.pid}r${++runs}` };
    for (const name of only) await SUB_BENCHES[name](ctx);
    out['loadAverage1m'] = round(loadavg()[0]!, 2);
    out['benchSeconds'] = Math.round((performance.now() - startedAt) / 1000);
    return out;
  } finally {
    if (nodeArgs.length > 0) {
      // Profiles are written on a clean exit: SIGTERM first, bounded.
      await Promise.all(
        site.nodes.filter(isLive).map(async (n) => {
          const exited = new Promise((r) => n.child!.once('exit', r));
          n.child!.kill('SIGTERM');
          await Promise.race([exited, sleep(10_000)]);
        }),
      );
    }
    await worker.stop();
    await site.stop();
    unguard();
    if (liveIds(site).length > 0) throw new Error(`nodes still running: ${liveIds(site).join(', ')}`);
  }
}

if (process.env[ROLE_ENV] === 'load') runLoadWorker();
