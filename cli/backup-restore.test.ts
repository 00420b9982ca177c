// `floe backup` and `floe restore` as a sysadmin runs them (in-process runs
// against a real node on loopback): the file, the value for scripts, the
// refusals and their exit codes. The whole disaster recovery with real
// processes is test/cluster/backup-restore.test.ts.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBackup } from '../daemon/backup/index.ts';
import { ADMIN_TOKEN, makeLicenseKey, startTestDaemon, tempDir, VENDOR_PUBLIC_KEY, WireClient, type TestDaemon } from '../test/daemon/test-daemon.test-support.ts';
import { run as backup } from './backup.ts';
import { floe } from './cli-harness.test-support.ts';
import { run as restore } from './restore.ts';

let daemon: TestDaemon;
let dir: string;
let auth: string[];
let client: WireClient;
let leaseId: string;

beforeAll(async () => {
  daemon = await startTestDaemon({ leaseTtlMs: 60_000, heartbeatMs: 20_000 });
  dir = tempDir('floe-cli-backup-');
  const tokenFile = join(dir, 'admin-token');
  writeFileSync(tokenFile, ADMIN_TOKEN, { mode: 0o600 });
  auth = ['--admin', daemon.adminUrl, '--token-file', tokenFile];
  await daemon.installDemoLicense(5, 'LIC-DEMO');
  client = await WireClient.connect(daemon.clientUrl);
  await client.hello('cli-backup-client-1');
  leaseId = (await client.checkout('req-backup-1'))['leaseId'] as string;
});

afterAll(async () => {
  await client.close();
  await daemon.destroy();
});

function configFor(name: string, dataDir: string, extra = ''): string {
  const path = join(dir, `${name}.toml`);
  writeFileSync(path, `nodeId = "n1"\ndataDir = ${JSON.stringify(dataDir)}\nvendorPublicKeys = [${JSON.stringify(VENDOR_PUBLIC_KEY)}]\n${extra}`);
  return path;
}

