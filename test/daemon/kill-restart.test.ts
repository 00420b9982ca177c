// `floe serve` as a child process: acknowledged leases survive kill -9 and a
// restart (the log is fsynced before any reply), and the restarted node
// restores them from its snapshot plus log.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../admin/index.ts';
import { loadNodeIdentity } from '../../daemon/identity/index.ts';
import { ADMIN_TOKEN, makeLicenseKey, tempDir, VENDOR_PUBLIC_KEY, WireClient } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const children = new Set<ChildProcess>();
const dir = tempDir('floe-kill-');

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `floe serve` and resolves with its ready line. */
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
  const ready = await new Promise<{ clientUrl: string; adminUrl: string }>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 20_000);
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return;
      clearTimeout(t);
      resolve(JSON.parse(line) as { clientUrl: string; adminUrl: string });
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
  return { child, ...ready };
}

async function leasesOf(adminUrl: string): Promise<string[]> {
  const res = await fetch(`${adminUrl}/api/v1/leases`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return ((await res.json()) as { leaseId: string }[]).map((l) => l.leaseId).sort();
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
        'leaseTtlMs = 30000',
        'heartbeatMs = 10000',
        '[raft]',
        'snapshotEntries = 25',
        '',
      ].join('\n'),
    );

    const first = await serve(configPath);
    // The license file is installed by the leader just after start.
    const clients: WireClient[] = [];
    const acknowledged: string[] = [];
    const sessions: { clientId: string; sessionId: string; leaseIds: string[] }[] = [];
    for (let i = 0; i < 10; i++) {
      const c = await WireClient.connect(first.clientUrl);
      clients.push(c);
      const hello = await c.hello(`client-kill-${i}`);
      const mine: string[] = [];
      for (let k = 0; k < 3; k++) {
        let r = await c.checkout(`req-kill-${i}-${k}`);
        for (let tries = 0; !r.ok && r.error.code === 'UNKNOWN_FEATURE' && tries < 50; tries++) {
          await new Promise((res) => setTimeout(res, 50));
          r = await c.checkout(`req-kill-${i}-${k}`);
        }
        expect(r).toMatchObject({ ok: true, queued: false });
        acknowledged.push(r.leaseId as string);
        mine.push(r.leaseId as string);
      }
      sessions.push({ clientId: `client-kill-${i}`, sessionId: hello.sessionId as string, leaseIds: mine });
    }
    // Checkouts still in flight when the process dies may or may not survive; acknowledged ones must.
    for (let i = 0; i < 10; i++) clients[i]!.ws.send(JSON.stringify({ id: 1000 + i, type: 'checkout', requestId: `req-kill-late-${i}`, feature: 'demo' }));
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    for (const c of clients) c.ws.terminate();

    const second = await serve(configPath);
    const after = await leasesOf(second.adminUrl);
    for (const l of acknowledged) expect(after).toContain(l);
    // A client resumes its session on the restarted node and finds its leases.
    const c = await WireClient.connect(second.clientUrl);
    const s = sessions[3]!;
    const hello = await c.hello(s.clientId, { sessionId: s.sessionId });
    expect(hello).toMatchObject({ ok: true, resumed: true });
    expect((hello.leases as { leaseId: string }[]).map((l) => l.leaseId).sort()).toEqual([...s.leaseIds].sort());
    // A retried checkout of an acknowledged request gets its first answer.
    const retried = await c.checkout('req-kill-3-0');
    expect(retried.leaseId).toBe(s.leaseIds[0]);
    await c.close();

    second.child.kill('SIGTERM');
    const code = await new Promise((r) => second.child.once('exit', r));
    expect(code).toBe(0);
  });
});
