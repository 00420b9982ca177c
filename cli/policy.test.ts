// `floe policy check | set | get` against a real node on loopback (in-process
// runs): check works offline and points at line and column; set --dry-run
// lists what it would refuse and changes nothing; set prints the version last.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestDaemon, tempDir, WireClient, type TestDaemon } from '../test/daemon/helpers.ts';
import { floe } from './cli-harness.ts';
import { run as policy } from './policy.ts';

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
