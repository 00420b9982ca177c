import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import process from 'node:process';
import { makeLicenseKey, VENDOR_PUBLIC_KEY } from '../test/daemon/test-daemon.test-support.ts';
import { parseConfig } from '../daemon/config.ts';
import { loadNodeIdentity } from '../daemon/identity/index.ts';
import { FloeNode } from '../daemon/node/index.ts';
import { entitle, floe, removeTempDirs, site, tempDir } from './cli-harness.test-support.ts';
import { run as keycenter } from './keycenter.ts';
import { run as license } from './license.ts';

afterEach(removeTempDirs);

describe('floe license check', () => {
  it('init → entitle → activate with this node\'s lock code → check exits 0; another data dir answers LOCK_CODE_MISMATCH', async () => {
    const { root, kc, pub, locks } = await site();
    const [code] = await entitle(kc);
    const act = await floe(keycenter, 'activate', '--dir', kc, '--code', code!, '--lock-code', locks[0]!);
    expect(act.exit).toBe(0);
    const key = act.last;
    const ok = await floe(license, 'check', '--key', key, '--vendor-key', pub, '--data-dir', join(root, 'n1'));
    expect(ok.exit).toBe(0);
    expect(ok.stdout).toContain('valid for this node');
    const other = await floe(license, 'check', '--key', key, '--vendor-key', pub, '--data-dir', join(root, 'n2'));
    expect(other.exit).toBe(1);
    expect(other.stderr).toMatch(/^LOCK_CODE_MISMATCH: /);
    const fresh = join(root, 'never-created');
    const none = await floe(license, 'check', '--key', key, '--vendor-key', pub, '--data-dir', fresh);
    expect(none.stderr).toMatch(/^LOCK_CODE_MISMATCH: /);
    expect(existsSync(fresh)).toBe(false);
  });

  it('a redundant key with three lock codes checks out on each of the three data dirs, and not on a fourth', async () => {
    const { root, kc, pub, locks } = await site();
    const [code] = await entitle(kc);
    const act = await floe(keycenter, 'activate', '--dir', kc, '--code', code!, '--lock-code', locks[0]!, '--lock-code', locks[1]!, '--lock-code', locks[2]!);
    for (const n of ['n1', 'n2', 'n3']) {
      expect((await floe(license, 'check', '--key', act.last, '--vendor-key', pub, '--data-dir', join(root, n))).exit).toBe(0);
    }
    const fourth = await floe(license, 'check', '--key', act.last, '--vendor-key', pub, '--data-dir', join(root, 'n4'));
    expect(fourth.stderr).toMatch(/^LOCK_CODE_MISMATCH: /);
  });

  it('every bad key fails with its code, a human sentence, a non-zero exit and no stack trace', async () => {
    const { root, kc, pub, locks } = await site();
    const other = await site();
    const [code, temp, later] = [
      ...(await entitle(kc)),
      ...(await entitle(kc, '--days', '10')),
      ...(await entitle(kc, '--starts', '2099-01-01')),
    ];
    const activate = async (c: string, l = locks[0]!): Promise<string> =>
      (await floe(keycenter, 'activate', '--dir', kc, '--code', c, '--lock-code', l)).last;
    const key = await activate(code!);
    const [otherCode] = await entitle(other.kc);
    const foreignKey = (await floe(keycenter, 'activate', '--dir', other.kc, '--code', otherCode!, '--lock-code', locks[0]!)).last;
    const garbageFile = join(root, 'garbage.txt');
    writeFileSync(garbageFile, Buffer.alloc(1 << 20, 0x41));
    const emptyFile = join(root, 'empty.txt');
    writeFileSync(emptyFile, '');
    const middle = Math.floor(key.length / 2);
    const flipped = key.slice(0, middle) + String.fromCharCode(key.charCodeAt(middle) ^ 1) + key.slice(middle + 1);
    // The content re-encoded with more seats, under the original signature.
    const [prefix, body, signature] = key.split('.');
    const content = Buffer.from(body!, 'base64url').toString('utf8').replace('"seats":10', '"seats":1000');
    const moreSeats = `${prefix}.${Buffer.from(content).toString('base64url')}.${signature}`;
    const n1 = ['--vendor-key', pub, '--data-dir', join(root, 'n1')];
    const cases: [string[], string][] = [
      [['--key', '', ...n1], 'MALFORMED'],
      [['--key-file', emptyFile, ...n1], 'MALFORMED'],
      [['--key', key.slice(0, -10), ...n1], 'MALFORMED'],
      [['--key-file', garbageFile, ...n1], 'TOO_LARGE'],
      [['--key', 'A'.repeat(1 << 20), ...n1], 'TOO_LARGE'],
      [['--key', flipped, ...n1], '(MALFORMED|SIGNATURE_INVALID)'],
      [['--key', moreSeats, ...n1], 'SIGNATURE_INVALID'],
      [['--key', foreignKey, ...n1], 'UNKNOWN_VENDOR_KEY'],
      [['--key', key.replace('FLOE1.', 'FLOE9.'), ...n1], 'UNSUPPORTED_VERSION'],
      [['--key', await activate(temp!), ...n1, '--at', new Date(Date.now() + 11 * 86_400_000).toISOString()], 'EXPIRED'],
      [['--key', await activate(later!), ...n1], 'NOT_YET_VALID'],
      [['--key', key, '--vendor-key', pub, '--data-dir', join(root, 'n2')], 'LOCK_CODE_MISMATCH'],
      [['--key', key, '--vendor-key', 'ed25519:nonsense', '--data-dir', join(root, 'n1')], 'BAD_REQUEST'],
      [['--key', key, ...n1, '--key-file', emptyFile], 'BAD_REQUEST'],
      [['--key', key, '--data-dir', join(root, 'n1')], 'BAD_REQUEST'],
      [['--key-file', join(root, 'absent'), ...n1], 'BAD_REQUEST'],
      [['--key', key, ...n1, '--at', 'yesterday'], 'BAD_REQUEST'],
    ];
    for (const [args, expected] of cases) {
      const r = await floe(license, 'check', ...args);
      expect(r.exit, expected).not.toBe(0);
      expect(r.stderr, expected).toMatch(new RegExp(`^${expected}: \\S`));
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    // The vendor key may also be given as the path of vendor-key.pub.
    expect((await floe(license, 'check', '--key', key, '--vendor-key', join(kc, 'vendor-key.pub'), '--data-dir', join(root, 'n1'))).exit).toBe(0);
  });

  it('--json prints the verdict as one JSON line, on success and on refusal', async () => {
    const { root, kc, pub, locks } = await site();
    const [code] = await entitle(kc);
    const key = (await floe(keycenter, 'activate', '--dir', kc, '--code', code!, '--lock-code', locks[0]!)).last;
    const ok = await floe(license, 'check', '--key', key, '--vendor-key', pub, '--data-dir', join(root, 'n1'), '--json');
    expect(JSON.parse(ok.last)).toMatchObject({ ok: true, lockCode: locks[0], features: ['stats'] });
    const bad = await floe(license, 'check', '--key', 'x', '--vendor-key', pub, '--data-dir', join(root, 'n1'), '--json');
    expect(JSON.parse(bad.last)).toMatchObject({ ok: false, code: 'MALFORMED' });
  });
});

describe('floe license check on a server whose cluster installed a rehost', () => {
  it('answers SUPERSEDED for the key the installed one superseded, and still passes the new key', async () => {
    const dir = tempDir();
    const lockCode = loadNodeIdentity(dir).lockCode;
    const oldKey = makeLicenseKey([lockCode], { licenseId: 'LIC-OLD' });
    const newKey = makeLicenseKey([lockCode], { licenseId: 'LIC-NEW', supersedes: 'LIC-OLD' });
    const args = ['--vendor-key', VENDOR_PUBLIC_KEY, '--data-dir', dir];
    expect((await floe(license, 'check', '--key', oldKey, ...args)).exit).toBe(0);
    const config = parseConfig({ dataDir: dir, vendorPublicKeys: [VENDOR_PUBLIC_KEY] });
    const node = await FloeNode.open({ config, lockCode });
    try {
      expect(await node.importLicense(oldKey)).toMatchObject({ ok: true });
      expect(await node.importLicense(newKey)).toMatchObject({ ok: true, supersededLicenseId: 'LIC-OLD' });
      // Read while the node runs, and again after it stopped.
      const running = await floe(license, 'check', '--key', oldKey, ...args);
      expect(running.exit).toBe(1);
      expect(running.stderr).toMatch(/^SUPERSEDED: license LIC-OLD was superseded by LIC-NEW/);
    } finally {
      await node.close();
    }
    const stopped = await floe(license, 'check', '--key', oldKey, ...args, '--json');
    expect(JSON.parse(stopped.last)).toMatchObject({ ok: false, code: 'SUPERSEDED' });
    expect((await floe(license, 'check', '--key', newKey, ...args)).exit).toBe(0);
  });
});

describe('the floe command (separate processes)', () => {
  /** Runs `node bin/floe.js …` as a user would. */
  function floeProcess(...argv: string[]): { status: number | null; stdout: string; stderr: string; last: string } {
    const r = spawnSync(process.execPath, ['bin/floe.js', ...argv], { encoding: 'utf8', timeout: 120_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, last: r.stdout.trimEnd().split('\n').at(-1) ?? '' };
  }

  it('init → lockcode → entitle → activate → license check exits 0; another node fails; a bad key fails without a stack trace', async () => {
    const { root } = await site();
    const kc = join(root, 'kc2');
    const pub = floeProcess('keycenter', 'init', '--dir', kc).last;
    const lock = floeProcess('lockcode', '--data-dir', join(root, 'p1')).last;
    floeProcess('lockcode', '--data-dir', join(root, 'p2'));
    const code = floeProcess('keycenter', 'entitle', '--dir', kc, '--product', 'cad', '--version', '3', '--model', 'concurrent', '--seats', '5').last;
    const activated = floeProcess('keycenter', 'activate', '--dir', kc, '--code', code, '--lock-code', lock, '--host-description', 'lab');
    expect(activated.status).toBe(0);
    const good = floeProcess('license', 'check', '--key', activated.last, '--vendor-key', pub, '--data-dir', join(root, 'p1'));
    expect(good.status).toBe(0);
    const elsewhere = floeProcess('license', 'check', '--key', activated.last, '--vendor-key', pub, '--data-dir', join(root, 'p2'));
    expect(elsewhere.status).toBe(1);
    expect(elsewhere.stderr).toMatch(/^LOCK_CODE_MISMATCH: /);
    const garbage = floeProcess('license', 'check', '--key', 'garbage', '--vendor-key', pub, '--data-dir', join(root, 'p1'));
    expect(garbage.status).toBe(1);
    expect(garbage.stderr).toMatch(/^MALFORMED: [^\n]+\n$/);
  }, 300_000); // seven processes, each compiling through tsx on a shared two-core machine
});
