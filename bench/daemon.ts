// `npm run bench -- daemon [--seconds S]`: durable checkout+checkin requests
// per second and their p50/p99 latency through one real `floe serve` node
// (a separate process: WAL + synchronous=FULL, group commit), at 1, 10 and
// 100 concurrent clients; then a bare ws echo server (also its own process)
// driven by the same clients, as the baseline. Last line (printed by
// bench/main.ts): JSON with every figure and `ratioToEcho` at 100 clients.
// Options: --seconds S per run (default 3), --clients 1,10,100 (levels),
// --rounds N (default 2): per level, daemon and echo runs alternate N times and
// the best of each is kept, so both see the same machine (a shared, busy box).
// Environment: FLOE_BENCH_SYNC_MODE=full|async (raft.syncMode of the node),
// FLOE_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" (profile the node).
// It also prints the disk's fdatasync latency and the load average: every
// durable batch waits for one fdatasync, so a busy disk or CPU shows here.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import nacl from 'tweetnacl';
import WebSocket from 'ws';
import { hashToken } from '../admin/index.ts';
import { loadNodeIdentity } from '../daemon/identity/index.ts';
import { formatVendorPublicKey, signLicenseKey, vendorKeyIdOf } from '../protocol/index.ts';
import { cpuMsOf, percentile, round } from './figures.ts';

const ROOT = join(import.meta.dirname, '..');
const LEVELS_DEFAULT = [1, 10, 100];
/** `ms` of warm-up before each measured run. */
const WARMUP_MS = 500;

interface Figures {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
}

/** A closed-loop client: one request in flight at a time. */
class BenchClient {
  private nextId = 1;
  private waiting: ((frame: Record<string, unknown>) => void) | undefined;
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as Record<string, unknown>;
      if (typeof f['id'] !== 'number') return; // pushes
      const w = this.waiting;
      this.waiting = undefined;
      w?.(f);
    });
  }
  static async connect(url: string): Promise<BenchClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new BenchClient(ws);
  }
  request(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.ws.send(JSON.stringify({ ...frame, id: this.nextId++ }));
    });
  }
  close(): void {
    this.ws.terminate();
  }
}

/** Server CPU per measured request, µs (the warm-up's requests are counted in: an estimate). */
function cpuPerRequestUs(cpuMs: number, f: Figures): number {
  const requests = f.requests * (1 + WARMUP_MS / Math.max(1, f.requests > 0 ? (f.requests / f.requestsPerSec) * 1000 : 1));
  return requests > 0 ? Math.round((cpuMs * 1000) / requests) : 0;
}

/** Runs `concurrency` closed loops of `step` for `durationMs` after a warm-up; latencies per request. */
async function drive(
  clients: BenchClient[],
  durationMs: number,
  step: (client: BenchClient, index: number, seq: number) => Promise<number>,
): Promise<Figures> {
  let measuring = false;
  let stop = false;
  const latencies: number[] = [];
  let requests = 0;
  let errors = 0;
  const loops = clients.map(async (c, i) => {
    let seq = 0;
    while (!stop) {
      const t0 = performance.now();
      const failed = await step(c, i, seq++);
      const t1 = performance.now();
      if (!measuring) continue;
      // step() does one or two requests; latency is per request.
      const n = failed < 0 ? 1 : 2;
      requests += n;
      if (failed > 0) errors += failed;
      for (let k = 0; k < n; k++) latencies.push((t1 - t0) / n);
    }
  });
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  measuring = true;
  const start = performance.now();
  await new Promise((r) => setTimeout(r, durationMs));
  measuring = false;
  const elapsed = performance.now() - start;
  stop = true;
  await Promise.all(loops);
  const sorted = Float64Array.from(latencies).sort();
  return { requestsPerSec: Math.round((requests * 1000) / elapsed), p50Ms: round(percentile(sorted, 50)), p99Ms: round(percentile(sorted, 99)), requests, errors };
}

