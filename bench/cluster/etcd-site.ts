// The throughput bench's second baseline: a three-member etcd cluster on
// loopback (Debian's `etcd-server`, when installed), each member its own
// process with its own data directory, driven by the same load worker with
// durable puts through etcd's HTTP gateway (POST /v3/kv/put). etcd fsyncs
// its WAL before it acknowledges, as Floe does, so puts/s against
// requests/s compares two replicated, durable logs on the same machine in
// the same run (issue 18: Floe ≥ 5× etcd at 100 clients).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../../test/cluster/free-ports.test-support.ts';
import { sleep } from '../figures.ts';

/** `ms` the three members may take to elect a leader and answer /health. */
const ETCD_START_MS = 20_000;
/** Members of the baseline cluster, as Floe's site has. */
const ETCD_MEMBERS = 3;

/** A running etcd cluster: its client URLs, one per member, and how to stop it. */
export interface EtcdSite {
  readonly clientUrls: string[];
  readonly version: string;
  stop(): void;
}

/** The `etcd` binary's version line, or undefined when it is not installed. */
function etcdVersion(): string | undefined {
  const r = spawnSync('etcd', ['--version'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) return undefined;
  return /etcd Version: (\S+)/.exec(r.stdout)?.[1] ?? 'unknown';
}

/** Starts three etcd members on free loopback ports; undefined when etcd is not installed. */
export async function startEtcd(): Promise<EtcdSite | undefined> {
  const version = etcdVersion();
  if (version === undefined) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'floe-bench-etcd-'));
  const ports = await freePorts(2 * ETCD_MEMBERS);
  const names = Array.from({ length: ETCD_MEMBERS }, (_, i) => `e${i + 1}`);
  const peerUrl = (i: number) => `http://127.0.0.1:${ports[2 * i + 1]}`;
  const clientUrls = names.map((_, i) => `http://127.0.0.1:${ports[2 * i]}`);
  const initialCluster = names.map((n, i) => `${n}=${peerUrl(i)}`).join(',');
  const children: ChildProcess[] = names.map((name, i) =>
    spawn(
      'etcd',
      [
        '--name', name,
        '--data-dir', join(dir, name),
        '--listen-client-urls', clientUrls[i]!,
        '--advertise-client-urls', clientUrls[i]!,
        '--listen-peer-urls', peerUrl(i),
        '--initial-advertise-peer-urls', peerUrl(i),
        '--initial-cluster', initialCluster,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', `floe-bench-${process.pid}`,
        '--logger', 'zap',
        '--log-level', 'error',
      ],
      { stdio: 'ignore' },
    ),
  );
  const stop = () => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const deadline = performance.now() + ETCD_START_MS;
    for (;;) {
      const healthy = await Promise.all(clientUrls.map((u) => fetch(`${u}/health`).then((r) => r.json() as Promise<{ health?: string }>).then((j) => j.health === 'true', () => false)));
      if (healthy.every(Boolean)) break;
      if (performance.now() > deadline) throw new Error(`etcd did not become healthy within ${ETCD_START_MS} ms`);
      await sleep(200);
    }
  } catch (error) {
    stop();
    throw error;
  }
  return { clientUrls, version, stop };
}
