// `npm run bench -- node`: one node's own path for a request, without a
// socket: FloeNode.propose (stamp, encode) → Raft core → one SQLite
// transaction and one WAL fdatasync per Ready → apply to the pool → usage
// rows → the result. 100 concurrent "clients" each run checkout then checkin
// in a closed loop, as the cluster bench's clients do over WebSockets. It
// says how much of a request's cost is the node's log and state machine
// (this figure) and how much is sockets, frames and replication (the cluster
// and daemon benches minus this one). Bounded: ROUNDS rounds of CLIENTS loops.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import nacl from 'tweetnacl';
import { parseConfig } from '../daemon/config.ts';
import { FloeNode } from '../daemon/node/index.ts';
import { formatVendorPublicKey, signLicenseKey, vendorKeyIdOf, type LicensePayload } from '../protocol/index.ts';

/** Concurrent closed loops. */
const CLIENTS = 100;
/** Checkout+checkin pairs per loop per run. */
const PAIRS_PER_CLIENT = 100;
/** Measured runs (after one warm-up run). */
const RUNS = 3;

interface RunFigures {
  requestsPerSec: number;
  cpuUsPerRequest: number;
  requestsPerTransaction: number;
}

export async function run(): Promise<Record<string, unknown>> {
  const vendor = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(7));
  const payload: LicensePayload = {
    v: 1, licenseId: 'bench', authCode: 'AUTH', vendorKeyId: vendorKeyIdOf(vendor.publicKey), product: 'demo', version: '1',
    model: 'concurrent', seats: CLIENTS * 2, components: [], issuedAt: 0, notBefore: 0, lockCodes: ['LOCK'], lingerSeconds: 0, hostsPerUserMax: 1,
  };
  const dir = mkdtempSync(join(tmpdir(), 'floe-bench-node-'));
  const node = await FloeNode.open({ config: parseConfig({ dataDir: dir, vendorPublicKeys: [formatVendorPublicKey(vendor.publicKey)] }), lockCode: 'LOCK' });
  try {
    const imported = await node.importLicense(signLicenseKey(payload, vendor.secretKey));
    if (!imported.ok) throw new Error(`license refused: ${imported.code}`);
    const sessions = Array.from({ length: CLIENTS }, (_, i) => `s${i}`);
    for (const [i, sessionId] of sessions.entries()) {
      await node.propose({ type: 'session-open', sessionId, clientId: `c${i}`, user: `u${i}`, host: `h${i}`, app: 'bench', sessionTtlMs: 3_600_000 });
    }
    const once = async (label: string): Promise<RunFigures> => {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const transactions0 = node.transactionCount;
      await Promise.all(
        sessions.map(async (sessionId, i) => {
          for (let k = 0; k < PAIRS_PER_CLIENT; k++) {
            const co = await node.propose({ type: 'checkout', sessionId, requestId: `${label}-co-${i}-${k}`, feature: 'demo', count: 1, wait: false, leaseTtlMs: 60_000, waitMs: 0 });
            if (!co.reply.ok || co.reply.type !== 'granted') throw new Error(`checkout: ${JSON.stringify(co.reply)}`);
            await node.propose({ type: 'checkin', sessionId, requestId: `${label}-ci-${i}-${k}`, leaseId: co.reply.lease.leaseId });
          }
        }),
      );
      const cpu = process.cpuUsage(cpu0);
      const requests = CLIENTS * PAIRS_PER_CLIENT * 2;
      return {
        requestsPerSec: Math.round((requests * 1000) / (performance.now() - t0)),
        cpuUsPerRequest: Math.round(((cpu.user + cpu.system) / requests) * 10) / 10,
        requestsPerTransaction: Math.round((requests / Math.max(1, node.transactionCount - transactions0)) * 10) / 10,
      };
    };
    await once('warm');
    const runs: RunFigures[] = [];
    for (let r = 0; r < RUNS; r++) {
      const f = await once(`r${r}`);
      runs.push(f);
      process.stdout.write(
        `node: ${CLIENTS} closed loops of checkout+checkin through one node's log, no sockets: ${f.requestsPerSec.toLocaleString('en-US')} requests/s, ` +
          `${f.cpuUsPerRequest} µs of CPU per request (main thread and fsyncs), ${f.requestsPerTransaction} requests per transaction\n`,
      );
    }
    const median = [...runs].sort((a, b) => a.cpuUsPerRequest - b.cpuUsPerRequest)[Math.floor(RUNS / 2)]!;
    process.stdout.write(`node: median ${median.cpuUsPerRequest} µs of CPU per request\n`);
    return { cpuUsPerRequest: median.cpuUsPerRequest, requestsPerSec: median.requestsPerSec, requestsPerTransaction: median.requestsPerTransaction, clients: CLIENTS };
  } finally {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
