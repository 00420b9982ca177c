// The admin commands of `floe` against a real node on loopback (in-process
// runs of each command, as a sysadmin's shell would see them): the value for
// scripts on the last line, --json, the stable codes and exit codes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadNodeIdentity } from '../daemon/identity/index.ts';
import { encodeBase64url } from '../protocol/index.ts';
import { freePorts } from '../test/cluster/cluster-harness.test-support.ts';
import { ADMIN_TOKEN, makeLicenseKey, startTestDaemon, tempDir, WireClient, type TestDaemon } from '../test/daemon/test-daemon.test-support.ts';
import { floe } from './cli-harness.test-support.ts';
import { run as lease } from './lease.ts';
import { run as license } from './license.ts';
import { run as status } from './status.ts';
import { run as usage } from './usage.ts';
import { run as users } from './users.ts';

let daemon: TestDaemon;
let dir: string;
let tokenFile: string;
let keyFile: string;
/** --admin and --token-file of the test daemon. */
let auth: string[];

beforeAll(async () => {
  daemon = await startTestDaemon({ leaseTtlMs: 60_000, heartbeatMs: 20_000 });
  dir = tempDir('floe-cli-admin-');
  tokenFile = join(dir, 'admin-token');
  writeFileSync(tokenFile, `${ADMIN_TOKEN}\n`, { mode: 0o600 });
  keyFile = join(dir, 'cad.license');
  writeFileSync(keyFile, `${makeLicenseKey([daemon.lockCode], { licenseId: 'LIC-CAD', product: 'cad', seats: 3, expiresAt: Date.now() + 40.5 * 86_400_000 })}\n`);
  auth = ['--admin', daemon.adminUrl, '--token-file', tokenFile];
});

afterAll(async () => {
  await daemon.destroy();
});

describe('floe license import | list | remove', () => {
  it('import prints the license id as the last line; a second import answers LICENSE_EXISTS with exit 1', async () => {
    const r = await floe(license, 'import', '--key-file', keyFile, ...auth);
    expect(r).toMatchObject({ exit: 0, last: 'LIC-CAD', stderr: '' });
    const again = await floe(license, 'import', '--key-file', keyFile, ...auth, '--json');
    expect(again.exit).toBe(1);
    expect(again.stderr).toMatch(/^LICENSE_EXISTS: \S/);
    expect(JSON.parse(again.last)).toMatchObject({ error: { code: 'LICENSE_EXISTS' } });
  });

  it('list shows each key with its days to expiry; --json gives daysLeft', async () => {
    const r = await floe(license, 'list', ...auth);
    expect(r.exit).toBe(0);
    expect(r.stdout).toMatch(/LIC-CAD\s+active\s+cad 1\s+concurrent\s+3 {2}\d{4}-\d{2}-\d{2} \(40 days left\)/);
    const j = await floe(license, 'list', ...auth, '--json');
    expect(JSON.parse(j.last)).toEqual([expect.objectContaining({ licenseId: 'LIC-CAD', seats: 3, daysLeft: 40 })]);
  });

  it('a key that is not for this node is refused with its code and changes nothing', async () => {
    const other = join(dir, 'other.license');
    writeFileSync(other, makeLicenseKey(['SOME-OTHER-LOCK-CODE'], { licenseId: 'LIC-OTHER' }));
    const r = await floe(license, 'import', '--key-file', other, ...auth);
    expect(r.exit).toBe(1);
    expect(r.stderr).toMatch(/^LOCK_CODE_MISMATCH: /);
    expect(JSON.parse((await floe(license, 'list', ...auth, '--json')).last).map((l: { licenseId: string }) => l.licenseId)).toEqual(['LIC-CAD']);
  });
});

