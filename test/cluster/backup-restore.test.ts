// Disaster recovery end to end, with real processes (issue 12, item 2):
// three `floe serve` nodes, clients holding seats through the SDK, `floe
// backup` from a live follower, every server SIGKILLed and its data
// directory deleted, `floe restore` of each member from the file (their node
// identities put back from the operator's copy, as on the same machines),
// the nodes started again: the same licenses and the same held leases, and
// the clients resume their sessions and keep their seats past the new
// leader's grace period.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { connect, type ConnectedEvent, type FloeClient, type Lease, type RevokedEvent } from '../../client/index.ts';
import { floe as inProcess } from '../../cli/cli-harness.test-support.ts';
import { run as lease } from '../../cli/lease.ts';
import { run as license } from '../../cli/license.ts';
import { ADMIN_TOKEN } from '../daemon/test-daemon.test-support.ts';
import { ClusterSite } from './cluster-harness.test-support.ts';
import { guardSite, startInForce } from './site-tools.test-support.ts';

const ROOT = join(import.meta.dirname, '..', '..');
/** `ms`: the new leader's grace and the lease TTL of the site; the check waits past both. */
const LEADER_GRACE_MS = 5000;
const LEASE_TTL_MS = 3000;

let site: ClusterSite | undefined;
let unguard = () => {};
const clients: FloeClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  await site?.stop();
  unguard();
});

/** Runs `floe …` as a separate process (never spawnSync: the clients must keep heartbeating meanwhile). */
function floe(cwd: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; last: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'floe.js'), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, last: stdout.trimEnd().split('\n').at(-1) ?? '' });
    });
  });
}

describe('disaster recovery', () => {
  it('floe backup of a live cluster, every server lost, floe restore: the same licenses and held leases, and the clients resume', async () => {
    const s = await ClusterSite.create({
      seats: 10,
      extraToml: [`leaseTtlMs = ${LEASE_TTL_MS}`, 'heartbeatMs = 500', 'renewBatchMs = 50', `leaderGraceMs = ${LEADER_GRACE_MS}`],
    });
    site = s;
    unguard = guardSite(s);
    const leader = await startInForce(s, 15_000);
    const tokenFile = join(s.dir, 'admin-token');
    writeFileSync(tokenFile, `${ADMIN_TOKEN}\n`, { mode: 0o600 });

    // Three clients hold four seats; they know every server, and retry for as long as the recovery takes.
    const urls = s.nodes.map((n) => n.clientUrl);
    const connected: ConnectedEvent[][] = [];
    const revoked: RevokedEvent[] = [];
    const held: Lease[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await connect({ servers: urls, user: `user${i}`, host: `host${i}`, app: 'dr-test', replyTimeoutMs: 3000, backoffBaseMs: 50, backoffMaxMs: 300, reconnectAttemptsMax: 10_000 });
      clients.push(c);
      const events: ConnectedEvent[] = [];
      connected.push(events);
      c.on('connected', (e) => events.push(e));
      c.on('revoked', (e) => revoked.push(e));
      held.push(await c.checkout('demo'));
    }
    held.push(await clients[0]!.checkout('demo'));
    const sessions = clients.map((c) => c.sessionId);

    // The backup, through a follower: any node answers, the cluster goes on.
    const follower = s.nodes.find((n) => n.id !== leader)!;
    const file = join(s.dir, 'site.backup');
    const backup = await floe(s.dir, 'backup', '--out', file, '--admin', follower.adminUrl, '--token-file', tokenFile);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.last).toBe(file);
    expect(backup.stdout).toContain('1 licenses');
    expect(backup.stdout).toContain('4 leases');

    // The disaster: every server killed, every data directory gone. The operator kept each
    // server's node identity (its lock code) with its config, as docs/operations.md says.
    for (const n of s.nodes) copyFileSync(join(s.dir, n.id, 'node-identity.json'), join(s.dir, `${n.id}.identity.json`));
    await Promise.all(s.nodes.map((n) => s.kill(n.id)));
    for (const n of s.nodes) {
      rmSync(join(s.dir, n.id), { recursive: true, force: true });
      mkdirSync(join(s.dir, n.id), { mode: 0o700 });
      copyFileSync(join(s.dir, `${n.id}.identity.json`), join(s.dir, n.id, 'node-identity.json'));
    }

    // The recovery: each member restored from the same file, then all started.
    const restores = await Promise.all(s.nodes.map((n) => floe(s.dir, 'restore', '--backup', file, '--config', n.config, '--json')));
    for (const r of restores) {
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.last)).toMatchObject({ voters: ['n1', 'n2', 'n3'], counts: { licenses: 1, leases: 4 }, licenses: [{ licenseId: 'LIC-SITE', forThisServer: true }] });
    }
    await Promise.all(s.nodes.map((n) => s.start(n.id)));
    const newLeader = await s.leader(30_000);
    const startedAt = Date.now();

    // (The reads run in-process: the same commands, without a process start each.)
    const admin = ['--admin', s.node(newLeader).adminUrl, '--token-file', tokenFile, '--json'];
    const licenses = await inProcess(license, 'list', ...admin);
    expect(licenses.exit, licenses.stderr).toBe(0);
    expect(JSON.parse(licenses.last).map((l: { licenseId: string }) => l.licenseId)).toEqual(['LIC-SITE']);
    const leaseList = async () => {
      const r = await inProcess(lease, 'list', ...admin);
      expect(r.exit, r.stderr).toBe(0);
      return (JSON.parse(r.last) as { leaseId: string }[]).map((l) => l.leaseId).sort();
    };
    expect(await leaseList()).toEqual(held.map((l) => l.leaseId).sort());

    // The clients come back to the same sessions, with their seats.
    await vi.waitFor(() => expect(connected.every((events) => events.some((e) => e.resumed)), 'every client resumed its session').toBe(true), { timeout: 30_000 });
    expect(clients.map((c) => c.sessionId)).toEqual(sessions);
    // Past the new leader's grace and a lease TTL, the seats are still held: the clients renew them.
    await new Promise((r) => setTimeout(r, Math.max(0, startedAt + LEADER_GRACE_MS + LEASE_TTL_MS + 1000 - Date.now())));
    expect(await leaseList()).toEqual(held.map((l) => l.leaseId).sort());
    expect(revoked).toEqual([]);
    expect(clients.flatMap((c) => c.leases().map((l) => l.leaseId)).sort()).toEqual(held.map((l) => l.leaseId).sort());
    // And the restored cluster goes on: a check-in and a new checkout.
    await clients[0]!.checkin(held[0]!);
    const fresh = await clients[1]!.checkout('demo');
    expect(held.map((l) => l.leaseId)).not.toContain(fresh.leaseId);
    expect(await leaseList()).toEqual([...held.slice(1).map((l) => l.leaseId), fresh.leaseId].sort());
  }, 240_000);
});
