// `floe policy check | set | get` against a real node on loopback (in-process
// runs): check works offline and points at line and column; set --dry-run
// lists what it would refuse and changes nothing; set prints the version last.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN_TOKEN, makeLicenseKey, startTestDaemon, tempDir, WireClient, type TestDaemon } from '../test/daemon/test-daemon.test-support.ts';
import { floe } from './cli-harness.test-support.ts';
import { run as lease } from './lease.ts';
import { run as policy } from './policy.ts';
import { run as status } from './status.ts';

let daemon: TestDaemon;
let dir: string;
let auth: string[];

beforeAll(async () => {
  daemon = await startTestDaemon({ leaseTtlMs: 60_000, heartbeatMs: 20_000 });
  await daemon.installDemoLicense(3);
  dir = tempDir('floe-cli-policy-');
  const tokenFile = join(dir, 'admin-token');
  writeFileSync(tokenFile, `${ADMIN_TOKEN}\n`, { mode: 0o600 });
  auth = ['--admin', daemon.adminUrl, '--token-file', tokenFile];
});

afterAll(async () => {
  await daemon.destroy();
});

describe('floe policy', () => {
  it('check parses a file offline; an error is printed as FILE:LINE:COLUMN: CODE with exit 1', async () => {
    const good = join(dir, 'site.opt');
    writeFileSync(good, '\uFEFF# options\r\nGROUP eng alice bob\r\nRESERVE 1 demo GROUP eng\r\nNOLOG QUEUED\r\n');
    const ok = await floe(policy, 'check', good);
    expect(ok).toMatchObject({ exit: 0, last: `${good}: flexlm-options, 1 rule(s), 1 group(s), 0 host group(s), 0 setting(s)` });
    expect(ok.stderr).toBe(`WARNING: ${good}:4:1: POLICY_IGNORED NOLOG does not concern seats; Floe ignores it\n`);
    const bad = join(dir, 'bad.toml');
    writeFileSync(bad, '[[rules]]\nfeature = "demo"\nmax = "two"\nfor = "user:bob"\n');
    const r = await floe(policy, 'check', bad);
    expect(r.exit).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:1:1: POLICY_SYNTAX max is a whole number`));
    expect(r.stderr).toMatch(/POLICY_INVALID: .* has 1 error/);
  });

  it('set --dry-run lists the leases it would refuse and changes nothing; set prints the new version last; get prints the text', async () => {
    const w = await WireClient.connect(daemon.clientUrl);
    await w.hello('cli-policy-client-1', { user: 'bob' });
    expect(await w.checkout('cli-policy-req-1')).toMatchObject({ ok: true });
    const file = join(dir, 'no-bob.opt');
    writeFileSync(file, 'EXCLUDE demo USER bob\n');
    const dry = await floe(policy, 'set', file, '--dry-run', ...auth);
    expect(dry.exit).toBe(0);
    expect(dry.stdout).toMatch(/checks out: it would be version 1\n {2}would refuse L\d+ \(demo \d+, bob on /);
    expect((await floe(policy, 'get', ...auth)).last).toBe('no policy is set: every seat is free for everyone the keys allow');
    const set = await floe(policy, 'set', file, ...auth);
    expect(set).toMatchObject({ exit: 0, last: '1' });
    expect((await floe(policy, 'get', ...auth)).stdout).toMatch(/^# version 1, flexlm-options, set .*\nEXCLUDE demo USER bob\n$/);
    const stale = await floe(policy, 'set', file, '--expect-version', '0', ...auth);
    expect(stale.exit).toBe(1);
    expect(stale.stderr).toMatch(/^POLICY_VERSION_CONFLICT: /);
    await w.close();
  });

  it('set refuses a file the server finds wrong, printing each problem at its line', async () => {
    const file = join(dir, 'short-ttl.opt');
    writeFileSync(file, 'TIMEOUT demo 1\n');
    const r = await floe(policy, 'set', file, ...auth);
    expect(r.exit).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`short-ttl\\.opt:1:1: POLICY_INVALID a lease ttl of at most 1 s`));
  });
});

describe('floe lease and floe status with a policy and a borrow', () => {
  it("show a borrowed seat and a reserved idle seat apart from the others, and freeing an offline borrower's seat says when it comes back", async () => {
    // Sessions of this daemon end 2 s after their client goes away, so the borrower is soon offline.
    const d = await startTestDaemon();
    try {
      const r = await d.admin('POST', '/licenses', { key: makeLicenseKey([d.lockCode], { seats: 3, licenseId: 'LIC-CAD', product: 'cad', borrowAllowed: true }) });
      expect(r.status).toBe(201);
      const file = join(dir, 'cad.opt');
      writeFileSync(file, 'RESERVE 1 cad USER alice\n');
      const tokenFile = join(dir, 'admin-token');
      const dAuth = ['--admin', d.adminUrl, '--token-file', tokenFile];
      expect(await floe(policy, 'set', file, ...dAuth)).toMatchObject({ exit: 0, last: '1' });
      const w = await WireClient.connect(d.clientUrl);
      await w.hello('cli-borrower-0001', { user: 'dave', host: 'laptop' });
      const b = await w.request({ type: 'borrow', requestId: 'cli-borrow-1', feature: 'cad', hours: 2, fingerprint: 'dave-laptop' });
      expect(b).toMatchObject({ ok: true, feature: 'cad' });
      await w.close();

      const listed = await floe(lease, 'list', '--feature', 'cad', ...dAuth);
      expect(listed.stdout).toMatch(new RegExp(`^${b.leaseId} +cad@1 +1  dave@laptop +since \\S+  borrowed until \\S+$`, 'm'));
      const shown = await floe(status, ...dAuth);
      expect(shown.stdout).toMatch(/cad@1 +concurrent +1\/3 in use \(1 borrowed\), 1 reserved idle, 0 queued/);
      expect(shown.stdout).toContain(`dave@laptop  borrowed until ${new Date(b.expiresAt).toISOString()}`);

      await vi.waitFor(async () => expect((await d.admin('GET', '/sessions')).body).toEqual([]), { timeout: 20_000, interval: 200 });
      const freed = await floe(lease, 'free', b.leaseId, ...dAuth);
      expect(freed.exit).toBe(0);
      expect(freed.last).toBe(b.leaseId);
      expect(freed.stdout).toContain(
        `revoked ${b.leaseId}: The seat is borrowed by a client that is offline: it keeps a valid token until ${new Date(b.expiresAt).toISOString()}. The seat comes back then, or as soon as that client connects to any server.`,
      );
      expect((await floe(lease, 'list', '--feature', 'cad', ...dAuth)).stdout).toMatch(/dave@laptop +since \S+  borrowed, revoked: held until /);
    } finally {
      await d.destroy();
    }
  }, 60_000);
});