describe('floe lease list | free, floe usage', () => {
  it('lists a held lease, frees it with a reason, and usage shows a force-checkin with that reason (table, --json, --csv)', async () => {
    const client = await WireClient.connect(daemon.clientUrl);
    try {
      expect(await client.hello('cli-admin-client-1', { user: '=alice', host: 'ws-1' })).toMatchObject({ ok: true });
      const granted = await client.checkout('req-cli-1', { feature: 'cad' });
      expect(granted).toMatchObject({ ok: true });
      const leaseId = granted['leaseId'] as string;
      const listed = await floe(lease, 'list', '--feature', 'cad', ...auth);
      expect(listed.exit).toBe(0);
      expect(listed.stdout).toContain(`${leaseId}`);
      expect(listed.stdout).toContain('=alice@ws-1');
      expect(JSON.parse((await floe(lease, 'list', '--feature', 'nothing', ...auth, '--json')).last)).toEqual([]);
      const freed = await floe(lease, 'free', leaseId, '--reason', 'left, for the day', ...auth);
      expect(freed).toMatchObject({ exit: 0, last: leaseId });
      const gone = await floe(lease, 'free', leaseId, ...auth);
      expect(gone.exit).toBe(1);
      expect(gone.stderr).toMatch(/^LEASE_NOT_FOUND: /);
      const rows = JSON.parse((await floe(usage, '--feature', 'cad', ...auth, '--json')).last) as { kind: string; leaseId: string; reason: string }[];
      expect(rows.filter((u) => u.leaseId === leaseId).map((u) => [u.kind, u.reason])).toEqual([
        ['checkout', ''],
        ['force-checkin', 'left, for the day'],
      ]);
      const table = await floe(usage, '--feature', 'cad', ...auth);
      expect(table.stdout).toMatch(/force-checkin +cad@1 +=alice@ws-1 +L\d+ +"left, for the day"/);
      const csv = await floe(usage, '--feature', 'cad', '--from', '2000-01-01', ...auth, '--csv');
      const records = csv.stdout.split('\r\n');
      expect(records[0]).toBe('time,kind,feature,version,user,host,clientId,count,leaseId,waitedMs,code,reason,logIndex');
      // A user name a spreadsheet would run as a formula is written as text; a comma is quoted.
      expect(records.find((r) => r.includes(',force-checkin,'))).toMatch(new RegExp(`^\\S+Z,force-checkin,cad,1,'=alice,ws-1,[^,]+,1,${leaseId},0,,"left, for the day",\\d+$`));
      const none = await floe(usage, '--feature', 'cad', '--to', '2000-01-01', ...auth, '--json');
      expect(JSON.parse(none.last)).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('bad dates and limits are BAD_REQUEST (exit 2) before anything is sent', async () => {
    for (const args of [['--from', '2025-02-30'], ['--from', 'yesterday'], ['--from', '2025-03-02', '--to', '2025-03-01'], ['--limit', '0'], ['--limit', '20000']]) {
      const r = await floe(usage, ...args, '--admin', 'http://127.0.0.1:1', '--token', 'x');
      expect(r.exit, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^BAD_REQUEST: /);
    }
  });
});

describe('floe users set | list', () => {
  it('names the users of an authorized-user pool, who can then check out; more than its seats exits 1 with USERS_EXCEED_SEATS', async () => {
    const named = join(dir, 'named.license');
    writeFileSync(named, makeLicenseKey([daemon.lockCode], { licenseId: 'LIC-NAMED', product: 'stats', model: 'authorized-user', seats: 2 }));
    expect((await floe(license, 'import', '--key-file', named, ...auth)).last).toBe('LIC-NAMED');
    const client = await WireClient.connect(daemon.clientUrl);
    try {
      expect(await client.hello('cli-users-client-1', { user: 'alice', host: 'ws-2' })).toMatchObject({ ok: true });
      expect(await client.checkout('req-users-1', { feature: 'stats' })).toMatchObject({ ok: false, error: { code: 'NOT_AUTHORIZED_USER' } });
      const set = await floe(users, 'set', '--feature', 'stats', 'alice', 'bob', ...auth);
      expect(set.exit).toBe(0);
      expect(set.stdout).toBe('stats@1: 2 of 2 named, 0 holding a seat\n  alice\n  bob\n');
      expect(await client.checkout('req-users-2', { feature: 'stats' })).toMatchObject({ ok: true });
      expect(JSON.parse((await floe(users, 'list', '--feature', 'stats', ...auth, '--json')).last)).toEqual({ feature: 'stats', version: '1', users: ['alice', 'bob'], seatsTotal: 2, seatsInUse: 1 });
      const tooMany = await floe(users, 'set', '--feature', 'stats', 'alice', 'bob', 'carol', ...auth);
      expect(tooMany.exit).toBe(1);
      expect(tooMany.stderr).toMatch(/^USERS_EXCEED_SEATS: /);
      expect((await floe(users, 'set', '--feature', 'stats', ...auth)).exit).toBe(2);
      expect((await floe(users, 'list', '--feature', 'cad', ...auth)).stderr).toMatch(/^POOL_NOT_AUTHORIZED_USER: /);
      expect(await floe(users, 'set', '--feature', 'stats', '--none', ...auth)).toMatchObject({ exit: 0, stdout: 'stats@1: 0 of 2 named, 0 holding a seat\n' });
    } finally {
      await client.close();
    }
  });
});

describe('tokens and exit codes', () => {
  it('takes the token from --token-file, FLOE_ADMIN_TOKEN or --token; a wrong one exits 4, none exits 2, no server exits 3', async () => {
    expect((await floe(license, 'list', '--admin', daemon.adminUrl, '--token', ADMIN_TOKEN)).exit).toBe(0);
    vi.stubEnv('FLOE_ADMIN_TOKEN', ADMIN_TOKEN);
    vi.stubEnv('FLOE_ADMIN_URL', daemon.adminUrl);
    try {
      expect((await floe(license, 'list')).exit).toBe(0);
      // A flag wins over the variable.
      const wrong = await floe(license, 'list', '--token', 'not-the-token');
      expect(wrong.exit).toBe(4);
      expect(wrong.stderr).toMatch(/^FORBIDDEN: /);
    } finally {
      vi.unstubAllEnvs();
    }
    const none = await floe(license, 'list', '--admin', daemon.adminUrl);
    expect(none.exit).toBe(2);
    expect(none.stderr).toMatch(/^BAD_REQUEST: no admin token/);
    const both = await floe(license, 'list', '--admin', daemon.adminUrl, '--token', 'a', '--token-file', tokenFile);
    expect(both.exit).toBe(2);
    const empty = join(dir, 'empty-token');
    writeFileSync(empty, '\n');
    expect((await floe(license, 'list', '--admin', daemon.adminUrl, '--token-file', empty)).stderr).toMatch(/^BAD_REQUEST: the admin token from .* is empty/);
    const down = await floe(license, 'list', '--admin', 'http://127.0.0.1:1', '--token-file', tokenFile, '--json');
    expect(down.exit).toBe(3);
    expect(down.stderr).toMatch(/^UNAVAILABLE: cannot reach the admin API at http:\/\/127\.0\.0\.1:1/);
    expect(JSON.parse(down.last)).toMatchObject({ error: { code: 'UNAVAILABLE' } });
    expect((await floe(license, 'frobnicate')).exit).toBe(2);
    expect((await floe(lease, 'free', ...auth)).stderr).toMatch(/^BAD_REQUEST: give exactly one LEASE_ID/);
  });
});

describe('floe status', () => {
  it('shows the node, its licenses with days to expiry, pools and leases; --json carries them', async () => {
    const r = await floe(status, ...auth);
    expect(r.exit).toBe(0);
    expect(r.stdout).toMatch(/^node n1: leader, term \d+, applied index \d+, leader n1$/m);
    expect(r.stdout).toMatch(/LIC-CAD .* expires \d{4}-\d{2}-\d{2} \(in 40 days\)/);
    expect(r.stdout).toMatch(/cad@1 +concurrent +0\/3 in use, 0 queued/);
    const j = JSON.parse((await floe(status, ...auth, '--json')).last);
    expect(j).toMatchObject({ leader: 'n1', stale: false });
    expect(j.licenses).toContainEqual(expect.objectContaining({ licenseId: 'LIC-CAD', daysLeft: 40 }));
    expect(j.pools).toContainEqual(expect.objectContaining({ feature: 'cad', seatsTotal: 3 }));
  });

  it('remove prints the license id; removing it again answers LICENSE_NOT_FOUND', async () => {
    expect(await floe(license, 'remove', 'LIC-CAD', ...auth)).toMatchObject({ exit: 0, last: 'LIC-CAD' });
    const again = await floe(license, 'remove', 'LIC-CAD', ...auth);
    expect(again.exit).toBe(1);
    expect(again.stderr).toMatch(/^LICENSE_NOT_FOUND: /);
  });
});

describe('floe status on a node without a leader', () => {
  it('says NO LEADER and shows the node\'s own state instead of failing', async () => {
    const root = tempDir('floe-cli-noleader-');
    const ports = await freePorts(3);
    const ids = ['n1', 'n2', 'n3'].map((id) => ({ id, key: encodeBase64url(loadNodeIdentity(join(root, id)).publicKey) }));
    const lonely = await startTestDaemon(
      {
        nodeId: 'n1',
        cluster: {
          peerListen: `127.0.0.1:${ports[0]}`,
          peers: ids.map(({ id, key }, i) => ({ id, peerUrl: `ws://127.0.0.1:${ports[i]}/raft`, clientUrl: `ws://127.0.0.1:${ports[i]}/ws`, publicKey: key })),
        },
      },
      join(root, 'n1'),
    );
    try {
      const r = await floe(status, '--admin', lonely.adminUrl, '--token-file', tokenFile);
      expect(r.exit).toBe(0);
      expect(r.stdout).toMatch(/^node n1: \S+, term \d+, applied index \d+, leader NONE$/m);
      expect(r.stdout).toMatch(/NO LEADER: this node hears no leader now/);
      expect(JSON.parse((await floe(status, '--admin', lonely.adminUrl, '--token-file', tokenFile, '--json')).last)).toMatchObject({ leader: null, stale: true });
      // Commands that need the leader still fail, with the code that says to retry.
      const listed = await floe(lease, 'list', '--admin', lonely.adminUrl, '--token-file', tokenFile);
      expect(listed.exit).toBe(3);
      expect(listed.stderr).toMatch(/^UNAVAILABLE: /);
    } finally {
      await lonely.destroy();
    }
  });
});
