// The load worker: a child process of the cluster bench (started by
// LoadWorkerHandle with FLOE_CLUSTER_BENCH_ROLE=load) that opens raw-protocol
// clients and drives them on command over IPC, so no load generator shares
// an event loop with a server or with another generator.
import { Agent, request as httpRequest } from 'node:http';
import WebSocket from 'ws';
import { cpuTimesMsOf, percentile, round, sleep } from '../figures.ts';
import { flood, type FloodOptions } from './flooder.ts';

/** Environment variable that makes this file a load worker. */
export const ROLE_ENV = 'FLOE_CLUSTER_BENCH_ROLE';
/** Hellos in flight at once while opening many sessions. */
const HELLO_CONCURRENCY = 200;

/** What one throughput command measured. */
export interface RunFigures {
  requestsPerSec: number;
  p50Ms: number;
  /** `ms`: the tail's shape (a p99 set by a few stalls shows as a p90 near the p50). */
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  requests: number;
  errors: number;
  /** First error replies (diagnostics). */
  errorSamples: string[];
  /** `ms`: length of the measured window. */
  windowMs: number;
  /** CPU time each of the command's `cpuPids` used during the measured window (not the connect, hello or warm-up), ms. */
  windowCpuMs: { userMs: number; systemMs: number }[];
  /** Sessions that moved to the leader after their hello (followLeader). */
  movedToLeader?: number;
}

type Frame = Record<string, unknown>;

/** A lean protocol client: numbered requests, replies by id, pushes ignored. */
class RawClient {
  private nextId = 1;
  private readonly waiting = new Map<number, (f: Frame) => void>();
  closed = false;
  /** `ms` since the epoch (performance.timeOrigin + now) the socket closed; NaN while open. */
  closedAtMs = Number.NaN;
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
      this.closedAtMs = performance.timeOrigin + performance.now();
      for (const w of this.waiting.values()) w({ ok: false, error: { code: 'SOCKET_CLOSED' } });
      this.waiting.clear();
    });
    ws.on('error', () => {});
  }
  /**
   * `localAddress`: the source address (any of 127/8 on loopback), so a bench can play several hosts.
   * `ca`: PEM of the CA a wss:// server's certificate must chain to (the site CA), as the SDK's `ca`.
   */
  static async connect(url: string, localAddress?: string, ca?: string): Promise<RawClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...(localAddress !== undefined ? { localAddress } : {}), ...(ca !== undefined ? { ca } : {}) });
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
      this.ws.send(JSON.stringify({ id, ...frame }));
    });
  }
  terminate(): void {
    this.ws.terminate();
  }
}

/**
 * Opens `count` clients round-robin over `urls` (client i from
 * `localAddresses[i % length]` when given: hosts of their own, as far as the
 * server can tell), saying hello on each when `hello` (ids prefixed `prefix`).
 * `followLeader`: as the SDK does by default (preferLeader), a client whose
 * hello names another server as `leader` resumes its session there and
 * leaves the first server; the answer counts those moves.
 */
async function openClients(
  urls: string[],
  count: number,
  prefix: string,
  hello: boolean,
  localAddresses: readonly string[] = [],
  ca?: string,
  followLeader = false,
  /** Called once a client's session is open (after its move, when it moved), with hello's heartbeatMs. */
  onSession?: (client: RawClient, heartbeatMs: number) => void,
): Promise<{ clients: RawClient[]; heartbeatMs: number; moved: number }> {
  const clients: RawClient[] = new Array(count);
  let heartbeatMs = 0;
  let moved = 0;
  let next = 0;
  const lanes = Array.from({ length: Math.min(HELLO_CONCURRENCY, count) }, async () => {
    while (next < count) {
      const i = next++;
      const url = urls[i % urls.length]!;
      const localAddress = localAddresses[i % Math.max(1, localAddresses.length)];
      const c = await RawClient.connect(url, localAddress, ca);
      clients[i] = c;
      if (!hello) continue;
      const helloFrame = { type: 'hello', protocol: 1, clientId: `${prefix}-${i}`, user: `u${i}`, host: `h${i}`, app: 'bench' };
      for (let attempt = 0; ; attempt++) {
        const r = await c.request(helloFrame);
        if (r['ok'] === true) {
          heartbeatMs = Number(r['heartbeatMs']);
          const leader = r['leader'];
          if (followLeader && typeof leader === 'string' && leader !== url) {
            const there = await RawClient.connect(leader, localAddress, ca);
            const resumed = await there.request({ ...helloFrame, sessionId: r['sessionId'], sessionSecret: r['sessionSecret'] });
            if (resumed['ok'] === true && resumed['resumed'] === true) {
              clients[i] = there;
              c.terminate();
              moved++;
            } else there.terminate();
          }
          onSession?.(clients[i], heartbeatMs);
          break;
        }
        if (attempt >= 20) throw new Error(`hello refused: ${JSON.stringify(r)}`);
        await sleep(50);
      }
    }
  });
  await Promise.all(lanes);
  return { clients, heartbeatMs, moved };
}

