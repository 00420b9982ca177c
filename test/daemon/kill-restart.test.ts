// `floe serve` as a child process: acknowledged leases survive kill -9 and a
// restart (the log is fsynced before any reply), and the restarted node
// restores them from its snapshot plus log.
//
// Written for a loaded two-core machine: every wait is a deadline, not a
// count of short sleeps; leases and sessions live far longer than the test
// may take; every child is stopped, and awaited, whatever happens.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { hashToken } from '../../admin/index.ts';
import { loadNodeIdentity } from '../../daemon/identity/index.ts';
import { ADMIN_TOKEN, makeLicenseKey, tempDir, VENDOR_PUBLIC_KEY, WireClient } from './test-daemon.test-support.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const children = new Set<ChildProcess>();
const dir = tempDir('floe-kill-');

/** `ms` a `floe serve` may take to print its ready line (tsx compiles the sources at start; slow when loaded). */
const SERVE_READY_MS_MAX = 60_000;
/** `ms` a node may take to stop after SIGTERM, or to be reaped after SIGKILL. */
const EXIT_MS_MAX = 20_000;
/** `ms` the leader may take to install the license file after start. */
const LICENSE_INSTALL_MS_MAX = 30_000;
/** `ms` an admin request may take. */
const ADMIN_REQUEST_MS_MAX = 10_000;
/** `ms` between polls of the admin API. */
const POLL_MS = 50;

afterAll(async () => {
  // The data dir goes only once no child can write to it any more.
  await Promise.all([...children].map((c) => stop(c, 'SIGKILL')));
  rmSync(dir, { recursive: true, force: true });
});

/** Resolves with the child's exit code (null after a signal) once it has exited; rejects after `timeoutMs`. */
function exited(child: ChildProcess, timeoutMs = EXIT_MS_MAX): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`pid ${child.pid} did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}

/** Sends `signal` and waits for the exit; a child that ignores it past the limit is SIGKILLed. */
async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  child.kill(signal);
  try {
    return await exited(child);
  } catch (error) {
    child.kill('SIGKILL');
    await exited(child);
    throw error;
  }
}

/** Starts `floe serve` and resolves with its ready line; a child that does not get ready is killed. */
async function serve(configPath: string): Promise<{ child: ChildProcess; clientUrl: string; adminUrl: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'floe.js'), 'serve', '--config', configPath], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const lines = createInterface({ input: child.stdout! });
  try {
    const ready = await new Promise<{ clientUrl: string; adminUrl: string }>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`serve did not start within ${SERVE_READY_MS_MAX} ms: ${stderr}`)), SERVE_READY_MS_MAX);
      lines.on('line', (line) => {
        if (!line.startsWith('{')) return;
        clearTimeout(t);
        resolve(JSON.parse(line) as { clientUrl: string; adminUrl: string });
      });
      child.on('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`serve exited ${code}: ${stderr}`));
      });
    });
    return { child, ...ready };
  } catch (error) {
    await stop(child, 'SIGKILL');
    throw error;
  }
}

async function adminGet(adminUrl: string, path: string): Promise<unknown> {
  const res = await fetch(`${adminUrl}/api/v1${path}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    signal: AbortSignal.timeout(ADMIN_REQUEST_MS_MAX),
  });
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function leasesOf(adminUrl: string): Promise<string[]> {
  return ((await adminGet(adminUrl, '/leases')) as { leaseId: string }[]).map((l) => l.leaseId).sort();
}

/**
 * Waits until the pool of `feature` exists. A checkout before it would be
 * answered UNKNOWN_FEATURE, and a retry with the same requestId gets that
 * first answer again: the test must not check out before the license is in.
 */
async function untilPool(adminUrl: string, feature: string): Promise<void> {
  await vi.waitFor(
    async () => {
      const pools = (await adminGet(adminUrl, '/pools')) as { feature: string }[];
      expect(pools.some((p) => p.feature === feature), `the pool of ${feature} (the license file installed) within ${LICENSE_INSTALL_MS_MAX} ms`).toBe(true);
    },
    { timeout: LICENSE_INSTALL_MS_MAX, interval: POLL_MS },
  );
}

