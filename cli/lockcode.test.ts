import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNodeIdentity } from '../daemon/identity/index.ts';
import { deriveLockCode, type LicensePayload, type MachineIdentifiers } from '../protocol/index.ts';
import { makeLicenseKey, VENDOR_PUBLIC_KEY } from '../test/daemon/test-daemon.test-support.ts';
import { floe, removeTempDirs, tempDir } from './cli-harness.test-support.ts';
import { run as lockcode } from './lockcode.ts';

afterEach(removeTempDirs);

/** A key signed by the test vendor naming the lock code DIR's node would have on `machine`. */
function keyFor(dir: string, machine: MachineIdentifiers, overrides: Partial<LicensePayload> = {}): string {
  const identity = loadNodeIdentity(dir);
  return makeLicenseKey([deriveLockCode(machine, identity.publicKey)], overrides);
}

describe('floe lockcode --explain', () => {
  it('shows a key issued before a hostname change still matching (2 of 3 inputs), and one from another machine refused with the inputs that differ', async () => {
    const dir = join(tempDir(), 'n1');
    const here = loadNodeIdentity(dir).machine;
    const renamed = keyFor(dir, { ...here, hostname: `${here.hostname}-old` });
    const ok = await floe(lockcode, '--explain', '--data-dir', dir, '--key', renamed, '--vendor-key', VENDOR_PUBLIC_KEY);
    expect(ok.exit).toBe(0);
    expect(ok.stdout).toMatch(/MATCHES: identity same, machine-id same, MACs same, hostname changed \(2 of 3 agree, 2 needed\)/);
    expect(ok.stdout).toContain('signature valid');
    const elsewhere = keyFor(dir, { machineId: 'another-machine', macs: ['aa:bb:cc:00:00:01'], hostname: here.hostname });
    const no = await floe(lockcode, '--explain', '--data-dir', dir, '--key', elsewhere);
    expect(no.exit).toBe(1);
    expect(no.stdout).toMatch(/no: identity same, machine-id changed, MACs changed, hostname same \(1 of 3 agree, 2 needed\)/);
    expect(no.stdout).toContain('signature not checked');
    expect(no.stderr).toMatch(/^LOCK_CODE_MISMATCH: /);
  });

  it('follows the key\'s exact mode: one changed input is then refused', async () => {
    const dir = join(tempDir(), 'n1');
    const here = loadNodeIdentity(dir).machine;
    const key = keyFor(dir, { ...here, hostname: `${here.hostname}-old` }, { lockMatch: 'exact' });
    const r = await floe(lockcode, '--explain', '--data-dir', dir, '--key', key, '--json');
    expect(r.exit).toBe(1);
    expect(JSON.parse(r.stdout.split('\n')[0]!)).toMatchObject({ mode: 'exact', matches: false, codes: [{ form: 'tolerant', identity: true, inputsNeeded: 3 }] });
  });

  it('compares lock codes given on the command line, of either form, and names the one that matches last', async () => {
    const dir = join(tempDir(), 'n1');
    const identity = loadNodeIdentity(dir);
    const other = loadNodeIdentity(join(tempDir(), 'n2')).lockCode;
    const r = await floe(lockcode, '--explain', '--data-dir', dir, '--lock-code', other, '--lock-code', identity.legacyLockCode.toLowerCase());
    expect(r.exit).toBe(0);
    expect(r.stdout).toContain('another node (its identity differs)');
    expect(r.last).toBe(identity.legacyLockCode);
    const alone = await floe(lockcode, '--explain', '--data-dir', dir);
    expect(alone.last).toBe(identity.lockCode);
    expect(alone.stdout).toContain('hostname');
  });

  it('answers a bad key or bad options with a code and no stack trace', async () => {
    const dir = join(tempDir(), 'n1');
    const bad = await floe(lockcode, '--explain', '--data-dir', dir, '--key', 'FLOE1.garbage');
    expect(bad.exit).toBe(1);
    expect(bad.stderr).toMatch(/^MALFORMED: /);
    const both = await floe(lockcode, '--explain', '--data-dir', dir, '--key', 'x', '--lock-code', 'y');
    expect(both.exit).toBe(2);
    expect((await floe(lockcode, '--data-dir', dir, '--key', 'x')).stderr).toMatch(/^BAD_REQUEST: /);
  });
});

describe('floe lockcode', () => {
  it('prints the lock code as its last line, stable across calls, different per data dir', async () => {
    const root = tempDir();
    const a = await floe(lockcode, '--data-dir', join(root, 'a'));
    expect(a.exit).toBe(0);
    expect(a.last).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){5}$/);
    expect(a.stdout).toMatch(/keys issued before Floe 0\.2 name [0-9A-Z]{5}(-[0-9A-Z]{5}){4}\)/);
    expect((await floe(lockcode, '--data-dir', join(root, 'a'))).last).toBe(a.last);
    expect((await floe(lockcode, '--data-dir', join(root, 'b'))).last).not.toBe(a.last);
    const json = JSON.parse((await floe(lockcode, '--data-dir', join(root, 'a'), '--json')).last) as { lockCode: string; legacyLockCode: string };
    expect(json.lockCode).toBe(a.last);
    expect(json.legacyLockCode).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){4}$/);
  });

  it('answers bad arguments and an unusable data dir with a code and no stack trace', async () => {
    const root = tempDir();
    const file = join(root, 'file');
    writeFileSync(file, 'x');
    const unusable = await floe(lockcode, '--data-dir', file);
    expect(unusable.exit).toBe(1);
    expect(unusable.stderr).toMatch(/^DATA_DIR_UNUSABLE: /);
    const bad = await floe(lockcode, '--nope');
    expect(bad.exit).toBe(2);
    expect(bad.stderr).toMatch(/^BAD_REQUEST: /);
  });
});