/** What closed loops share with their measured window: when to count, when to stop, and the counts. */
interface LoopWindow {
  measuring: boolean;
  stopped: boolean;
  readonly latencies: number[];
  requests: number;
  errors: number;
  readonly errorSamples: string[];
}

/** Counts an error, keeping the first few (diagnostics). */
function noteError(w: LoopWindow, sample: string): void {
  w.errors++;
  if (w.errorSamples.length < 5) w.errorSamples.push(sample.slice(0, 300));
}

/**
 * Starts the loops, lets them warm up, measures `durationMs`, stops them and
 * sums up; the CPU time of the processes `cpuPids` is read at the edges of
 * the measured window.
 */
async function measureLoops(warmupMs: number, durationMs: number, start: (w: LoopWindow) => Promise<void>[], cpuPids: readonly number[] = []): Promise<RunFigures> {
  const w: LoopWindow = { measuring: false, stopped: false, latencies: [], requests: 0, errors: 0, errorSamples: [] };
  const loops = start(w);
  await sleep(warmupMs);
  w.measuring = true;
  const cpu0 = cpuPids.map(cpuTimesMsOf);
  const t0 = performance.now();
  await sleep(durationMs);
  w.measuring = false;
  const elapsedMs = performance.now() - t0;
  const windowCpuMs = cpuPids.map((pid, i) => {
    const t = cpuTimesMsOf(pid);
    return { userMs: t.userMs - cpu0[i]!.userMs, systemMs: t.systemMs - cpu0[i]!.systemMs };
  });
  w.stopped = true;
  await Promise.all(loops);
  const sorted = Float64Array.from(w.latencies).sort();
  return {
    requestsPerSec: Math.round((w.requests * 1000) / elapsedMs),
    p50Ms: round(percentile(sorted, 50)),
    p90Ms: round(percentile(sorted, 90)),
    p99Ms: round(percentile(sorted, 99)),
    p999Ms: round(percentile(sorted, 99.9)),
    maxMs: round(sorted.length === 0 ? 0 : sorted[sorted.length - 1]!),
    requests: w.requests,
    errors: w.errors,
    errorSamples: w.errorSamples,
    windowMs: round(elapsedMs),
    windowCpuMs,
  };
}

/**
 * Closed loops (one request in flight per client) of checkout+checkin (or
 * two echoes), measured after a warm-up. `paceMs`: each client starts a
 * checkout at most this often (0: as fast as answered), as a well-behaved
 * client stays within its rate limit.
 */
async function driveCheckouts(clients: RawClient[], prefix: string, durationMs: number, warmupMs: number, heartbeatMs: number, paceMs = 0, cpuPids: readonly number[] = []): Promise<RunFigures> {
  return measureLoops(
    warmupMs,
    durationMs,
    (w) =>
      clients.map(async (c, i) => {
        const note = (f: Frame) => noteError(w, JSON.stringify(f));
        // Sessions end leaseTtlMs after their last renewal: a run longer than that (steady: 60 s) heartbeats
        // like a real client, every heartbeatMs (outside the measured requests). 0: no session (echo).
        let nextBeatMs = performance.now() + heartbeatMs * (0.5 + Math.random() / 2);
        /** `ms` (performance.now) the latest checkout started. */
        let iterationAt = 0;
        for (let seq = 0; !w.stopped; seq++) {
          if (heartbeatMs > 0 && performance.now() >= nextBeatMs) {
            nextBeatMs = performance.now() + heartbeatMs;
            const hb = await c.request({ type: 'heartbeat' });
            if (w.measuring && hb['ok'] !== true) note(hb);
          }
          if (paceMs > 0) await sleep(Math.max(0, iterationAt + paceMs - performance.now()));
          const t0 = performance.now();
          iterationAt = t0;
          const co = await c.request({ type: 'checkout', requestId: `${prefix}-co-${i}-${seq}`, feature: 'demo' });
          const t1 = performance.now();
          let t2 = t1;
          let n = 1;
          if (co['ok'] === true) {
            const ci = await c.request({ type: 'checkin', requestId: `${prefix}-ci-${i}-${seq}`, leaseId: co['leaseId'] ?? 'L0' });
            t2 = performance.now();
            n = 2;
            if (w.measuring && ci['ok'] !== true) note(ci);
          } else if (w.measuring) note(co);
          if (c.closed) await sleep(100);
          if (!w.measuring) continue;
          w.requests += n;
          w.latencies.push(t1 - t0);
          if (n === 2) w.latencies.push(t2 - t1);
        }
      }),
    cpuPids,
  );
}