describe('floe serve under kill -9', () => {
  it('keeps every acknowledged lease across kill -9 and restart', async () => {
    const dataDir = join(dir, 'n1');
    const lockCode = loadNodeIdentity(dataDir).lockCode;
    writeFileSync(join(dir, 'demo.license'), `${makeLicenseKey([lockCode], { seats: 50, licenseId: 'LIC-KILL' })}\n`);
    const configPath = join(dir, 'n1.toml');
    writeFileSync(
      configPath,
      [
        'nodeId = "n1"',
        'dataDir = "n1"',
        'clientListen = "127.0.0.1:0"',
        'adminListen = "127.0.0.1:0"',
        `vendorPublicKeys = ["${VENDOR_PUBLIC_KEY}"]`,
        'licenseFiles = ["demo.license"]',
        `adminTokenSha256 = ["${hashToken(ADMIN_TOKEN)}"]`,
        // No heartbeats in this test: leases (and sessions) must outlive the slowest run by far.
        'leaseTtlMs = 600000',
        'heartbeatMs = 10000',
        '[raft]',
        'snapshotEntries = 25',
        '',
      ].join('\n'),
    );

    const first = await serve(configPath);
    // The license file is installed by the leader just after start, maybe after the ready line.
    await untilPool(first.adminUrl, 'demo');
    const clients: WireClient[] = [];
    const acknowledged: string[] = [];
    const sessions: { clientId: string; sessionId: string; sessionSecret: string; leaseIds: string[] }[] = [];
    for (let i = 0; i < 10; i++) {
      const c = await WireClient.connect(first.clientUrl);
      clients.push(c);
      const hello = await c.hello(`client-kill-${i}`);
      const mine: string[] = [];
      for (let k = 0; k < 3; k++) {
        const r = await c.checkout(`req-kill-${i}-${k}`);
        expect(r).toMatchObject({ ok: true, queued: false });
        acknowledged.push(r.leaseId as string);
        mine.push(r.leaseId as string);
      }
      sessions.push({ clientId: `client-kill-${i}`, sessionId: hello.sessionId as string, sessionSecret: hello.sessionSecret as string, leaseIds: mine });
    }
    // Checkouts still in flight when the process dies may or may not survive; acknowledged ones must.
    for (let i = 0; i < 10; i++) clients[i]!.ws.send(JSON.stringify({ id: 1000 + i, type: 'checkout', requestId: `req-kill-late-${i}`, feature: 'demo' }));
    await stop(first.child, 'SIGKILL');
    for (const c of clients) c.ws.terminate();

    const second = await serve(configPath);
    const after = await leasesOf(second.adminUrl);
    for (const l of acknowledged) expect(after).toContain(l);
    // A client resumes its session on the restarted node and finds its leases.
    const c = await WireClient.connect(second.clientUrl);
    const s = sessions[3]!;
    const hello = await c.hello(s.clientId, { sessionId: s.sessionId, sessionSecret: s.sessionSecret });
    expect(hello).toMatchObject({ ok: true, resumed: true });
    // Its acknowledged leases, and maybe the one of its checkout in flight at the kill (committed, not acknowledged).
    const held = (hello.leases as { leaseId: string }[]).map((l) => l.leaseId);
    expect(held.filter((l) => s.leaseIds.includes(l)).sort()).toEqual([...s.leaseIds].sort());
    expect(held.length - s.leaseIds.length).toBeLessThanOrEqual(1);
    // A retried checkout of an acknowledged request gets its first answer.
    const retried = await c.checkout('req-kill-3-0');
    expect(retried.leaseId).toBe(s.leaseIds[0]);
    await c.close();

    expect(await stop(second.child, 'SIGTERM')).toBe(0);
  }, 240_000);
});
