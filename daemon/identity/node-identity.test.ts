import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { afterEach, describe, expect, it } from 'vitest';
import { parseLockCode, type MachineIdentifiers } from '../../protocol/index.ts';
import { readMachineIdentifiers, readPhysicalMacs } from './machine-identifiers.ts';
import { IDENTITY_FILE_NAME, NodeIdentityError, loadNodeIdentity } from './node-identity.ts';

const machineA: MachineIdentifiers = { machineId: 'aaaa', macs: ['aa:bb:cc:dd:ee:01'], hostname: 'lic-a' };
const machineB: MachineIdentifiers = { machineId: 'bbbb', macs: ['aa:bb:cc:dd:ee:02'], hostname: 'lic-a' };
const onA = { machine: () => machineA };

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(os.tmpdir(), 'floe-identity-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'OK';
  } catch (error) {
    if (error instanceof NodeIdentityError) return error.code;
    throw error;
  }
}

describe('node identity', () => {
  it('loadNodeIdentity() creates the data directory and an owner-only identity file on first use', () => {
    const dataDir = join(tempDir(), 'n1');
    const identity = loadNodeIdentity(dataDir, onA);
    expect(parseLockCode(identity.lockCode).ok).toBe(true);
    expect(statSync(join(dataDir, IDENTITY_FILE_NAME)).mode & 0o777).toBe(0o600);
    expect(identity.publicKey).toHaveLength(32);
  });

  it('the lock code is stable across loads (and so across restarts)', () => {
    const dataDir = tempDir();
    expect(loadNodeIdentity(dataDir, onA).lockCode).toBe(loadNodeIdentity(dataDir, onA).lockCode);
  });

  it('three data directories on one machine have three lock codes', () => {
    const codes = new Set([tempDir(), tempDir(), tempDir()].map((d) => loadNodeIdentity(d, onA).lockCode));
    expect(codes.size).toBe(3);
  });

  it('a data directory copied to another machine has another lock code but the same identity key', () => {
    const dataDir = tempDir();
    const original = loadNodeIdentity(dataDir, onA);
    const copy = join(tempDir(), 'copy');
    cpSync(dataDir, copy, { recursive: true });
    const moved = loadNodeIdentity(copy, { machine: () => machineB });
    expect(moved.publicKey).toEqual(original.publicKey);
    expect(moved.lockCode).not.toBe(original.lockCode);
  });

  it('sign() makes signatures that verify under the identity public key', () => {
    const identity = loadNodeIdentity(tempDir(), onA);
    const message = new TextEncoder().encode('hello peer');
    expect(nacl.sign.detached.verify(message, identity.sign(message), identity.publicKey)).toBe(true);
  });

  it('sign() gives the very signature tweetnacl gives with the key of the identity file', () => {
    const dataDir = tempDir();
    const identity = loadNodeIdentity(dataDir, onA);
    const seed = Buffer.from((JSON.parse(readFileSync(join(dataDir, IDENTITY_FILE_NAME), 'utf8')) as { seed: string }).seed, 'base64url');
    const message = new TextEncoder().encode('floe/peer-upgrade/v1\0{"v":1}');
    expect(Buffer.from(identity.sign(message))).toEqual(Buffer.from(nacl.sign.detached(message, nacl.sign.keyPair.fromSeed(seed).secretKey)));
  });

  it('with create: false, a directory without identity answers IDENTITY_MISSING and writes nothing', () => {
    const dataDir = join(tempDir(), 'absent');
    expect(codeOf(() => loadNodeIdentity(dataDir, { ...onA, create: false }))).toBe('IDENTITY_MISSING');
    expect(() => statSync(dataDir)).toThrow();
  });

  it('a damaged identity file answers IDENTITY_CORRUPT and is left as it was', () => {
    const dataDir = tempDir();
    loadNodeIdentity(dataDir, onA);
    const path = join(dataDir, IDENTITY_FILE_NAME);
    const good = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
    const cases = ['', 'garbage', JSON.stringify({ ...good, seed: 'AAAA' }), JSON.stringify({ ...good, publicKey: 'x' }), 'x'.repeat(10_000)];
    for (const content of cases) {
      writeFileSync(path, content);
      expect(codeOf(() => loadNodeIdentity(dataDir, onA))).toBe('IDENTITY_CORRUPT');
      expect(readFileSync(path, 'utf8')).toBe(content);
    }
  });

  it('a data directory that is a file answers DATA_DIR_UNUSABLE', () => {
    const file = join(tempDir(), 'file');
    writeFileSync(file, 'x');
    expect(codeOf(() => loadNodeIdentity(file, onA))).toBe('DATA_DIR_UNUSABLE');
  });

  it('a data directory that cannot be created answers DATA_DIR_UNUSABLE (even as root)', () => {
    // Root ignores permission bits, so a path under a regular file is the
    // unwritable case that fails for every user.
    const file = join(tempDir(), 'file');
    writeFileSync(file, 'x');
    expect(codeOf(() => loadNodeIdentity(join(file, 'node'), onA))).toBe('DATA_DIR_UNUSABLE');
  });

  it('this machine yields identifiers, and a missing /sys falls back to the OS interface list', () => {
    const machine = readMachineIdentifiers();
    expect(machine.hostname).toBe(os.hostname());
    for (const mac of machine.macs) expect(mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    for (const mac of readPhysicalMacs(join(tempDir(), 'no-sys'))) expect(mac).not.toBe('00:00:00:00:00:00');
  });
});