async function readyLine(child: ChildProcess, what: string): Promise<Record<string, string>> {
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += String(d)));
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not start: ${stderr}`)), 30_000);
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return;
      clearTimeout(t);
      resolve(JSON.parse(line) as Record<string, string>);
    });
    child.once('exit', (code) => reject(new Error(`${what} exited ${code}: ${stderr}`)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

/** The baseline: a ws server that sends every frame straight back. */
const ECHO_SERVER_JS = `
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 16384 });
wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data, { binary: false })));
wss.on('listening', () => console.log(JSON.stringify({ url: 'ws://127.0.0.1:' + wss.address().port })));
process.on('SIGTERM', () => process.exit(0));
`;

/** fdatasync latency of this disk: 100 appends of 4 KiB, each synced. */
function probeFdatasync(dir: string): { p50Ms: number; p99Ms: number } {
  const fd = openSync(join(dir, 'fsync-probe'), 'w');
  const block = Buffer.alloc(4096, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < 100; i++) {
      const t0 = performance.now();
      writeSync(fd, block);
      fdatasyncSync(fd);
      times.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
  }
  const sorted = Float64Array.from(times).sort();
  return { p50Ms: round(percentile(sorted, 50)), p99Ms: round(percentile(sorted, 99)) };
}

/** Runs the daemon benchmark; answers its figures. */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const secondsArg = args.indexOf('--seconds');
  const durationMs = secondsArg >= 0 ? Math.max(1, Number(args[secondsArg + 1])) * 1000 : 3000;
  // --clients 1,10,100 (default): the concurrency levels to run.
  const clientsArg = args.indexOf('--clients');
  const roundsArg = args.indexOf('--rounds');
  const rounds = roundsArg >= 0 ? Math.min(10, Math.max(1, Number(args[roundsArg + 1]) || 1)) : 2;
  const LEVELS = clientsArg >= 0 ? String(args[clientsArg + 1]).split(',').map(Number).filter((x) => x >= 1 && x <= 1000) : LEVELS_DEFAULT;
  const dir = mkdtempSync(join(tmpdir(), 'floe-bench-daemon-'));
  const children: ChildProcess[] = [];
  const out: Record<string, unknown> = { durationMsPerRun: durationMs };
  try {
    // A node with a 1,000-seat license of "bench".
    const vendor = nacl.sign.keyPair();
    const lockCode = loadNodeIdentity(join(dir, 'n1')).lockCode;
    const key = signLicenseKey(
      {
        v: 1,
        licenseId: 'BENCH',
        authCode: 'BENCH',
        vendorKeyId: vendorKeyIdOf(vendor.publicKey),
        product: 'bench',
        version: '1',
        model: 'concurrent',
        seats: 1000,
        components: [],
        issuedAt: 0,
        notBefore: 0,
        lockCodes: [lockCode],
        lingerSeconds: 0,
        hostsPerUserMax: 1,
      },
      vendor.secretKey,
    );
    writeFileSync(join(dir, 'bench.license'), `${key}\n`);
    writeFileSync(
      join(dir, 'n1.toml'),
      [
        'dataDir = "n1"',
        'clientListen = "127.0.0.1:0"',
        'adminListen = "127.0.0.1:0"',
        `vendorPublicKeys = ["${formatVendorPublicKey(vendor.publicKey)}"]`,
        'licenseFiles = ["bench.license"]',
        `adminTokenSha256 = ["${hashToken('bench')}"]`,
        `[raft]`,
        `syncMode = "${process.env['FLOE_BENCH_SYNC_MODE'] ?? 'async'}"`,
        '[limits]',
        'requestsPerSecondPerConnection = 1000000',
        'requestBurstPerConnection = 1000000',
        // Every bench client comes from 127.0.0.1: the per-address budget would be the bench's limit.
        'requestsPerSecondPerAddress = 10000000',
        'requestBurstPerAddress = 10000000',
        'connectionsPerAddressMax = 19000',
        '',
      ].join('\n'),
    );
    // FLOE_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the node.
    const nodeArgs = (process.env['FLOE_BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
    const daemon = spawn(process.execPath, [...nodeArgs, join(ROOT, 'bin', 'floe.js'), 'serve', '--config', join(dir, 'n1.toml')], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(daemon);
    const { clientUrl } = await readyLine(daemon, 'floe serve');
    process.stdout.write(`daemon: one node (${clientUrl}), WAL, group commit, fdatasync before every reply, ${durationMs} ms per run\n`);

    const echo = spawn(process.execPath, ['-e', ECHO_SERVER_JS], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(echo);
    const { url: echoUrl } = await readyLine(echo, 'echo server');
    process.stdout.write(
      `echo baseline: a bare ws echo server (${echoUrl}), same clients; each level alternates daemon and echo runs, ${rounds} round(s), best kept\n`,
    );

    let session = 0;
    const runDaemon = async (n: number): Promise<Figures & { cpuUs: number }> => {
      session++;
      const clients = await Promise.all(Array.from({ length: n }, () => BenchClient.connect(clientUrl!)));
      for (let i = 0; i < n; i++) {
        const hello = await clients[i]!.request({ type: 'hello', protocol: 1, clientId: `bench-${session}-${i}`, user: `u${i}`, host: 'bench', app: 'bench' });
        if (hello['ok'] !== true) throw new Error(`hello failed: ${JSON.stringify(hello)}`);
      }
      // Wait for the license file to be installed (the leader does it at start).
      for (let tries = 0; ; tries++) {
        const r = await clients[0]!.request({ type: 'checkout', requestId: `probe-${session}-${tries}`, feature: 'bench' });
        if (r['ok'] === true) {
          await clients[0]!.request({ type: 'checkin', requestId: `probe-in-${session}-${tries}`, leaseId: r['leaseId'] });
          break;
        }
        if (tries > 100) throw new Error(`bench license not installed: ${JSON.stringify(r)}`);
        await new Promise((r2) => setTimeout(r2, 50));
      }
      const cpu0 = cpuMsOf(daemon.pid!);
      const f = await drive(clients, durationMs, async (c, i, seq) => {
        const co = await c.request({ type: 'checkout', requestId: `co-${session}-${i}-${seq}`, feature: 'bench' });
        if (co['ok'] !== true) return 1;
        const ci = await c.request({ type: 'checkin', requestId: `ci-${session}-${i}-${seq}`, leaseId: co['leaseId'] });
        return ci['ok'] === true ? 0 : 1;
      });
      const cpuUs = cpuPerRequestUs(cpuMsOf(daemon.pid!) - cpu0, f);
      for (const c of clients) c.close();
      return { ...f, cpuUs };
    };
    const runEcho = async (n: number): Promise<Figures & { cpuUs: number }> => {
      const clients = await Promise.all(Array.from({ length: n }, () => BenchClient.connect(echoUrl!)));
      const cpu0 = cpuMsOf(echo.pid!);
      const f = await drive(clients, durationMs, async (c, i, seq) => {
        await c.request({ type: 'checkout', requestId: `co-${n}-${i}-${seq}`, feature: 'bench' });
        await c.request({ type: 'checkin', requestId: `ci-${n}-${i}-${seq}`, leaseId: 'L1' });
        return 0;
      });
      const cpuUs = cpuPerRequestUs(cpuMsOf(echo.pid!) - cpu0, f);
      for (const c of clients) c.close();
      return { ...f, cpuUs };
    };

    let daemonAt100 = 0;
    let echoAt100 = 0;
    for (const n of LEVELS) {
      let d: (Figures & { cpuUs: number }) | undefined;
      let e: (Figures & { cpuUs: number }) | undefined;
      for (let r = 0; r < rounds; r++) {
        const dr = await runDaemon(n);
        if (d === undefined || dr.requestsPerSec > d.requestsPerSec) d = dr;
        const er = await runEcho(n);
        if (e === undefined || er.requestsPerSec > e.requestsPerSec) e = er;
      }
      process.stdout.write(
        `  ${String(n).padStart(3)} clients: daemon ${d!.requestsPerSec.toLocaleString('en-US').padStart(7)} durable requests/s (checkout+checkin), p50 ${d!.p50Ms} ms, p99 ${d!.p99Ms} ms, server CPU ${d!.cpuUs} µs/request, errors ${d!.errors}\n` +
          `               echo   ${e!.requestsPerSec.toLocaleString('en-US').padStart(7)} echoes/s, p50 ${e!.p50Ms} ms, p99 ${e!.p99Ms} ms, server CPU ${e!.cpuUs} µs/request; ratio ${round(d!.requestsPerSec / Math.max(1, e!.requestsPerSec))}\n`,
      );
      out[`daemonRequestsPerSec_${n}`] = d!.requestsPerSec;
      out[`daemonP50Ms_${n}`] = d!.p50Ms;
      out[`daemonP99Ms_${n}`] = d!.p99Ms;
      out[`daemonCpuUsPerRequest_${n}`] = d!.cpuUs;
      out[`daemonErrors_${n}`] = d!.errors;
      out[`echoRequestsPerSec_${n}`] = e!.requestsPerSec;
      out[`echoP50Ms_${n}`] = e!.p50Ms;
      out[`echoP99Ms_${n}`] = e!.p99Ms;
      out[`echoCpuUsPerRequest_${n}`] = e!.cpuUs;
      if (n === 100) {
        daemonAt100 = d!.requestsPerSec;
        echoAt100 = e!.requestsPerSec;
      }
    }
    const fsync = probeFdatasync(dir);
    process.stdout.write(`disk: fdatasync of a 4 KiB append p50 ${fsync.p50Ms} ms, p99 ${fsync.p99Ms} ms (each durable batch waits for one)\n`);
    out['diskFdatasyncP50Ms'] = fsync.p50Ms;
    out['diskFdatasyncP99Ms'] = fsync.p99Ms;
    out['loadAverage1m'] = Math.round(loadavg()[0]! * 100) / 100;
    const ratio = echoAt100 > 0 ? Math.round((daemonAt100 / echoAt100) * 1000) / 1000 : 0;
    process.stdout.write(`ratio to echo at 100 clients: ${ratio} (goal ≥ 0.5)\n`);
    out['ratioToEcho'] = ratio;
    return out;
  } finally {
    for (const c of children) await stopChild(c);
    rmSync(dir, { recursive: true, force: true });
  }
}