describe('floe backup', () => {
  it('writes a checked backup file and prints its path as the last line; --json describes it', async () => {
    const out = join(dir, 'site.backup');
    const r = await floe(backup, '--out', out, ...auth);
    expect(r.exit, r.stderr).toBe(0);
    expect(r.last).toBe(out);
    expect(r.stdout).toMatch(/1 licenses, 1 pools, 1 sessions, 1 leases, \d+ usage rows; members n1/);
    const contents = await readBackup(out);
    expect(contents.header.licenses.map((l) => l.licenseId)).toEqual(['LIC-DEMO']);
    const j = await floe(backup, '--out', join(dir, 'site.backup.gz'), ...auth, '--json');
    expect(JSON.parse(j.last)).toMatchObject({ file: join(dir, 'site.backup.gz'), counts: { licenses: 1, leases: 1 }, membership: { voters: ['n1'] } });
    expect(readFileSync(join(dir, 'site.backup.gz')).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(readdirSync(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('leaves an existing file alone when the backup fails, and says why with a stable code', async () => {
    const out = join(dir, 'kept.backup');
    writeFileSync(out, 'the previous backup\n');
    const down = await floe(backup, '--out', out, '--admin', 'http://127.0.0.1:1', '--token', ADMIN_TOKEN);
    expect(down.exit).toBe(3);
    expect(down.stderr).toMatch(/^UNAVAILABLE: /);
    const forbidden = await floe(backup, '--out', out, '--admin', daemon.adminUrl, '--token', 'wrong-token');
    expect(forbidden.exit).toBe(4);
    expect(readFileSync(out, 'utf8')).toBe('the previous backup\n');
    expect((await floe(backup, ...auth)).exit).toBe(2);
  });
});

describe('floe backup --verify', () => {
  it('checks a backup file without any server: what it holds, how old it is, and its path as the last line', async () => {
    for (const name of ['site.backup', 'site.backup.gz']) {
      const file = join(dir, name);
      const r = await floe(backup, '--verify', file);
      expect(r.exit, r.stderr).toBe(0);
      expect(r.last).toBe(file);
      expect(r.stdout).toMatch(new RegExp(`^${file.replace(/[.]/g, '\\.')} checks out: the cluster's state at index \\d+ \\(term \\d+\\), taken by n1 at \\S+, \\d+ min ago:$`, 'm'));
      expect(r.stdout).toMatch(/1 licenses, 1 pools, 1 sessions, 1 leases, \d+ usage rows; members n1/);
      expect(r.stdout).toContain(`LIC-DEMO (demo 1, 5 seats), locked to ${daemon.lockCode}`);
    }
    const j = await floe(backup, '--verify', join(dir, 'site.backup'), '--max-age-hours', '24', '--json');
    expect(j.exit, j.stderr).toBe(0);
    expect(JSON.parse(j.last)).toMatchObject({ ok: true, counts: { licenses: 1, leases: 1 }, licenses: [{ licenseId: 'LIC-DEMO' }] });
    expect(JSON.parse(j.last).ageMs).toBeLessThan(3_600_000);
  });

  it('refuses an edited, cut short or missing file, and one older than --max-age-hours, with their codes (exit 1)', async () => {
    const text = readFileSync(join(dir, 'site.backup'), 'utf8');
    const variant = (name: string, content: string): string => {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    };
    const cases: [string[], string][] = [
      [['--verify', variant('v-cut.backup', text.slice(0, text.lastIndexOf('{"end"')))], 'BACKUP_TRUNCATED'],
      [['--verify', variant('v-edited.backup', text.replace('"seats":5', '"seats":50'))], 'BACKUP_CHECKSUM_MISMATCH'],
      [['--verify', join(dir, 'absent.backup')], 'BACKUP_UNREADABLE'],
      [['--verify', join(dir, 'site.backup'), '--max-age-hours', '0.000001'], 'BACKUP_TOO_OLD'],
    ];
    for (const [args, code] of cases) {
      const r = await floe(backup, ...args);
      expect(r.exit, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(new RegExp(`^${code}: \\S`));
      expect(r.stdout, args.join(' ')).not.toContain('checks out:');
    }
  });

  it('refuses a file whose checksum holds but whose pool snapshot does not decode, as a restore would (BACKUP_MALFORMED)', async () => {
    const lines = readFileSync(join(dir, 'site.backup'), 'utf8').trimEnd().split('\n');
    const poolBytes = Buffer.from((JSON.parse(lines[1]!) as { pool: string }).pool, 'base64').length;
    const body = [lines[0]!, JSON.stringify({ pool: Buffer.alloc(poolBytes, 0xff).toString('base64') }), ...lines.slice(2, -1)];
    const trailer = JSON.parse(lines.at(-1)!) as { usageRows: number };
    const sha256 = createHash('sha256').update(body.map((l) => `${l}\n`).join('')).digest('hex');
    const forged = join(dir, 'v-forged.backup');
    writeFileSync(forged, `${body.join('\n')}\n${JSON.stringify({ end: true, usageRows: trailer.usageRows, sha256 })}\n`);
    const r = await floe(backup, '--verify', forged);
    expect(r.stderr).toMatch(/^BACKUP_MALFORMED: .*the pool snapshot .* does not decode/);
    expect(r.exit).toBe(1);
  });

  it('wants either --out or --verify, and --max-age-hours only with --verify (exit 2, nothing read)', async () => {
    const file = join(dir, 'site.backup');
    for (const args of [['--verify', file, '--out', join(dir, 'x.backup')], ['--out', join(dir, 'x.backup'), '--max-age-hours', '1', ...auth], ['--verify', file, '--max-age-hours', 'soon'], ['--verify', file, '--max-age-hours', '0']]) {
      const r = await floe(backup, ...args);
      expect(r.exit, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^BAD_REQUEST: /);
    }
    expect(existsSync(join(dir, 'x.backup'))).toBe(false);
  });
});

describe('floe restore', () => {
  it('restores a member into an empty data dir, and warns that a key locked to the old servers needs a rehost', async () => {
    const file = join(dir, 'site.backup');
    const dataDir = join(dir, 'restored');
    const r = await floe(restore, '--backup', file, '--config', configFor('restored', dataDir), '--json');
    expect(r.exit, r.stderr).toBe(0);
    const j = JSON.parse(r.last);
    expect(j).toMatchObject({ nodeId: 'n1', dataDir, voters: ['n1'], counts: { licenses: 1, leases: 1, sessions: 1 }, licenses: [{ licenseId: 'LIC-DEMO', forThisServer: false }] });
    // A new data dir has a new identity, so the key (locked to the backed-up node) does not name it.
    expect(r.stderr).toMatch(new RegExp(`^WARNING: LICENSE_NOT_FOR_THIS_SERVER: LIC-DEMO is locked to ${daemon.lockCode}`, 'm'));
    expect(existsSync(join(dataDir, 'floe.sqlite'))).toBe(true);
    // Once is enough: a data dir that holds a database is never overwritten.
    const again = await floe(restore, '--backup', file, '--config', configFor('restored', dataDir));
    expect(again.exit).toBe(1);
    expect(again.stderr).toMatch(/^RESTORE_TARGET_NOT_EMPTY: /);
    expect(leaseId).toMatch(/^L/);
  });

  it('warns MEMBERS_CHANGED when the config lists other members than the backup (a config not brought up to date after a replacement)', async () => {
    const peer = (id: string, port: number) => `{ id = "${id}", peerUrl = "ws://127.0.0.1:${port}/raft", clientUrl = "ws://127.0.0.1:${port - 200}/ws", publicKey = "${id.repeat(43).slice(0, 43)}" }`;
    const cluster = `\n[cluster]\npeerListen = "127.0.0.1:0"\npeers = [${peer('n1', 7601)}, ${peer('n2', 7602)}, ${peer('n3', 7603)}]\n`;
    const r = await floe(restore, '--backup', join(dir, 'site.backup'), '--config', configFor('three', join(dir, 'three'), cluster));
    expect(r.exit, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^WARNING: MEMBERS_CHANGED: \S+three\.toml lists n1, n2, n3; the backed-up cluster had n1\. /m);
    expect(r.stdout).toContain('members of the new cluster: n1, n2, n3');
    const same = await floe(restore, '--backup', join(dir, 'site.backup'), '--config', configFor('one', join(dir, 'one')));
    expect(same.stderr).not.toContain('MEMBERS_CHANGED');
  });

  it('refuses a file cut short, a missing file, a bad config and missing options, with their codes and exit codes', async () => {
    const text = readFileSync(join(dir, 'site.backup'), 'utf8');
    const cut = join(dir, 'cut.backup');
    writeFileSync(cut, text.slice(0, text.lastIndexOf('{"end"')));
    const cases: [string[], number, string][] = [
      [['--backup', cut, '--config', configFor('c1', join(dir, 'c1'))], 1, 'BACKUP_TRUNCATED'],
      [['--backup', join(dir, 'absent.backup'), '--config', configFor('c2', join(dir, 'c2'))], 1, 'BACKUP_UNREADABLE'],
      [['--backup', cut, '--config', join(dir, 'absent.toml')], 1, 'CONFIG_INVALID'],
      [['--backup', cut], 2, 'BAD_REQUEST'],
    ];
    for (const [args, exit, code] of cases) {
      const r = await floe(restore, ...args);
      expect(r.exit, args.join(' ')).toBe(exit);
      expect(r.stderr, args.join(' ')).toMatch(new RegExp(`^${code}: \\S`));
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(join(dir, 'c1', 'floe.sqlite'))).toBe(false);
  });
});