/** One keep-alive HTTP connection pool per etcd member, a connection per client. */
function etcdAgents(urls: readonly string[], clients: number): Map<string, Agent> {
  return new Map(urls.map((u) => [u, new Agent({ keepAlive: true, maxSockets: clients })]));
}

/** One durable put through etcd's HTTP gateway (POST /v3/kv/put); resolves with the HTTP status (0: no answer). */
function etcdPut(url: string, agent: Agent, key: string, value: string): Promise<number> {
  const body = JSON.stringify({ key: Buffer.from(key).toString('base64'), value: Buffer.from(value).toString('base64') });
  return new Promise((resolve) => {
    const req = httpRequest(`${url}/v3/kv/put`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** Closed loops of durable etcd puts (one in flight per client, clients spread over the members), measured after a warm-up. */
async function driveEtcdPuts(urls: readonly string[], clients: number, durationMs: number, warmupMs: number): Promise<RunFigures> {
  const agents = etcdAgents(urls, clients);
  try {
    return await measureLoops(warmupMs, durationMs, (w) =>
      Array.from({ length: clients }, async (_, i) => {
        const url = urls[i % urls.length]!;
        for (let seq = 0; !w.stopped; seq++) {
          const t0 = performance.now();
          const status = await etcdPut(url, agents.get(url)!, `floe-bench/${i}`, String(seq));
          if (status === 0) await sleep(100);
          if (!w.measuring) continue;
          if (status !== 200) {
            noteError(w, `HTTP ${status}`);
            continue;
          }
          w.requests++;
          w.latencies.push(performance.now() - t0);
        }
      }),
    );
  } finally {
    for (const a of agents.values()) a.destroy();
  }
}

/** Commands of the load worker. */
export type WorkerCommand =
  | {
      cmd: 'throughput';
      urls: string[];
      clients: number;
      durationMs: number;
      warmupMs: number;
      hello: boolean;
      prefix: string;
      localAddresses?: string[];
      paceMs?: number;
      ca?: string;
      /** Move each session to the leader its hello names, as the SDK does by default (preferLeader). */
      followLeader?: boolean;
      /** Processes whose CPU time the measured window reports (RunFigures.windowCpuMs): the servers under load. */
      cpuPids?: number[];
    }
  | { cmd: 'etcd-puts'; urls: string[]; clients: number; durationMs: number; warmupMs: number }
  | ({ cmd: 'flood' } & FloodOptions)
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
        const { clients, heartbeatMs, moved } = await openClients(c.urls, c.clients, c.prefix, c.hello, c.localAddresses, c.ca, c.followLeader);
        try {
          return { ...(await driveCheckouts(clients, c.prefix, c.durationMs, c.warmupMs, heartbeatMs, c.paceMs, c.cpuPids)), movedToLeader: moved };
        } finally {
          for (const x of clients) x.terminate();
        }
      }
      case 'sessions-open': {
        const t0 = performance.now();
        // Each session heartbeats every heartbeatMs (as told in hello) from the moment it is open, not
        // once all are: opening 10,000 on a loaded machine can outlast the first sessions' ttl
        // (7,017 SESSION_NOT_FOUND heartbeats when opening took 39 s at load 25).
        const beatFrom = (s: RawClient, every: number) => {
          const beat = () => {
            void s.request({ type: 'heartbeat' }).then((r) => {
              if (r['ok'] === true) heartbeats++;
              else {
                heartbeatErrors++;
                if (heartbeatErrorSamples.length < 5) heartbeatErrorSamples.push(JSON.stringify(r).slice(0, 200));
              }
            });
          };
          // The first beat at a random phase of one interval: beats spread evenly however fast the opening was.
          timers.push(setTimeout(() => {
            beat();
            timers.push(setInterval(beat, every));
          }, Math.random() * every));
        };
        const opened = await openClients([c.url], c.count, c.prefix, true, [], undefined, false, beatFrom);
        sessions = opened.clients;
        const openMs = performance.now() - t0;
        const every = opened.heartbeatMs;
        return { openMs: Math.round(openMs), heartbeatMs: every };
      }
      case 'etcd-puts':
        return driveEtcdPuts(c.urls, c.clients, c.durationMs, c.warmupMs);
      case 'flood':
        return flood(c);
      case 'sessions-stats': {
        // When the sessions' sockets closed (ms since the epoch): first, median, last; a kill's figures.
        const closedAt = Float64Array.from(sessions.map((s) => s.closedAtMs).filter((t) => !Number.isNaN(t))).sort();
        const closedAtMs = closedAt.length === 0 ? [] : [closedAt[0]!, percentile(closedAt, 50), closedAt[closedAt.length - 1]!];
        return { heartbeats, heartbeatErrors, heartbeatErrorSamples, open: sessions.filter((s) => !s.closed).length, closedAtMs };
      }
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

if (process.env[ROLE_ENV] === 'load') runLoadWorker();
